"""The lessons are the source of truth for server/: the two must agree."""

import nbformat
import pytest

from helpers import COURSE, LESSONS, ROOT


def exports():
    """Each exported file's text as the last lesson to write it leaves it
    (notebooks/course.py reads the %%writefile cells).

    Returns {file name: (lesson, text)}. %%writefile saves the cell below its
    first line, ending with a newline.
    """
    exported = {}
    for lesson in COURSE:
        for name, text in lesson.writes.items():
            exported[name] = (lesson.path, text if text.endswith("\n") else text + "\n")
    return exported


def test_no_lesson_appends_to_a_file_in_server():
    for lesson in LESSONS:
        for cell in nbformat.read(lesson, as_version=4).cells:
            assert not cell.source.startswith("%%writefile -"), lesson.name


EXPORTS = exports()


def test_the_lessons_export_the_whole_package():
    assert set(EXPORTS) == {"__init__.py", "app.py", "__main__.py"}


def test_every_file_in_server_is_written_by_a_lesson():
    files = {p.name for p in (ROOT / "server").iterdir() if p.is_file()}
    assert files == set(EXPORTS)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_server_file_matches_its_last_export(name):
    lesson, text = EXPORTS[name]
    on_disk = (ROOT / "server" / name).read_text(encoding="utf-8")
    assert on_disk == text, (
        f"server/{name} differs from what {lesson.name} writes: "
        "edit the notebook and run it, not the file"
    )


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_file_names_the_notebook_to_edit(name):
    lesson, text = EXPORTS[name]
    assert text.splitlines()[0] == (
        f"# Generated from notebooks/{lesson.name}: edit the notebook, not this file."
    )
