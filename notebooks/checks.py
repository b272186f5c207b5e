"""Checks for the "Your turn" exercises in the lessons.

After each exercise, a check cell calls one function from this file, such as
checks.check_about(). It looks at your notebook itself (the names your cells
have defined, and the cells you have run, which IPython keeps), and prints one
line, which starts with:

    Correct:        your code does what the exercise asks;
    Not yet:        something is not right yet; the line says what to try;
    Not attempted:  the exercise cell is still as it was, or has not run yet.

A check never stops your notebook with an error, whatever you give it, and
answers within a few seconds. Kaggle Learn's exercises (learntools) work this way.
"""

import contextlib
import functools
import io
import linecache
import logging
import re
import sys
import threading
import traceback
from pathlib import Path

import requests
from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import BaseWSGIServer

SERVER = Path(__file__).resolve().parent.parent / "server"
AN_APP = "a Flask app, made with practice = Flask(__name__)"
MAKE_SERVER = 'make_server("127.0.0.1", 0, practice)'
STOP = "call practice_server.shutdown(), then practice_thread.join()"
PRACTICE_URL = 'f"http://127.0.0.1:{practice_server.port}/about"'

# The exercise cells as the lessons give them: a cell still like this is "Not
# attempted". (tests/test_checks.py makes sure these are the lessons' cells.)
STARTERS = {
    "about": """from flask import Flask

practice = Flask(__name__)

# Your turn: give `practice` a route for "/about" that answers "About this server".
""",
    "morning": """from flask import Flask

practice = Flask(__name__)


@practice.route("/about")
def about():
    return "About this server"


# Your turn: add a route for "/morning" that answers "Good morning".
""",
    "prediction": """\
# Your turn: what status code will GET /Evening (capital E) get from your server?
# Replace ... with your guess, as a number, before you try it.
prediction = ...
""",
    "practice_server": """from flask import Flask

practice = Flask(__name__)


@practice.route("/about")
def about():
    return "About this server"


# Your turn: serve practice in the background, as you did with app above:
# 1. practice_server = make_server(...) on 127.0.0.1, port 0
# 2. practice_thread: a daemon thread that runs practice_server.serve_forever; start it
# 3. ask it for /about with requests.get and print the answer's text
practice_server = None
""",
    "practice_stopped": """\
# Your turn: stop practice_server and wait for practice_thread to end,
# as the "Stop it" cell did for web_server.
""",
}


# What the learner has done: their names, and the cells they ran.


def _learner():
    """The learner's names and the code of the cells they ran, oldest first.

    IPython, which runs a notebook's cells, keeps both: the names in user_ns,
    the cells in its history (the same as In[1:]). The running check cell,
    the last one, is left out.
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is None:  # not in a notebook
        return {}, []
    return shell.user_ns, list(shell.history_manager.input_hist_raw[1:-1])


def _raised(code):
    """The error that the cell `code` raised when it last ran, or None.

    A syntax error shows in the code itself. IPython's last_execution_result
    says how the cell run just before this check went. For an earlier cell,
    the error IPython keeps (sys.last_value) is its error if its traceback
    runs through that cell's code (IPython keeps each cell's code in linecache).
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or code not in shell.history_manager.input_hist_raw:
        return None
    python = shell.transform_cell(code)
    try:
        compile(python, "your cell", "exec")
    except SyntaxError as error:
        return error
    last = shell.last_execution_result
    if last is not None and last.info.raw_cell.rstrip("\n") == code:
        return last.error_before_exec or last.error_in_exec
    frames = traceback.walk_tb(getattr(sys, "last_traceback", None))
    for frame, _ in frames:
        lines = linecache.getlines(frame.f_code.co_filename)
        if "".join(lines).rstrip("\n") == python.rstrip("\n"):
            return sys.last_value
    return None


