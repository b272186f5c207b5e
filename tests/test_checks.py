"""The exercises and their checks (notebooks/checks.py) agree.

In the lessons, an exercise cell (tagged `exercise`) holds starter code, a check
cell (tagged `check`) calls one function from checks.py, and a solution cell
(tagged `solution`) shows an answer in a ```python block. Here the lessons' own
solutions pass their checks, untouched starters are "Not attempted", and typical
wrong answers each get their own advice, in one line on stdout and nothing on
stderr. The code runs in a namespace set up like the lesson's kernel.
"""

import importlib.util
import logging
import sys
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from conftest import LESSON, ROOT, check_cells, copy_project, exercises, solutions


def load_checks(project=ROOT):
    """notebooks/checks.py from `project`, loaded as a module of its own."""
    spec = importlib.util.spec_from_file_location(
        "checks", project / "notebooks" / "checks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checks = load_checks()


@pytest.fixture
def kernel(app, monkeypatch, caplog):
    """What the cells above a lesson's exercises have defined, as a namespace.

    Any practice_server that the code run in it starts is stopped afterwards.
    """
    monkeypatch.setitem(sys.modules, "checks", checks)  # for `import checks`
    caplog.set_level(logging.WARNING, logger="werkzeug")  # as lesson 3 does
    namespace = {
        "__name__": "__main__",
        "checks": checks,  # lessons 2 and 3 import it in their first cell
        "app": app,  # every lesson has `app`, the server package's app
        "threading": threading,  # lesson 3 imports these three
        "make_server": make_server,
        "requests": requests,
    }
    yield namespace
    server, thread = namespace.get("practice_server"), namespace.get("practice_thread")
    if isinstance(thread, threading.Thread) and thread.is_alive():
        server.shutdown()
        thread.join(timeout=5)
    if hasattr(server, "server_close"):
        server.server_close()  # also when it was made but never started


def printed(capsys, kernel, code):
    """Run a cell's code; the one line it printed, with nothing on stderr."""
    capsys.readouterr()  # only what this cell prints
    exec(code, kernel)
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith("\n") and out.count("\n") == 1, f"not one line: {out!r}"
    return out.removesuffix("\n")


# Every exercise: its lesson, which of the lesson's exercises it is, and what its
# check prints for the lesson's own solution and for the untouched starter code.
EXERCISES = [
    pytest.param(
        "01_hello_world",
        0,
        "Correct: GET /about answers 'About this server'.",
        "Not attempted: give practice a route for /about, then run this cell again.",
        id="about",
    ),
    pytest.param(
        "02_good_evening",
        0,
        "Correct: GET /morning answers 'Good morning'.",
        "Not attempted: add a route for /morning to practice,"
        " then run this cell again.",
        id="morning",
    ),
    pytest.param(
        "02_good_evening",
        1,
        "Correct: GET /Evening answers 404 Not Found: routes match letter for letter,"
        " so /Evening is not /evening.",
        "Not attempted: replace ... with your guess, then run this cell again.",
        id="prediction",
    ),
    pytest.param(
        "03_run_the_server",
        0,
        "Correct: practice_server answers GET /about with 'About this server'"
        " over HTTP.",
        "Not attempted: set practice_server to what make_server(...) returns"
        " and start its thread, then run this cell again.",
        id="practice_server",
    ),
    pytest.param(
        "03_run_the_server",
        1,
        "Correct: practice_server has stopped and its port is free.",
        "Not attempted: start practice_server in the exercise above first.",
        id="practice_stopped",
    ),
]


def test_every_exercise_has_a_check_and_a_solution():
    counts = {
        lesson: (
            len(exercises(lesson)),
            len(check_cells(lesson)),
            len(solutions(lesson)),
        )
        for lesson in LESSON
    }
    assert counts == {
        "01_hello_world": (1, 1, 1),
        "02_good_evening": (2, 2, 2),
        "03_run_the_server": (2, 2, 2),
    }


@pytest.mark.parametrize(("lesson", "number", "correct", "not_attempted"), EXERCISES)
def test_the_lessons_solution_is_correct(
    lesson, number, correct, not_attempted, kernel, capsys
):
    for solution in solutions(lesson)[: number + 1]:  # earlier exercises solved too
        exec(solution, kernel)
    assert printed(capsys, kernel, check_cells(lesson)[number]) == correct


@pytest.mark.parametrize(("lesson", "number", "correct", "not_attempted"), EXERCISES)
def test_the_untouched_starter_is_not_attempted(
    lesson, number, correct, not_attempted, kernel, capsys
):
    for starter in exercises(lesson)[: number + 1]:
        exec(starter, kernel)
    assert printed(capsys, kernel, check_cells(lesson)[number]) == not_attempted


def practice_with(*routes):
    """A learner's code: a practice app with routes of (address, function body)."""
    code = "from flask import Flask\n\npractice = Flask(__name__)\n"
    for number, (address, body) in enumerate(routes):
        code += f'\n\n@practice.route("{address}")\ndef page_{number}():\n    {body}\n'
    return code


ABOUT = ("/about", 'return "About this server"')
# serve_forever(0.01) notices shutdown() within 0.01 s instead of 0.5 s: fast tests.
SERVE = """
practice_server = make_server("127.0.0.1", 0, {app}, threaded=True)
practice_thread = threading.Thread(
    target=practice_server.serve_forever, args=[0.01], daemon=True
)
practice_thread.start()
"""
STOP = "practice_server.shutdown()\npractice_thread.join()\n"
NOT_AN_APP = (
    "Not yet: practice should be a Flask app, made with practice = Flask(__name__),"
)
NOT_A_SERVER = (
    'Not yet: practice_server should be what make_server("127.0.0.1", 0, practice)'
    " returns,"
)

# A learner's code, the check cell after it, and the one line the check prints
# ({port} is practice_server's port).
WRONG_ANSWERS = {
    "about: no app": (
        "practice = None",
        "checks.check_about(practice)",
        f"{NOT_AN_APP} not None.",
    ),
    "about: a number": (
        "practice = 42",
        "checks.check_about(practice)",
        f"{NOT_AN_APP} not 42.",
    ),
    "about: a module": (
        "import flask\n\npractice = flask",
        "checks.check_about(practice)",
        f"{NOT_AN_APP} not a module object.",
    ),
    "about: the wrong address": (
        practice_with(("/abuot", 'return "About this server"')),
        "checks.check_about(practice)",
        "Not yet: GET /about answered 404 Not Found:"
        ' did you add @practice.route("/about") just above your function?',
    ),
    "about: a capital A in the address": (
        practice_with(("/About", 'return "About this server"')),
        "checks.check_about(practice)",
        "Not yet: GET /about answered 404 Not Found:"
        ' your route is "/About": routes match letter for letter.',
    ),
    "about: a small a": (
        practice_with(("/about", 'return "about this server"')),
        "checks.check_about(practice)",
        "Not yet: GET /about answered 'about this server', expected 'About this server'"
        " (capital A).",
    ),
    "about: capitals everywhere": (
        practice_with(("/about", 'return "About This Server"')),
        "checks.check_about(practice)",
        "Not yet: GET /about answered 'About This Server', expected 'About this server'"
        " (check the capital letters).",
    ),
    "about: other words": (
        practice_with(("/about", 'return "About this page"')),
        "checks.check_about(practice)",
        "Not yet: GET /about answered 'About this page', expected 'About this server'.",
    ),
    "about: another status": (
        practice_with(("/about", 'return "About this server", 201')),
        "checks.check_about(practice)",
        "Not yet: GET /about answered 201 Created, expected 200 OK.",
    ),
    "about: raises": (
        practice_with(("/about", "return 1 / 0")),
        "checks.check_about(practice)",
        "Not yet: your /about function raised ZeroDivisionError: division by zero.",
    ),
    "about: no return": (
        practice_with(("/about", '"About this server"')),
        "checks.check_about(practice)",
        "Not yet: your /about function did not return a valid response. The function"
        " either returned None or ended without a return statement."
        " Return the text 'About this server'.",
    ),
    "morning: no app": (
        "practice = None",
        "checks.check_morning(practice)",
        f"{NOT_AN_APP} not None.",
    ),
    "morning: the wrong address": (
        practice_with(ABOUT, ("/good-morning", 'return "Good morning"')),
        "checks.check_morning(practice)",
        "Not yet: GET /morning answered 404 Not Found:"
        ' did you add @practice.route("/morning") just above your function?',
    ),
    "morning: a capital M in the address": (
        practice_with(ABOUT, ("/Morning", 'return "Good morning"')),
        "checks.check_morning(practice)",
        "Not yet: GET /morning answered 404 Not Found:"
        ' your route is "/Morning": routes match letter for letter.',
    ),
    "morning: a small g": (
        practice_with(ABOUT, ("/morning", 'return "good morning"')),
        "checks.check_morning(practice)",
        "Not yet: GET /morning answered 'good morning', expected 'Good morning'"
        " (capital G).",
    ),
    "morning: other words": (
        practice_with(ABOUT, ("/morning", 'return "Good evening"')),
        "checks.check_morning(practice)",
        "Not yet: GET /morning answered 'Good evening', expected 'Good morning'.",
    ),
    "morning: raises": (
        practice_with(ABOUT, ("/morning", 'return "Good" + 1')),
        "checks.check_morning(practice)",
        "Not yet: your /morning function raised TypeError:"
        ' can only concatenate str (not "int") to str.',
    ),
    "prediction: in quotes": (
        'prediction = "404"',
        "checks.check_prediction(prediction, app)",
        "Not yet: write the status code as a number, like 200, without quotes.",
    ),
    "prediction: True": (
        "prediction = True",
        "checks.check_prediction(prediction, app)",
        "Not yet: write the status code as a number, like 200, without quotes.",
    ),
    "prediction: 200": (
        "prediction = 200",
        "checks.check_prediction(prediction, app)",
        "Not yet: 200 would mean a route matched. Routes match letter for letter:"
        " is /Evening the same as /evening?"
        ' Try app.test_client().get("/Evening").status_code',
    ),
    "prediction: 500": (
        "prediction = 500",
        "checks.check_prediction(prediction, app)",
        "Not yet: GET /Evening does not answer 500."
        ' Try app.test_client().get("/Evening").status_code to see.',
    ),
    "practice_server: the app itself": (
        practice_with(ABOUT) + "practice_server = practice",
        "checks.check_practice_server(practice_server)",
        f"{NOT_A_SERVER} not a Flask object.",
    ),
    "practice_server: serves the lesson's app": (
        practice_with(ABOUT) + SERVE.format(app="app"),
        "checks.check_practice_server(practice_server)",
        "Not yet: GET /about answered 404 Not Found:"
        ' is practice_server serving practice (make_server("127.0.0.1", 0, practice))?',
    ),
    "practice_server: other words": (
        practice_with(("/about", 'return "about"')) + SERVE.format(app="practice"),
        "checks.check_practice_server(practice_server)",
        "Not yet: GET /about answered 'about', expected 'About this server'.",
    ),
    "practice_server: raises": (
        practice_with(("/about", "return 1 / 0")) + SERVE.format(app="practice"),
        "checks.check_practice_server(practice_server)",
        "Not yet: GET /about answered 500 Internal Server Error, expected 200 OK.",
    ),
    "practice_server: stopped already": (
        practice_with(ABOUT) + SERVE.format(app="practice") + STOP,
        "checks.check_practice_server(practice_server)",
        "Not yet: nothing answers on port {port}: practice_server has stopped."
        " Run the exercise cell above again to start it.",
    ),
    "practice_stopped: not a server": (
        "practice_server = 'stopped'",
        "checks.check_practice_stopped(practice_server)",
        f"{NOT_A_SERVER} not 'stopped'.",
    ),
    "practice_stopped: still running": (
        practice_with(ABOUT) + SERVE.format(app="practice"),
        "checks.check_practice_stopped(practice_server)",
        "Not yet: practice_server still answers on port {port}:"
        " call practice_server.shutdown(), then practice_thread.join().",
    ),
    "practice_stopped: never started": (
        practice_with(ABOUT)
        + 'practice_server = make_server("127.0.0.1", 0, practice, threaded=True)',
        "checks.check_practice_stopped(practice_server)",
        "Not yet: practice_server still answers on port {port}:"
        " call practice_server.shutdown(), then practice_thread.join().",
    ),
}


@pytest.mark.parametrize(
    ("code", "check_cell", "expected"),
    list(WRONG_ANSWERS.values()),
    ids=list(WRONG_ANSWERS),
)
def test_a_wrong_answer_gets_its_own_advice(code, check_cell, expected, kernel, capsys):
    exec(code, kernel)
    port = getattr(kernel.get("practice_server"), "port", None)
    assert printed(capsys, kernel, check_cell) == expected.format(port=port)


@pytest.mark.parametrize(
    "body", ["return 42", "return None", "return 'About', 1, 2, 3"]
)
def test_a_view_that_returns_no_text_gets_flasks_reason(body, kernel, capsys):
    exec(practice_with(("/about", body)), kernel)
    line = printed(capsys, kernel, "checks.check_about(practice)")
    assert line.startswith(
        "Not yet: your /about function did not return a valid response. "
    )
    assert line.endswith(" Return the text 'About this server'.")


def test_a_server_never_started_is_reported_within_3_seconds(kernel, capsys):
    exec(practice_with(ABOUT), kernel)
    exec('practice_server = make_server("127.0.0.1", 0, practice)', kernel)
    started = time.monotonic()
    line = printed(capsys, kernel, "checks.check_practice_server(practice_server)")
    assert time.monotonic() - started < 3
    port = kernel["practice_server"].port
    assert line == (
        f"Not yet: the server on port {port} does not answer:"
        " did you start a thread that runs practice_server.serve_forever?"
    )


def test_a_check_that_fails_itself_prints_one_line(kernel, capsys):
    exec("prediction = 404\napp = None", kernel)
    line = printed(capsys, kernel, "checks.check_prediction(prediction, app)")
    assert line == (
        "Not yet: checking your code raised AttributeError:"
        " 'NoneType' object has no attribute 'test_client'."
    )


def test_a_check_returns_nothing_and_leaves_the_app_as_it_was(kernel, capsys):
    exec(practice_with(("/about", "return 1 / 0")), kernel)
    assert checks.check_about(kernel["practice"]) is None  # Jupyter shows no value
    assert kernel["practice"].config["PROPAGATE_EXCEPTIONS"] is None
    assert capsys.readouterr().err == ""


LESSON_1_APP = """from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello world"
"""
EVENING_ONLY_APP = """from flask import Flask

app = Flask(__name__)


@app.route("/evening")
def evening():
    return "Good evening"
"""
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
}


