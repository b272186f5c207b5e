"""Checks for the "Your turn" exercises in the lessons.

After each exercise, a check cell calls one function from this file, such as
checks.check_about(practice). It prints one line, which starts with:

    Correct:        your code does what the exercise asks;
    Not yet:        something is not right yet; the line says what to try;
    Not attempted:  the exercise cell still holds the starter code.

A check never stops your notebook with an error, whatever you give it, and
never waits more than a few seconds. Kaggle Learn's exercises work this way.
"""

import functools
import logging
import runpy
import socket
from pathlib import Path

import requests
from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import BaseWSGIServer

SERVER = Path(__file__).resolve().parent.parent / "server"
AN_APP = "a Flask app, made with practice = Flask(__name__)"
MAKE_SERVER = 'make_server("127.0.0.1", 0, practice)'


def _prints_verdict(check):
    """Print the line `check` returns; an unexpected error becomes a line too."""

    @functools.wraps(check)
    def run(*args):
        try:
            line = check(*args)
        except Exception as error:
            line = f"Not yet: checking your code raised {_describe(error)}."
        print(line)

    return run


def _describe(error):
    """An exception in one line, such as 'ZeroDivisionError: division by zero'."""
    message = " ".join(str(error).split()).rstrip(".")
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _should_be(name, what, value):
    plain = value is None or isinstance(value, (int, float, str))
    shown = repr(value) if plain else f"a {type(value).__name__} object"
    return f"Not yet: {name} should be {what}, not {shown}."


def _judge(response, path, expected, if_404):
    """The verdict on the answer to GET `path`, from a test client or over HTTP."""
    code = response.status_code
    if code == 404:
        return f"Not yet: GET {path} answered 404 Not Found: {if_404}"
    if code != 200:
        name = HTTP_STATUS_CODES.get(code, "")
        return f"Not yet: GET {path} answered {code} {name}, expected 200 OK."
    got = response.text
    if got == expected:
        return f"Correct: GET {path} answers {expected!r}."
    line = f"Not yet: GET {path} answered {got!r}, expected {expected!r}"
    if got.lower() != expected.lower():
        return line + "."
    wrong = [want for have, want in zip(got, expected, strict=False) if have != want]
    if len(wrong) == 1 and wrong[0].isupper():
        return line + f" (capital {wrong[0]})."
    return line + " (check the capital letters)."


def _ask(practice, path, expected):
    """GET `path` from practice with Flask's test client (no network): the verdict."""
    saved = practice.config["PROPAGATE_EXCEPTIONS"]
    practice.config["PROPAGATE_EXCEPTIONS"] = True  # raise errors, don't log them
    try:
        response = practice.test_client().get(path)
    except Exception as error:
        if "did not return a valid response" not in str(error):
            return f"Not yet: your {path} function raised {_describe(error)}."
        reason = " ".join(str(error).split()).split(". ", 1)[-1]  # Flask's words
        return (
            f"Not yet: your {path} function did not return a valid response."
            f" {reason} Return the text {expected!r}."
        )
    finally:
        practice.config["PROPAGATE_EXCEPTIONS"] = saved
    if_404 = f'did you add @practice.route("{path}") just above your function?'
    near = [rule for rule in _routes(practice) if rule.lower() == path.lower()]
    if near:  # such as /About for /about
        if_404 = f'your route is "{near[0]}": routes match letter for letter.'
    return _judge(response, path, expected, if_404)


def _routes(app):
    """The addresses an app has routes for, without Flask's own /static."""
    rules = app.url_map.iter_rules()
    return sorted(rule.rule for rule in rules if rule.endpoint != "static")


@_prints_verdict
def check_about(practice):
    """Lesson 1: practice answers GET /about with 'About this server'."""
    if not isinstance(practice, Flask):
        return _should_be("practice", AN_APP, practice)
    if not _routes(practice):
        return (
            "Not attempted: give practice a route for /about, then run this cell again."
        )
    return _ask(practice, "/about", "About this server")


@_prints_verdict
def check_morning(practice):
    """Lesson 2: practice answers GET /morning with 'Good morning'."""
    if not isinstance(practice, Flask):
        return _should_be("practice", AN_APP, practice)
    if _routes(practice) == ["/about"]:
        return (
            "Not attempted: add a route for /morning to practice,"
            " then run this cell again."
        )
    return _ask(practice, "/morning", "Good morning")


