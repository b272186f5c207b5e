"""`make lessons` (tools/author.py) does a maintainer's chores, on scratch copies.

The story: a maintainer adds a second Route exercise to lesson 2 (`/night`) and
a lesson 4 with one Route exercise, writing only their cells and one line each
in checks.py; `make lessons` gives the cells ids, the exercises their starters,
runs every lesson and saves it; then the copy's own mistakes table
(tests/test_checks.py) runs there, rows for the new exercises included.
"""

import importlib.util
import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from conftest import PROJECT_FILES, ROOT

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
]  # and conftest's
PYTEST_SECONDS = 300


def scratch_copy(destination):
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in COPIED:
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    for name in sorted({*FILES, *PROJECT_FILES}):
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


NIGHT_STARTER = (
    "from flask import Flask\n\npractice = Flask(__name__)\n\n\n"
    '@practice.route("/about")\ndef about_me():\n    return "About this server"\n\n\n'
    '# Your turn: add a route for "/night" that answers "Good night".'
)
NIGHT = NIGHT_STARTER.rsplit("\n", 1)[0] + (
    '\n@practice.route("/night")\ndef night():\n    return "Good night"\n'
)
THANKS_STARTER = (
    "from flask import Flask\n\npractice = Flask(__name__)\n\n\n"
    '# Your turn: give practice a route for "/thanks" that answers "Thank you".'
)
THANKS = THANKS_STARTER.rsplit("\n", 1)[0] + (
    '\n@practice.route("/thanks")\ndef thanks():\n    return "Thank you"\n'
)


def add_night(project):
    path = project / "notebooks" / "02_good_evening.ipynb"
    notebook = nbformat.read(path, as_version=4)
    after = (
        next(
            i
            for i, cell in enumerate(notebook.cells)
            if "checks.check_prediction" in cell.source
        )
        - 2
    )  # before the prediction's text and exercise cell
    what = "add a route for `/night` that answers `Good night`."
    notebook.cells[after:after] = exercise_cells(
        what, NIGHT_STARTER, NIGHT, "check_night"
    )
    nbformat.write(notebook, path)
    declare(
        project, "check_morning = ", 'check_night = Route("", "/night", "Good night")'
    )


def add_lesson_4(project):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        new_markdown_cell(
            "< [3. Run the server](03_run_the_server.ipynb) | [Contents](../README.md)"
        ),
        new_markdown_cell("# 4. Thanks: a page that says thank you\n\nOne more page."),
        new_code_cell("import checks\n\nchecks.ready_for_lesson(4)"),
        new_code_cell(
            'from server import app\n\nprint(app.test_client().get("/").text)'
        ),
        *exercise_cells(
            "give practice a route for `/thanks`.",
            THANKS_STARTER,
            THANKS,
            "check_thanks",
        ),
        new_markdown_cell(
            "< [3. Run the server](03_run_the_server.ipynb) | [Contents](../README.md)"
        ),
    ]
    notebook.metadata = nbformat.read(
        project / "notebooks" / "03_run_the_server.ipynb", as_version=4
    ).metadata
    nbformat.write(notebook, project / "notebooks" / "04_thanks.ipynb")
    with (project / "notebooks" / "checks.py").open("a", encoding="utf-8") as checks:
        checks.write(
            "\n\n# Lesson 4: thanks.\n"
            'check_thanks = Route("", "/thanks", "Thank you")\n'
        )


def declare(project, before, line):
    path = project / "notebooks" / "checks.py"
    text = path.read_text(encoding="utf-8")
    at = text.index("\n", text.index(before)) + 1
    path.write_text(text[:at] + line + "\n" + text[at:], encoding="utf-8")


def cells(project, lesson):
    return json.loads((project / "notebooks" / lesson).read_text(encoding="utf-8"))[
        "cells"
    ]


