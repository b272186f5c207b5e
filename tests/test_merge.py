"""The rules of `make update`'s merge (lessons.merge_lesson), one by one, on
small notebooks made here, and the contract it rests on: a cell's id never
changes meaning. The learner-copy story (tests/test_learner_copy.py) checks
the wiring with real git; these need neither git nor a kernel.

    base:   the lesson as published when the learner got it
    mine:   the learner's copy, answers and added cells in it
    theirs: the newest published lesson
"""

import json
import re
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import lessons
from helpers import COURSE, ROOT, has_tag

STARTER = "# Your turn: give practice a route for /about."
ANSWER = '@practice.route("/about")\ndef about():\n    return "About this server"'
CHECK = "import checks\n\nchecks.check_about()"
NAME = "01_lesson.ipynb"


def lesson(text="# 1. A lesson", starter=STARTER, check=CHECK):
    """A published lesson: a text cell, an exercise, its check."""
    cells = [
        new_markdown_cell(text, id="01-01"),
        new_code_cell(starter, id="01-02", metadata={"tags": ["exercise"]}),
        new_code_cell(check, id="01-03", metadata={"tags": ["check"]}),
    ]
    return new_notebook(cells=cells)


def answered(notebook, code=ANSWER, verdict="Correct: GET /about answers."):
    """The learner's copy: `code` in the exercise, the check's line printed."""
    exercise, check = notebook.cells[1], notebook.cells[2]
    exercise.source = code
    check.outputs = [new_output("stream", name="stdout", text=verdict + "\n")]
    return notebook


def as_bytes(notebook):
    return nbformat.writes(notebook).encode()


@pytest.fixture
def merge():
    """merge(base, mine, theirs) -> (the merged notebook, the notes)."""

    def _merge(base, mine, theirs):
        notes = []
        merged = lessons.merge_lesson(
            as_bytes(base), as_bytes(mine), as_bytes(theirs), NAME, notes
        )
        return nbformat.reads(merged.decode(), as_version=4), notes

    return _merge


def sources(notebook):
    return [cell.source for cell in notebook.cells]


def test_an_answered_exercise_is_kept_with_what_it_printed(merge):
    merged, notes = merge(lesson(), answered(lesson()), lesson(text="# 1. New text"))
    assert sources(merged) == ["# 1. New text", ANSWER, CHECK]
    assert merged.cells[2].outputs[0].text == "Correct: GET /about answers.\n"
    assert notes == []


def test_an_exercise_left_alone_takes_the_new_starter(merge):
    merged, _ = merge(lesson(), lesson(), lesson(starter="# A new starter."))
    assert sources(merged)[1] == "# A new starter."


def test_every_other_published_cell_is_taken(merge):
    mine = answered(lesson())
    mine.cells[0].source = "# 1. A lesson, with my scribbles"
    merged, _ = merge(lesson(), mine, lesson(text="# 1. New text"))
    assert sources(merged)[0] == "# 1. New text"


def test_a_changed_check_drops_the_old_verdict(merge):
    theirs = lesson(check=CHECK + "  # changed")
    merged, _ = merge(lesson(), answered(lesson()), theirs)
    assert (merged.cells[2].source, merged.cells[2].outputs) == (
        theirs.cells[2].source,
        [],
    )


def test_added_cells_stay_after_the_cell_they_followed(merge):
    mine = answered(lesson())
    mine.cells.insert(0, new_markdown_cell("My title note", id="mine-0"))
    mine.cells.insert(3, new_code_cell("1 / 0", id="mine-1"))
    merged, _ = merge(lesson(), mine, lesson(text="# 1. New text"))
    assert sources(merged) == ["My title note", "# 1. New text", ANSWER, "1 / 0", CHECK]


def test_an_exercise_changed_on_both_sides_keeps_mine_and_says_so(merge):
    merged, notes = merge(lesson(), answered(lesson()), lesson(starter="# New."))
    assert sources(merged)[1] == ANSWER
    assert notes == [
        f"{NAME}, exercise 1: the lesson changed this exercise too, and your code"
        " was kept: run the lesson to check it."
    ]


def test_the_merge_is_a_valid_notebook_without_conflict_markers(merge):
    merged, _ = merge(lesson(), answered(lesson()), lesson(starter="# New."))
    nbformat.validate(merged)
    assert "<<<<<<<" not in nbformat.writes(merged)


def test_a_lesson_that_is_not_json_is_replaced_and_the_learner_told():
    notes = []
    theirs = as_bytes(lesson())
    broken = b"<<<<<<< Updated upstream\n" + theirs + b"=======\n>>>>>>> Stash\n"
    assert lessons.merge_lesson(theirs, broken, theirs, NAME, notes) == theirs
    assert notes == [
        f"{NAME} could not be read as a notebook, so the new version replaces it:"
        " copy your answers back from the backup."
    ]


def test_a_lesson_without_cell_ids_is_left_as_it_is_and_the_learner_told(merge):
    """Cells have ids from nbformat 4.5 on; a copy saved as 4.4 has none."""
    old = json.loads(nbformat.writes(answered(lesson())))
    old["nbformat_minor"] = 4
    for cell in old["cells"]:
        del cell["id"]
    mine, notes = json.dumps(old).encode(), []
    theirs = as_bytes(lesson(text="# 1. New text"))
    assert lessons.merge_lesson(theirs, mine, theirs, NAME, notes) == mine
    assert notes == [
        f"{NAME} was not updated (its cells have no ids): to get the new version,"
        " run make reset LESSON=1."
    ]


# The contract: a cell id names one cell for good. update matches cells by id,
# so an exercise renumbered or reused under another's id would keep a learner's
# answer beside the wrong starter, with no warning.


def exercises_by_id(text):
    """{id: the check function of the cell after it, such as "check_about"}, for
    each exercise cell of a lesson."""
    cells = nbformat.reads(text, as_version=4).cells
    return {
        cell.id: re.search(r"checks\.(\w+)\(", following.source)[1]
        for cell, following in zip(cells, cells[1:], strict=False)
        if has_tag(cell, "exercise") and "id" in cell
    }


def published_lessons():
    """Every version of every lesson in the history of notebooks/, oldest first."""
    try:
        log = subprocess.run(
            ["git", "log", "--reverse", "--format=%H", "--", "notebooks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            encoding="utf-8",
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        log = []
    if not log:
        pytest.skip(
            "no git history here (a ZIP download, say): the published versions"
            " of the lessons are in a clone"
        )
    wanted = "".join(
        f"{commit}:notebooks/{lesson.path.name}\n"
        for commit in log
        for lesson in COURSE
    )
    batch = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=ROOT,
        input=wanted.encode(),
        capture_output=True,
        check=True,
    ).stdout
    versions = []
    while batch:
        header, batch = batch.split(b"\n", 1)
        if header.endswith(b" missing"):
            continue
        size = int(header.split()[2])
        versions.append(batch[:size].decode())
        batch = batch[size + 1 :]
    return versions


def test_an_exercise_id_never_names_another_exercise():
    now = {}
    for lesson in COURSE:
        now.update(exercises_by_id(lesson.path.read_text(encoding="utf-8")))
    for version in published_lessons():
        for cell_id, check in exercises_by_id(version).items():
            assert now.get(cell_id, check) == check, (
                f"cell id {cell_id} was the exercise that {check} checks; it must"
                " keep naming it, or be gone: give a new exercise a new id"
            )