def _same(code, starter):
    """Whether a cell's code is the starter, give or take blank space."""

    def tidy(text):
        return "\n".join(line.rstrip() for line in text.strip().splitlines())

    return tidy(code) == tidy(starter)


def _last_cell_that_sets(name, cells):
    """The code of the last cell run that sets `name` (name = ...), or None."""
    sets = re.compile(rf"^\s*{name}\s*=(?!=)", re.MULTILINE)
    for code in reversed(cells):
        if sets.search(code):
            return code
    return None


def _only_checks(code):
    """Whether a cell only runs checks, as the check cells do."""
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    return all(line == "import checks" or line.startswith("checks.") for line in lines)


def _cells_after(code, cells):
    """The cells run after the last one whose code is `code`."""
    last = len(cells) - 1 - cells[::-1].index(code)
    return cells[last + 1 :]


# How a check prints its verdict.


def _prints_verdict(check):
    """Call `check` with the learner's names and cells, and print the line it
    returns; an unexpected error becomes a line too. So a check cell calls a
    check with no arguments: checks.check_about()."""

    @functools.wraps(check)
    def run(*_older_notebooks):  # which passed practice and such: not needed
        try:
            line = check(*_learner())
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


# Asking an app for a page.


def _judge(response, path, expected, if_404):
    """The verdict on the answer to GET `path`, from a test client or over HTTP."""
    code = response.status_code
    if code == 404:
        return f"Not yet: GET {path} answered 404 Not Found: {if_404}"
    if code == 308 and response.headers.get("Location", "").endswith(f"{path}/"):
        return (
            f'Not yet: your route is "{path}/", with a slash at the end, so GET'
            f" {path} answered 308 Permanent Redirect (Flask's way of saying"
            f' "ask for {path}/ instead"): routes match exactly, so write'
            f' "{path}" without the slash.'
        )
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
    shared = _shared_function_name(practice, path)
    if shared:
        return (
            f"Not yet: your {path} function has the same name as another one,"
            f" {shared}(), so Flask refused it (the error 'overwriting an existing"
            f" endpoint function: {shared}'): give it a name of its own, such as"
            f" {path.strip('/')}()."
        )
    saved = practice.config["PROPAGATE_EXCEPTIONS"]
    practice.config["PROPAGATE_EXCEPTIONS"] = True  # raise errors, don't log them
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # what the function prints
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


def _shared_function_name(app, path):
    """The function name that `path` shares with another route, or None.

    Two functions with one name make Flask raise an error; the route of the
    second is added all the same, and answers with the first function.
    """
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    mine = [rule.endpoint for rule in rules if rule.rule.rstrip("/") == path]
    for endpoint in mine:
        if sum(rule.endpoint == endpoint for rule in rules) > 1:
            return endpoint
    return None


def _no_route(path, code, routes_before, names):
    """Why practice has no route for `path`, from the code of the exercise cell."""
    no_slash = re.search(r"""@practice\.route\(\s*(["'])([^/].*?)\1""", code)
    if no_slash:
        return (
            f'Not yet: routes start with a slash, so Flask refused "{no_slash[2]}"'
            f' (the ValueError): write @practice.route("{path}"), then run the cell'
            " again."
        )
    app = names.get("app")
    if "@app.route(" in code and not isinstance(app, Flask):
        return (
            "Not yet: your code uses app, which is the lesson's app and is not"
            " defined in this kernel (the NameError): write"
            f' @practice.route("{path}") instead, then run the cell again.'
        )
    if "@app.route(" in code and path in _routes(app):
        return (
            f"Not yet: your code says @app.route, which added {path} to app, the"
            f' lesson\'s server, not to practice: write @practice.route("{path}").'
        )
    if "@app.route(" in code:
        return (
            f"Not yet: your code says @app.route, which adds a route to app, the"
            f" lesson's server, not to practice; Flask refused (the AssertionError"
            f" 'The setup method route can no longer be called'), since app has"
            f' already answered requests: write @practice.route("{path}").'
        )
    what = "no routes" if not routes_before else f"no route for {path}"
    return (
        f'Not yet: practice has {what}: put @practice.route("{path}") on the'
        " line just above your function's def line, then run both cells again."
    )


