"""`make lessons` (tools/author.py) does a maintainer's chores, on scratch copies.

The story: a maintainer adds a second Route exercise to lesson 2 (`/night`) and
a lesson 4 with one Route exercise, writing only their cells and one line each
in checks.py; `make lessons` gives the cells ids, the exercises their starters,
runs every lesson and saves it; then the copy's own mistakes table
(tests/test_checks.py) runs there, rows for the new exercises included.
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from helpers import COURSE, PROJECT_FILES, ROOT, markdown_cells

spec = importlib.util.spec_from_file_location("author", ROOT / "tools" / "author.py")
author = importlib.util.module_from_spec(spec)
spec.loader.exec_module(author)

# What a maintainer's scratch copy needs to author lessons and run the tests.
COPIED = ["notebooks", "server", "tests", "tools", ".site"]
FILES = [
    "lessons.py",
    "pyproject.toml",
    "README.md",
    "CONTRIBUTING.md",
]  # and helpers.PROJECT_FILES
PYTEST_SECONDS = 300


def scratch_copy(destination):
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in COPIED:
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    for name in sorted({*FILES, *PROJECT_FILES}):  # such as requirements/dev.in
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)
    return destination


def solution(code):
    return f"<details><summary>Solution</summary>\n\n```python\n{code}```\n\n</details>"


def exercise_cells(what, starter, answer, check):
    """The cells a maintainer writes for one exercise, with no ids of ours
    (nbformat gives each a random one, as JupyterLab does)."""
    cells = [
        new_markdown_cell(f"**Your turn:** {what}"),
        new_code_cell(starter),
        new_code_cell(f"import checks\n\nchecks.{check}()"),
        new_markdown_cell("<details><summary>Hint</summary>\n\nA route.\n\n</details>"),
        new_markdown_cell(solution(answer)),
    ]
    for cell, tag in zip(
        cells[1:], ["exercise", "check", "hint", "solution"], strict=True
    ):
        cell.metadata["tags"] = [tag]
    return cells


def free(word):
    """`word`, or word2, word3...: no exercise of checks.py has that name yet (so
    that this story still works once someone has really added a /night)."""
    declared = (ROOT / "notebooks" / "checks.py").read_text(encoding="utf-8")
    words = [word, *(f"{word}{n}" for n in range(2, 100))]
    return next(w for w in words if f"check_{w} =" not in declared)


NIGHT, THANKS = free("night"), free("thanks")  # the two new exercises
SECOND, LAST = COURSE[1], COURSE[-1]  # lesson 2, and the lesson before the new one
NEW = f"{LAST.number + 1:02d}_thanks.ipynb"
NIGHT_STARTER = (
    "from flask import Flask\n\npractice = Flask(__name__)\n\n\n"
    f'@practice.route("/about")\ndef about_{NIGHT}():\n    return "About this server"'
    f'\n\n\n# Your turn: add a route for "/{NIGHT}" that answers "Good night".'
)
NIGHT_SOLVED = NIGHT_STARTER.rsplit("\n", 1)[0] + (
    f'\n@practice.route("/{NIGHT}")\ndef {NIGHT}():\n    return "Good night"\n'
)
THANKS_STARTER = (
    "from flask import Flask\n\npractice = Flask(__name__)\n\n\n"
    f'# Your turn: give practice a route for "/{THANKS}" that answers "Thank you".'
)
THANKS_SOLVED = THANKS_STARTER.rsplit("\n", 1)[0] + (
    f'\n@practice.route("/{THANKS}")\ndef {THANKS}():\n    return "Thank you"\n'
)


def add_night(project):
    """A second route exercise in lesson 2, before its closing sections, and its
    line in checks.py after the line of lesson 2's first exercise."""
    path = project / "notebooks" / SECOND.path.name
    notebook = nbformat.read(path, as_version=4)
    closing = ("## Key points", "## What you did")
    at = next(
        i for i, cell in enumerate(notebook.cells) if cell.source.startswith(closing)
    )
    what = f"add a route for `/{NIGHT}` that answers `Good night`."
    notebook.cells[at:at] = exercise_cells(
        what, NIGHT_STARTER, NIGHT_SOLVED, f"check_{NIGHT}"
    )
    nbformat.write(notebook, path)
    first = next(iter(SECOND.exercises))
    declare(
        project, f'("{first}"', f'check_{NIGHT} = Route("", "/{NIGHT}", "Good night")'
    )