def files(project):
    return {
        p: p.read_bytes()
        for p in sorted((project / "notebooks").glob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def authored(tmp_path_factory):
    """The scratch copy after the maintainer's cells and `make lessons`; what
    it said, and what else it said needs a word."""
    project = scratch_copy(tmp_path_factory.mktemp("maintainer"))
    git(project, "init", "-q")  # a clone, as published
    git(project, "add", ".")
    git(project, "commit", "-qm", "published")
    add_night(project)
    add_lesson_4(project)
    said = []
    todo = author.author(project, said.append)
    return project, said, todo


@pytest.mark.lessons
def test_new_cells_get_new_ids_of_their_lesson_and_checks_py_names_them(authored):
    project, said, _ = authored
    ids = [cell["id"] for cell in cells(project, "02_good_evening.ipynb")]
    published = [
        cell.id
        for cell in nbformat.read(ROOT / "notebooks/02_good_evening.ipynb", 4).cells
    ]
    new = [i for i in ids if i not in published]
    assert new == ["02-25", "02-26", "02-27", "02-28", "02-29"]  # after 02-24, the last
    assert [cell["id"] for cell in cells(project, "04_thanks.ipynb")] == [
        f"04-{n:02d}" for n in range(10)
    ]
    checks = (project / "notebooks" / "checks.py").read_text(encoding="utf-8")
    assert 'check_night = Route("02-26", "/night", "Good night")' in checks
    assert 'check_thanks = Route("04-05", "/thanks", "Thank you")' in checks


@pytest.mark.lessons
def test_new_exercises_keep_their_code_as_starter_and_show_not_attempted(authored):
    project, _, _ = authored
    night = {cell["id"]: cell for cell in cells(project, "02_good_evening.ipynb")}
    assert "".join(night["02-26"]["metadata"]["starter"]) == NIGHT_STARTER
    assert "".join(night["02-26"]["source"]) == NIGHT_STARTER
    shown = "".join("".join(out["text"]) for out in night["02-27"]["outputs"])
    assert shown.startswith("Not attempted: add a route for /night to practice")
    thanks = {cell["id"]: cell for cell in cells(project, "04_thanks.ipynb")}
    assert "".join(thanks["04-03"]["outputs"][0]["text"]) == "Hello world\n"
    assert (
        "metadata" in thanks["04-05"] and "execution" not in thanks["04-05"]["metadata"]
    )


@pytest.mark.lessons
def test_it_says_what_else_needs_a_word(authored):
    _, _, todo = authored
    assert todo == [
        "README.md: no line for lesson 4 (04_thanks.ipynb) in its list of lessons"
        " (a link to notebooks/04_thanks.ipynb)",
        ".site/index.md: no line for lesson 4 (04_thanks.ipynb) in its list of"
        " lessons (a link to notebooks/04_thanks.ipynb)",
        "02_good_evening.ipynb says 'last lesson', and 04_thanks.ipynb is new: say"
        " which lesson",
        "03_run_the_server.ipynb: its first Markdown cell (the navigation line) does"
        " not link to 04_thanks.ipynb",
        "03_run_the_server.ipynb: its last Markdown cell (the navigation line) does"
        " not link to 04_thanks.ipynb",
        "04_thanks.ipynb: no picture from notebooks/images/ (with alt text)",
    ]


@pytest.mark.lessons
def test_run_again_it_changes_nothing(authored):
    project, _, _ = authored
    before = files(project)
    said = []
    author.author(project, said.append)
    assert files(project) == before
    assert said == ["Running the lessons in order, each in a fresh kernel: 4 lessons."]


@pytest.mark.lessons
def test_the_new_exercises_checks_and_mistakes_pass_in_the_copy(authored):
    """The copy's own tests/test_checks.py: every exercise's rows, /night's
    and /thanks' among them (the FIRST row once met another's history)."""
    project, _, _ = authored
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_checks.py",
            "-v",
            "-p",
            "no:cacheprovider",
        ],
        cwd=project,
        capture_output=True,
        encoding="utf-8",
        timeout=PYTEST_SECONDS,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    for row in ["night: check before the exercise", "thanks: a missing colon"]:
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