# The checks, one per exercise.


def _practice(names):
    """practice, or the line to print when it is missing or not an app."""
    if "practice" not in names:
        return None, (
            "Not attempted: run the exercise cell above first (it makes practice),"
            " then this cell again."
        )
    practice = names["practice"]
    if not isinstance(practice, Flask):
        return None, _should_be("practice", AN_APP, practice)
    return practice, None


@_prints_verdict
def check_about(names, cells):
    """Lesson 1: practice answers GET /about with 'About this server'."""
    practice, line = _practice(names)
    if line:
        return line
    if not _routes(practice):
        code = _last_cell_that_sets("practice", cells) or ""
        if _same(code, STARTERS["about"]):
            return (
                "Not attempted: give practice a route for /about in the exercise"
                " cell above and run it, then run this cell again."
            )
        return _no_route("/about", code, [], names)
    return _ask(practice, "/about", "About this server")


@_prints_verdict
def check_morning(names, cells):
    """Lesson 2: practice answers GET /morning with 'Good morning'."""
    practice, line = _practice(names)
    if line:
        return line
    if _routes(practice) == ["/about"]:
        code = _last_cell_that_sets("practice", cells) or ""
        if _same(code, STARTERS["morning"]):
            return (
                "Not attempted: add a route for /morning to practice in the"
                " exercise cell above and run it, then run this cell again."
            )
        return _no_route("/morning", code, ["/about"], names)
    return _ask(practice, "/morning", "Good morning")


@_prints_verdict
def check_prediction(names, cells):
    """Lesson 2: the status code that GET /Evening gets from the lesson's app."""
    line = _prediction_cell_problem(cells)
    if line:
        return line
    if "prediction" not in names:
        return (
            "Not attempted: run the exercise cell above first (it sets prediction),"
            " then this cell again."
        )
    prediction = names["prediction"]
    if prediction is ...:
        if _same(
            _last_cell_that_sets("prediction", cells) or "", STARTERS["prediction"]
        ):
            return (
                "Not attempted: replace ... with your guess in the exercise cell"
                " above and run it, then run this cell again."
            )
        return (
            "Not yet: prediction is still ...: replace ... with your guess, a"
            " number, and run the exercise cell again."
        )
    if isinstance(prediction, bool):
        return (
            f"Not yet: {prediction} is a yes-or-no value (a bool), not a number:"
            " write the status code as a whole number, like 200."
        )
    if isinstance(prediction, float):
        return (
            f"Not yet: {prediction!r} is a number with a decimal point (a float):"
            " status codes are whole numbers, so write it without the .0, like 200."
        )
    if isinstance(prediction, str):
        return (
            f"Not yet: {prediction!r} is text (a string), because of the quotes:"
            " write the status code as a number, like 200, without quotes."
        )
    if not isinstance(prediction, int):
        return _should_be("prediction", "a whole number, like 200", prediction)
    try_it = 'Try app.test_client().get("/Evening").status_code'
    if prediction == 404:
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