def add_lesson(project):
    """A new last lesson: its notebook, with one route exercise, no navigation
    (make lessons writes it) and no cell ids, and its line."""
    number = LAST.number + 1
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        new_markdown_cell(
            f"# {number}. Thanks: a page that says thank you\n\nOne more."
        ),
        new_code_cell(f"import checks\n\nchecks.ready_for_lesson({number})"),
        new_code_cell(
            'from server import app\n\nprint(app.test_client().get("/").text)'
        ),
        *exercise_cells(
            f"give practice a route for `/{THANKS}`.",
            THANKS_STARTER,
            THANKS_SOLVED,
            f"check_{THANKS}",
        ),
        new_markdown_cell("## What you did\n\nYou said thank you."),
    ]
    notebook.metadata = nbformat.read(LAST.path, as_version=4).metadata
    # Written as a maintainer who edits the JSON by hand may: cells without ids.
    written = json.loads(nbformat.writes(notebook))
    for cell in written["cells"]:
        del cell["id"]
    path = project / "notebooks" / NEW
    path.write_text(json.dumps(written, indent=1), encoding="utf-8")
    with (project / "notebooks" / "checks.py").open("a", encoding="utf-8") as checks:
        checks.write(
            f"\n\n# Lesson {number}: thanks.\n"
            f'check_{THANKS} = Route("", "/{THANKS}", "Thank you")\n'
        )


def declare(project, after, line):
    """Put `line` into checks.py below the line that contains `after`."""
    path = project / "notebooks" / "checks.py"
    text = path.read_text(encoding="utf-8")
    at = text.index("\n", text.index(after)) + 1
    path.write_text(text[:at] + line + "\n" + text[at:], encoding="utf-8")


def cells(project, lesson):
    path = project / "notebooks" / lesson
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def files(project):
    found = sorted((project / "notebooks").glob("*"))
    return {path: path.read_bytes() for path in found if path.is_file()}


@pytest.fixture(scope="module")
def authored(tmp_path_factory):
    """The scratch copy (a git clone, as a maintainer's is) after the
    maintainer's cells and `make lessons`; what it said, and what else needs a
    word."""
    project = scratch_copy(tmp_path_factory.mktemp("maintainer"))
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-qm", "published")
    add_night(project)
    add_lesson(project)
    said = []
    todo = author.author(project, said.append)
    return project, said, todo


def new_cells(project):
    """The ids of lesson 2's new cells, and of the new lesson's cells."""
    published = [cell.id for cell in nbformat.read(SECOND.path, 4).cells]
    ids = [cell["id"] for cell in cells(project, SECOND.path.name)]
    return [i for i in ids if i not in published], [
        cell["id"] for cell in cells(project, NEW)
    ]


@pytest.mark.lessons
def test_new_cells_get_new_ids_of_their_lesson_and_checks_py_names_them(authored):
    project, _, _ = authored
    cells_now = nbformat.read(SECOND.path, 4).cells
    numbers = [int(re.match(r"\d+-(\d+)", cell.id)[1]) for cell in cells_now]
    after = max(numbers) + 1  # the number after the last of lesson 2
    second, lesson = new_cells(project)
    assert second == [f"02-{n:02d}" for n in range(after, after + 5)]
    assert lesson == [f"{NEW[:2]}-{n:02d}" for n in range(10)]
    checks = (project / "notebooks" / "checks.py").read_text(encoding="utf-8")
    assert f'check_{NIGHT} = Route("{second[1]}", "/{NIGHT}", "Good night")' in checks
    assert f'check_{THANKS} = Route("{lesson[5]}", "/{THANKS}", "Thank you")' in checks


@pytest.mark.lessons
def test_new_exercises_keep_their_code_as_starter_and_show_not_attempted(authored):
    project, _, _ = authored
    (_, exercise, check, *_), lesson = new_cells(project)
    night = {cell["id"]: cell for cell in cells(project, SECOND.path.name)}
    assert "".join(night[exercise]["metadata"]["starter"]) == NIGHT_STARTER
    assert "".join(night[exercise]["source"]) == NIGHT_STARTER
    shown = "".join("".join(out["text"]) for out in night[check]["outputs"])
    assert shown.startswith(f"Not attempted: add a route for /{NIGHT} to practice")
    thanks = {cell["id"]: cell for cell in cells(project, NEW)}
    assert "".join(thanks[lesson[3]]["outputs"][0]["text"]) == "Hello world\n"
    assert "execution" not in thanks[lesson[5]]["metadata"]


@pytest.mark.lessons
def test_it_says_what_else_needs_a_word(authored):
    _, _, todo = authored
    listed = f"no line for lesson {LAST.number + 1} ({NEW}) in its list of lessons"
    expected = [
        f"README.md: {listed} (a link to notebooks/{NEW})",
        f".site/index.md: {listed} (a link to notebooks/{NEW})",
        f"{NEW}: no picture from notebooks/images/ (with alt text)",
    ]
    assert [line for line in expected if line not in todo] == []
    assert [line for line in todo if NIGHT in line or "ruff" in line] == []
    says_last = [
        lesson.path.name
        for lesson in COURSE
        if re.search(r"\b(last|final) lesson\b", "".join(markdown_cells(lesson.path)))
    ]
    assert says_last == [line.split()[0] for line in todo if " says " in line]