@_prints_verdict
def check_prediction(prediction, app):
    """Lesson 2: the status code that GET /Evening gets from the lesson's app."""
    if prediction is ...:
        return "Not attempted: replace ... with your guess, then run this cell again."
    if not isinstance(prediction, int) or isinstance(prediction, bool):
        return "Not yet: write the status code as a number, like 200, without quotes."
    try_it = 'Try app.test_client().get("/Evening").status_code'
    if prediction == app.test_client().get("/Evening").status_code:
        return (
            "Correct: GET /Evening answers 404 Not Found: routes match letter"
            " for letter, so /Evening is not /evening."
        )
    if prediction == 200:
        return (
            "Not yet: 200 would mean a route matched. Routes match letter for"
            f" letter: is /Evening the same as /evening? {try_it}"
        )
    return f"Not yet: GET /Evening does not answer {prediction}. {try_it} to see."


@_prints_verdict
def check_practice_server(practice_server):
    """Lesson 3: practice_server answers GET /about over real HTTP."""
    if practice_server is None:
        return (
            "Not attempted: set practice_server to what make_server(...) returns"
            " and start its thread, then run this cell again."
        )
    if not isinstance(practice_server, BaseWSGIServer):
        return _should_be(
            "practice_server", f"what {MAKE_SERVER} returns", practice_server
        )
    port = practice_server.port
    logging.disable()  # the server logs nothing on stderr while we ask
    try:
        response = requests.get(f"http://127.0.0.1:{port}/about", timeout=2)
    except requests.Timeout:
        return (
            f"Not yet: the server on port {port} does not answer: did you start"
            " a thread that runs practice_server.serve_forever?"
        )
    except requests.ConnectionError:
        return (
            f"Not yet: nothing answers on port {port}: practice_server has"
            " stopped. Run the exercise cell above again to start it."
        )
    finally:
        logging.disable(logging.NOTSET)
    if response.status_code == 200 and response.text == "About this server":
        return (
            "Correct: practice_server answers GET /about"
            " with 'About this server' over HTTP."
        )
    if_404 = f"is practice_server serving practice ({MAKE_SERVER})?"
    return _judge(response, "/about", "About this server", if_404)


@_prints_verdict
def check_practice_stopped(practice_server):
    """Lesson 3: practice_server has stopped, so its port is closed."""
    if practice_server is None:
        return "Not attempted: start practice_server in the exercise above first."
    if not isinstance(practice_server, BaseWSGIServer):
        return _should_be(
            "practice_server", f"what {MAKE_SERVER} returns", practice_server
        )
    try:
        socket.create_connection(("127.0.0.1", practice_server.port), timeout=1).close()
    except ConnectionRefusedError:
        return "Correct: practice_server has stopped and its port is free."
    return (
        f"Not yet: practice_server still answers on port {practice_server.port}:"
        " call practice_server.shutdown(), then practice_thread.join()."
    )


class LessonSkipped(Exception):
    """Stops a lesson whose earlier lessons have not run; Jupyter shows one line."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [str(self)]


READY = {
    2: "Ready: lesson 1 has written server/.",
    3: "Ready: lessons 1 and 2 have written server/.",
}


def ready_for_lesson(number):
    """Stop the lesson with one sentence unless the earlier lessons wrote server/."""
    if number not in READY:
        raise ValueError(f"there is no check for lesson {number}")
    init = SERVER / "__init__.py"
    try:
        source = init.read_text(encoding="utf-8")
        compile(source, init, "exec")
    except (OSError, SyntaxError, ValueError):
        source = ""  # missing or broken counts as empty
    if not source.strip():
        raise LessonSkipped(
            "server/__init__.py is missing or broken:"
            " run lesson 1 (01_hello_world.ipynb) first."
        )
    if number == 3:
        problem = _app_py_problem()
        if problem:
            raise LessonSkipped(f"server/app.py {problem}.")
    print(READY[number])


def _app_py_problem():
    """What is wrong with server/app.py, as lesson 3 needs it; or None."""
    run = "run lesson 2 (02_good_evening.ipynb)"
    try:  # run app.py on its own, not as a part of the server package
        app = runpy.run_path(str(SERVER / "app.py")).get("app")
        if not isinstance(app, Flask):
            return f"is empty or broken (it defines no app): {run} first"
        app.testing = True  # an error in a route is raised here, not logged
        evening, home = app.test_client().get("/evening"), app.test_client().get("/")
    except Exception as error:
        return f"is empty or broken ({_describe(error)}): {run} first"
    if evening.status_code != 200 or evening.text != "Good evening":
        return f"has no /evening route yet: {run} first"
    if home.status_code != 200 or home.text != "Hello world":
        return f"does not answer GET / with 'Hello world': {run} again"
    return None