def _prediction_cell_problem(cells):
    """What went wrong in the last exercise cell run for prediction; or None.

    That cell is the last one with the exercise's first line, or a line that
    starts with prediction (in any case), such as prediction == 404.
    """
    starts = re.compile(r"^\s*prediction\b", re.MULTILINE | re.IGNORECASE)
    first_line = STARTERS["prediction"].splitlines()[0]
    tried = [
        code
        for code in cells
        if (first_line in code or starts.search(code)) and not _only_checks(code)
    ]
    if not tried:
        return None
    code = tried[-1]
    error = _raised(code)
    if isinstance(error, SyntaxError):
        return (
            f"Not yet: your cell did not run: Python found a {_describe(error)}:"
            " write prediction = <a number>, like 200, and run it again."
        )
    if _last_cell_that_sets("prediction", [code]):
        if error is not None:
            return (
                f"Not yet: your cell raised {_describe(error)}: fix it so that it sets"
                " prediction = <a number>, and run it again."
            )
        return None
    other = re.search(r"^\s*(prediction)\s*=(?!=)", code, re.MULTILINE | re.I)
    if other:
        return (
            f"Not yet: {other[1]} is not prediction, as names tell capitals apart:"
            " write prediction = <a number>, all in small letters, and run it again."
        )
    compares = " (== only compares)" if "==" in code else ""
    return (
        f"Not yet: your cell ran but did not set prediction{compares}:"
        " write prediction = <a number>, like 200, and run it again."
    )


def _practice_server(names, cells):
    """practice_server, or the line to print when it is missing or not a server."""
    if "practice_server" not in names:
        return None, (
            "Not attempted: run the exercise cell above first (it sets"
            " practice_server), then this cell again."
        )
    server = names["practice_server"]
    if server is None:
        if _same(
            _last_cell_that_sets("practice_server", cells) or "",
            STARTERS["practice_server"],
        ):
            return None, (
                "Not attempted: in the exercise cell above, set practice_server to"
                " what make_server(...) returns and start its thread; run it, then"
                " this cell again."
            )
        return None, (
            "Not yet: practice_server is still None: set it to what"
            f" {MAKE_SERVER} returns, at the end of your cell."
        )
    if not isinstance(server, BaseWSGIServer):
        return None, _should_be(
            "practice_server", f"what {MAKE_SERVER} returns", server
        )
    return server, None


def _thread_problem(names, code):
    """What is wrong with practice_thread, the thread that should serve; or None."""
    if re.search(r"serve_forever\(\s*\)", code):
        return (
            "Not yet: target=practice_server.serve_forever() with brackets runs"
            " serve_forever right there in your cell, which never ends (the [*]):"
            " write target=practice_server.serve_forever, without (), so that the"
            " thread runs it."
        )
    thread = names.get("practice_thread")
    if not isinstance(thread, threading.Thread):
        return (
            "Not yet: there is no practice_thread: make it with threading.Thread("
            "target=practice_server.serve_forever, daemon=True), then"
            " practice_thread.start()."
        )
    if thread.ident is None:
        return (
            "Not yet: practice_server was never started: add"
            " practice_thread.start() to your cell, then run it again."
        )
    return None


@_prints_verdict
def check_practice_server(names, cells):
    """Lesson 3: practice_server serves practice, and answers GET /about over HTTP."""
    server, line = _practice_server(names, cells)
    if line:
        return line
    code = _last_cell_that_sets("practice_server", cells) or ""
    problem = _thread_problem(names, code)
    if problem:
        return problem
    if server.socket.fileno() == -1:  # its port is closed
        return (
            "Not yet: practice_server has been stopped: run the exercise cell above"
            " again to start a new one, then this cell."
        )
    if server.app is not names.get("practice"):
        name = "app" if server.app is names.get("app") else "another app"
        return (
            f"Not yet: practice_server serves {name}, not practice: make it"
            f" with {MAKE_SERVER}."
        )
    logging.disable()  # the server logs nothing on stderr while we ask
    try:  # its socket is open, so a connect is never refused: no 2 s wait
        url = f"http://127.0.0.1:{server.port}/about"
        response = requests.get(url, timeout=(3, 2))  # connect, then read
    except requests.Timeout:
        return (
            f"Not yet: the server on port {server.port} does not answer: does"
            " practice_thread run practice_server.serve_forever?"
        )
    except requests.ConnectionError as error:
        return (
            f"Not yet: practice_server did not take the request ({_describe(error)}):"
            " run the exercise cell above again, then this cell."
        )
    finally:
        logging.disable(logging.NOTSET)
    if response.status_code == 200 and response.text == "About this server":
        return _request_problem(code, server) or (
            "Correct: practice_server answers GET /about"
            " with 'About this server' over HTTP."
        )
    if_404 = f"is practice_server serving practice ({MAKE_SERVER})?"
    return _judge(response, "/about", "About this server", if_404)