@pytest.mark.lessons
def test_the_new_lesson_and_the_one_before_get_their_navigation_lines(authored):
    """First cell, and the end of the last Markdown cell: the lesson before,
    the contents, the next; after the new last lesson, the README's serving."""
    project, _, _ = authored
    contents, before = "[Contents](../README.md)", COURSE[-2]
    back = f"< [{LAST.number}. {LAST.title}]({LAST.path.name})"
    lines = {
        LAST.path.name: f"< [{before.number}. {before.title}]({before.path.name})"
        f" | {contents} | [{LAST.number + 1}. Thanks]({NEW}) >",
        NEW: f"{back} | {contents} | [Serving it for real]"
        "(../README.md#serving-it-for-real) >",
    }
    for lesson, line in lines.items():
        markdown = [c for c in cells(project, lesson) if c["cell_type"] == "markdown"]
        assert "".join(markdown[0]["source"]) == line
        assert "".join(markdown[-1]["source"]).endswith(f"\n\n---\n{line}")
    said = authored[1]
    assert f"{NEW}: its navigation lines written" in said


@pytest.mark.lessons
def test_run_again_it_changes_nothing(authored):
    """What it writes besides a run's outputs (ids, starters, navigation,
    checks.py's ids) stays; the outputs of a fresh run are the saved ones is
    tests/test_lessons.py's test, on the lessons themselves."""
    project, _, _ = authored
    before = files(project)
    said = []
    author.prepare(project, said.append)
    assert files(project) == before
    assert said == []


@pytest.mark.lessons
def test_the_new_exercises_checks_and_mistakes_pass_in_the_copy(authored):
    """The copy's own tests/test_checks.py for the new exercises: /night's and
    /thanks' rows, in kernels they share with the rows of the exercises beside
    them, as in a whole run (the FIRST row once met another's history)."""
    project, _, _ = authored
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_checks.py", "-v"]
        + ["-p", "no:cacheprovider", "-k", f"{NIGHT} or {THANKS}"],
        cwd=project,
        capture_output=True,
        encoding="utf-8",
        timeout=PYTEST_SECONDS,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    for row in [f"{NIGHT}: check before the exercise", f"{THANKS}: a missing colon"]:
        assert f"[{row}] PASSED" in result.stdout


def test_it_refuses_lessons_with_answers(tmp_path):
    project = scratch_copy(tmp_path)
    path = project / "notebooks" / "01_hello_world.ipynb"
    notebook = nbformat.read(path, as_version=4)
    exercise = next(
        c for c in notebook.cells if "exercise" in c.metadata.get("tags", [])
    )
    exercise.source += (
        '\n\n@practice.route("/about")\ndef about_me():\n    return "Me"\n'
    )
    nbformat.write(notebook, path)
    before = files(project)
    with pytest.raises(
        author.Stop, match=r"01_hello_world.ipynb, cell 01-15: the exercise"
    ):
        author.author(project, print)
    assert files(project) == before


def git(where, *args):
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        cwd=where,
        check=True,
        capture_output=True,
    )


def test_a_removed_cells_id_is_never_given_again(tmp_path):
    """From git history: 01-02 was removed in a commit; a new cell, and a cell
    that takes 01-02 back, get 01-03 and 01-04."""
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "01_a.ipynb"
    notebook = nbformat.v4.new_notebook(
        cells=[new_markdown_cell(str(n)) for n in range(3)]
    )
    for n, cell in enumerate(notebook.cells):
        cell.id = f"01-{n:02d}"
    git(tmp_path, "init", "-q")
    nbformat.write(notebook, path)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "three cells")
    del notebook.cells[2]
    nbformat.write(notebook, path)
    git(tmp_path, "commit", "-qam", "01-02 removed")
    notebook.cells += [new_markdown_cell("new"), new_markdown_cell("reused")]
    notebook.cells[-1].id = "01-02"
    said = []
    published = author.published_ids(tmp_path)
    author.give_ids({path: notebook}, published, said.append)
    assert [cell.id for cell in notebook.cells] == ["01-00", "01-01", "01-03", "01-04"]
    assert published == ({"01-00", "01-01", "01-02"}, {"01-00", "01-01"})
    assert said[0].startswith("01_a.ipynb: new cell ids 01-03 (was ")
    assert said[0].endswith(", 01-04 (was 01-02)")


def test_without_git_it_says_which_ids_it_could_not_see(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[new_markdown_cell("new")])
    said = []
    author.give_ids({tmp_path / "01_a.ipynb": notebook}, None, said.append)
    assert notebook.cells[0].id == "01-00"
    assert said[0].startswith("No git history here: new ids avoid the ids of the")