@pytest.fixture
def project(tmp_path):
    """A copy of the lessons and server/, where tests may break server/."""
    return copy_project(tmp_path)


@pytest.fixture
def copied(project):
    """checks.py of the copy: its ready_for_lesson looks at the copy's server/."""
    return load_checks(project)


@pytest.mark.parametrize(
    ("lesson", "name", "text", "sentence"), list(SKIPPED.values()), ids=list(SKIPPED)
)
def test_a_skipped_lesson_stops_with_one_sentence(
    lesson, name, text, sentence, project, copied
):
    file = project / "server" / name
    if text is None:
        file.unlink()
    else:
        file.write_text(text)
    with pytest.raises(copied.LessonSkipped) as skipped:
        copied.ready_for_lesson(lesson)
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
def test_a_lesson_whose_files_are_in_place_is_ready(
    lesson, ready, project, copied, capsys
):
    modules, files = server_modules(), sorted((project / "server").iterdir())
    copied.ready_for_lesson(lesson)
    assert capsys.readouterr() == (f"{ready}\n", "")
    assert server_modules() == modules  # app.py was run on its own, not imported
    assert sorted((project / "server").iterdir()) == files  # and left nothing behind


def test_lesson_2_does_not_need_lesson_2s_app_py(project, copied, capsys):
    (project / "server" / "app.py").write_text("")
    copied.ready_for_lesson(2)
    assert capsys.readouterr().out == "Ready: lesson 1 has written server/.\n"


def test_an_unknown_lesson_is_our_mistake(copied):
    with pytest.raises(ValueError):
        copied.ready_for_lesson(4)