def _request_problem(code, server):
    """What is wrong with the request of the exercise cell `code`; or None."""
    error = _raised(code)
    if isinstance(error, requests.RequestException):
        return (
            f"Not yet: your cell's request raised {type(error).__name__}: ask"
            f" practice_server itself, at {PRACTICE_URL}, and run the cell again."
        )
    if error is not None:
        return (
            f"Not yet: practice_server answers, but your cell raised"
            f" {_describe(error)}: fix that line, then run the cell again."
        )
    ports = ("practice_server.port", "practice_server.server_port", str(server.port))
    if "requests.get(" not in code or not any(port in code for port in ports):
        return (
            "Not yet: your cell does not ask practice_server for /about: add"
            f" response = requests.get({PRACTICE_URL}, timeout=5), then"
            " print(response.text)."
        )
    return None


@_prints_verdict
def check_practice_stopped(names, cells):
    """Lesson 3: practice_server has stopped, and practice_thread has ended.

    It looks at the server and its thread, not over the network, so its answer
    does not depend on how fast a computer says "nothing here".
    """
    if names.get("practice_server") is None:
        return "Not attempted: start practice_server in the exercise above first."
    server, line = _practice_server(names, cells)
    if line:
        return line
    start = _last_cell_that_sets("practice_server", cells) or ""
    if _thread_problem(names, start):
        return (
            "Not yet: practice_server never ran in its thread, so there is nothing"
            " to stop, and shutdown() would wait for it forever (the [*]): fix the"
            " exercise above first (its check says how), then run this one again."
        )
    thread = names["practice_thread"]
    tried = [  # the cells run since the exercise above, but for starters and checks
        code
        for code in (_cells_after(start, cells) if start in cells else [])
        if not _same(code, STARTERS["practice_stopped"]) and not _only_checks(code)
    ]
    code = "\n".join([start, *tried])
    bare = re.search(
        r"(practice_server\.shutdown|practice_thread\.join)\b(?!\s*\()", code
    )
    if bare:
        return (
            f"Not yet: {bare[1]} without brackets names the method but does not"
            f" call it (a method runs only with ()): {STOP}."
        )
    if "shutdown(" not in code:
        if "server_close(" in code:
            return (
                "Not yet: server_close() closes the port, but practice_thread keeps"
                f" running serve_forever: {STOP}."
            )
        if "join(" in code:
            return (
                "Not yet: join() waits for practice_thread to end, which it does only"
                f" after shutdown() (so the cell showed [*]): {STOP}, in that order."
            )
        if not tried:
            return (
                "Not attempted: stop practice_server in the exercise cell above,"
                " then run this cell again."
            )
        return f"Not yet: practice_server is still serving: {STOP}."
    if "practice_thread.join(" not in code:
        return (
            "Not yet: shutdown() stops the server, then wait for its thread to end:"
            " add practice_thread.join() after practice_server.shutdown()."
        )
    # Werkzeug closes the server's socket once serve_forever has ended. (After
    # an interrupted join(), Python may call a running thread ended, so the
    # socket is the fact to trust.)
    if server.socket.fileno() != -1 or thread.is_alive():
        return (
            "Not yet: practice_server is still serving: join() waits for"
            " practice_thread to end, which it does only after shutdown() (so the"
            f" cell showed [*]): {STOP}, in that order."
        )
    return "Correct: practice_server has stopped and practice_thread has ended."


# The first cell of lessons 2 and 3 (notebooks/course.py), for the lessons here.
from course import LessonSkipped, ready_for_lesson  # noqa: E402, F401

ready_for_lesson = functools.partial(ready_for_lesson, folder=Path(__file__).parent)
