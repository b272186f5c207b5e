"""The lessons' facts (notebooks/course.py), read from the notebooks, and the
first cell of every lesson after the first: `checks.ready_for_lesson(N)` stops
the lesson with one sentence unless the earlier lessons wrote what it needs.
No kernel: each test calls course.py on a copy of the project."""

import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import course
from helpers import COURSE, LESSONS, ROOT, copy_project, has_tag


def test_the_lessons_are_the_numbered_notebooks_in_order():
    assert [lesson.path for lesson in COURSE] == LESSONS
    assert [lesson.number for lesson in COURSE] == list(range(1, len(LESSONS) + 1))


def test_each_lesson_knows_its_title_exercises_and_files():
    first = COURSE[0]
    assert (first.title, str(first)) == (
        "Hello world",
        "lesson 1 (01_hello_world.ipynb)",
    )
    for lesson in COURSE:
        cells = nbformat.read(lesson.path, as_version=4).cells
        exercises = {c.id: c.source for c in cells if has_tag(c, "exercise")}
        assert list(lesson.exercises.items()) == list(exercises.items())  # in order
        assert lesson.title in cells[1].source.splitlines()[0]
    written = {name for lesson in COURSE for name in lesson.writes}
    assert written == {path.name for path in (ROOT / "server").glob("*.py")}


def test_a_lesson_after_the_first_starts_with_the_ready_check():
    for lesson in COURSE[1:]:
        (first, *_) = [
            c for c in nbformat.read(lesson.path, 4).cells if c.cell_type == "code"
        ]
        assert first.source == (
            f"import checks\n\nchecks.ready_for_lesson({lesson.number})"
        )


LESSON_1_APP = """from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello world"
"""
EVENING_ONLY_APP = LESSON_1_APP.replace('"/"', '"/evening"').replace(
    "Hello world", "Good evening"
)
LESSON_2 = "run lesson 2 (02_good_evening.ipynb)"
NEEDS_LESSON_1 = (
    "server/__init__.py is missing or broken:"
    " run lesson 1 (01_hello_world.ipynb) first."
)

# A lesson, what is in a file in server/ (None: the file is missing), and the
# sentence the lesson stops with.
SKIPPED = {
    "2: no __init__.py": (2, "__init__.py", None, NEEDS_LESSON_1),
    "2: empty __init__.py": (2, "__init__.py", "\n", NEEDS_LESSON_1),
    "2: broken __init__.py": (
        2,
        "__init__.py",
        "from server.app import",
        NEEDS_LESSON_1,
    ),
    "3: empty __init__.py": (3, "__init__.py", "", NEEDS_LESSON_1),
    "3: lesson 1's app.py": (
        3,
        "app.py",
        LESSON_1_APP,
        f"server/app.py has no /evening route yet: {LESSON_2} first.",
    ),
    "3: no app.py": (
        3,
        "app.py",
        None,
        f"server/app.py is missing or broken: {LESSON_2} first.",
    ),
    "3: empty app.py": (
        3,
        "app.py",
        "",
        f"server/app.py is empty or broken (it defines no app): {LESSON_2} first.",
    ),
    "3: app.py that raises": (
        3,
        "app.py",
        "app = Flask(__name__)\n",
        "server/app.py is empty or broken (NameError: name 'Flask' is not defined):"
        f" {LESSON_2} first.",
    ),
    "3: app.py with a syntax error": (
        3,
        "app.py",
        "app = Flask(\n",
        "server/app.py is empty or broken (SyntaxError: '(' was never closed"
        f" (app.py, line 1)): {LESSON_2} first.",
    ),
    "3: app.py without a home page": (
        3,
        "app.py",
        EVENING_ONLY_APP,
        f"server/app.py does not answer GET / with 'Hello world': {LESSON_2} again.",
    ),
    "3: app.py with another home page": (
        3,
        "app.py",
        (ROOT / "server" / "app.py")
        .read_text(encoding="utf-8")
        .replace("Hello world", "Hi"),
        f"server/app.py does not answer GET / with 'Hello world': {LESSON_2} again.",
    ),
}


@pytest.fixture
def project(tmp_path):
    """A copy of the lessons and server/, where tests may break server/."""
    return copy_project(tmp_path)


def ready_for_lesson(project, number):
    """checks.ready_for_lesson(number), as the copy's lessons would call it."""
    return course.ready_for_lesson(number, folder=project / "notebooks")


@pytest.mark.parametrize(
    ("lesson", "name", "text", "sentence"), list(SKIPPED.values()), ids=list(SKIPPED)
)
def test_a_skipped_lesson_stops_with_one_sentence(
    lesson, name, text, sentence, project
):
    file = project / "server" / name
    if text is None:
        file.unlink()
    else:
        file.write_text(text, encoding="utf-8")
    with pytest.raises(course.LessonSkipped) as skipped:
        ready_for_lesson(project, lesson)
    assert str(skipped.value) == sentence
    assert skipped.value._render_traceback_() == [sentence]  # all Jupyter shows


def server_modules():
    """The server package's modules Python has imported, by name."""
    return {
        name: module
        for name, module in sys.modules.items()
        if name == "server" or name.startswith("server.")
    }


@pytest.mark.parametrize(
    ("lesson", "ready"),
    [
        (2, "Ready: lesson 1 has written server/."),
        (3, "Ready: lessons 1 and 2 have written server/."),
    ],
)
def test_a_lesson_whose_files_are_in_place_is_ready(lesson, ready, project, capsys):
    modules, files = server_modules(), sorted((project / "server").iterdir())
    ready_for_lesson(project, lesson)
    assert capsys.readouterr() == (f"{ready}\n", "")
    assert server_modules() == modules  # app.py was run on its own, not imported
    assert sorted((project / "server").iterdir()) == files  # and left nothing behind


def test_lesson_2_does_not_need_lesson_1s_app_py(project, capsys):
    (project / "server" / "app.py").write_text("", encoding="utf-8")
    ready_for_lesson(project, 2)
    assert capsys.readouterr().out == "Ready: lesson 1 has written server/.\n"


def test_an_unknown_lesson_is_our_mistake(project):
    with pytest.raises(ValueError):
        ready_for_lesson(project, len(COURSE) + 1)


def test_a_new_lesson_needs_what_every_lesson_before_it_wrote(project, capsys):
    """Lesson N+1, added as a notebook alone, needs no line of code elsewhere."""
    number = len(COURSE) + 1
    notebook = new_notebook(
        cells=[
            new_markdown_cell(f"# {number}. More: another lesson"),
            new_code_cell(f"import checks\n\nchecks.ready_for_lesson({number})"),
        ]
    )
    nbformat.write(notebook, project / "notebooks" / f"{number:02d}_more.ipynb")
    ready_for_lesson(project, number)
    # The last lesson to write each file: an earlier one it rewrote is not needed.
    last = {name: lesson.number for lesson in COURSE for name in lesson.writes}
    wrote = [str(number) for number in sorted(set(last.values()))]
    listed = ", ".join(wrote[:-1]) + " and " + wrote[-1]
    assert capsys.readouterr().out == f"Ready: lessons {listed} have written server/.\n"
    assert course.lessons(project / "notebooks")[-1].title == "More"


def test_no_test_process_builds_the_web_address_grammars():
    """pytest loads tools/fast_nbformat.py before nbmake imports nbformat
    (pyproject.toml), so that jsonschema, which nbformat imports, never builds
    rfc3987_syntax's grammars here: 3 s for each worker."""
    assert "nbformat" in sys.modules and "jsonschema" in sys.modules
    assert sys.modules["rfc3987_syntax"] is None
