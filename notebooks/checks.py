"""Checks for the "Your turn" exercises in the lessons, lesson by lesson.

After each exercise, a check cell calls its check, such as checks.check_about(). It
looks at your notebook (the names your cells defined and the cells you ran, which
IPython keeps: see learner.py) and prints one line, which starts with Correct, Not
yet or Not attempted (verdicts.py). A check never stops your notebook with an error,
whatever you give it, and answers within a few seconds. Each check knows its
exercise cell by id ("01-15"), whose metadata keeps the code the cell starts with.
Kaggle Learn's exercises (learntools) work this way."""

import re
import threading

import requests
from werkzeug.serving import BaseWSGIServer

from course import LessonSkipped, ready_for_lesson  # noqa: F401 (lessons' first cell)
from learner import Exercise, cells_after, last_cell_that_sets, only_checks, raised
from probe import Route, judge, over_http
from verdicts import NotAttempted, NotYet, describe, run_first, should_be

MAKE_SERVER = 'make_server("127.0.0.1", 0, practice)'
STOP = "call practice_server.shutdown(), then practice_thread.join()"
PRACTICE_URL = 'f"http://127.0.0.1:{practice_server.port}/about"'

# Lesson 1: a page of your own.
check_about = Route("01-15", "/about", "About this server")

# Lesson 2: a second page, and a prediction.
check_morning = Route("02-14", "/morning", "Good morning")
SETS = "prediction = <a number>"
TRY_IT = 'Try app.test_client().get("/Evening").status_code'


class Prediction(Exercise):
    """Predict the status code that GET /Evening gets from the lesson's app."""

    def check(self, names, cells):
        self.cell_ran(cells)
        if "prediction" not in names:
            raise run_first("it sets prediction")
        guess = names["prediction"]
        if guess is ... and self.untouched(last_cell_that_sets("prediction", cells)):
            raise NotAttempted("""replace ... with your guess in the exercise cell
                above and run it, then run this cell again.""")
        if guess is ...:
            raise NotYet("""prediction is still ...: replace ... with your guess, a
                number, and run the exercise cell again.""")
        if isinstance(guess, bool):
            raise NotYet(f"""{guess} is a yes-or-no value (a bool), not a number:
                write the status code as a whole number, like 200.""")
        if isinstance(guess, float):
            raise NotYet(f"""{guess!r} is a number with a decimal point (a float):
                status codes are whole numbers, so write it without the .0, like
                200.""")
        if isinstance(guess, str):
            raise NotYet(f"""{guess!r} is text (a string), because of the quotes:
                write the status code as a number, like 200, without quotes.""")
        if not isinstance(guess, int):
            raise should_be("prediction", "a whole number, like 200", guess)
        if guess == 200:
            raise NotYet(f"""200 would mean a route matched. Routes match letter for
                letter: is /Evening the same as /evening? {TRY_IT}""")
        if guess != 404:
            raise NotYet(f"GET /Evening does not answer {guess}. {TRY_IT} to see.")
        return """GET /Evening answers 404 Not Found: routes match letter for letter,
            so /Evening is not /evening."""

    def cell_ran(self, cells):
        """The last cell run for the exercise (one with its first line, or a line
        that starts with prediction, in any case) ran and set prediction."""
        starts = re.compile(r"^\s*prediction\b", re.MULTILINE | re.IGNORECASE)
        first = self.starter.partition("\n")[0]  # "" if the lesson lacks the cell
        tried = [c for c in cells if (first and first in c) or starts.search(c)]
        if not tried:
            return
        code, error = tried[-1], raised(tried[-1])
        if isinstance(error, SyntaxError):
            raise NotYet(f"""your cell did not run; Python says {describe(error)}:
                write {SETS}, like 200, and run it again.""")
        if last_cell_that_sets("prediction", [code]) and error is not None:
            raise NotYet(f"""your cell raised {describe(error)}: fix it so that it sets
                {SETS}, and run it again.""")
        if last_cell_that_sets("prediction", [code]):
            return
        other = re.search(r"^\s*(prediction)\s*=(?!=)", code, re.MULTILINE | re.I)
        if other:
            raise NotYet(f"""{other[1]} is not prediction, as names tell capitals
                apart: write {SETS}, all in small letters, and run it again.""")
        compares = " (== only compares)" if "==" in code else ""
        raise NotYet(f"""your cell ran but did not set prediction{compares}: write
            {SETS}, like 200, and run it again.""")


check_prediction = Prediction("02-19")


# Lesson 3: serve practice in a thread of its own, then stop it.
def _server(names):
    """practice_server, if it is a server."""
    server = names["practice_server"]
    if not isinstance(server, BaseWSGIServer):
        raise should_be("practice_server", f"what {MAKE_SERVER} returns", server)
    return server


def _thread(names, code):
    """practice_thread, the thread that runs serve_forever, if it was started."""
    if re.search(r"serve_forever\(\s*\)", code):
        raise NotYet("""target=practice_server.serve_forever() with brackets runs
            serve_forever right there in your cell, which never ends (the [*]): write
            target=practice_server.serve_forever, without (), so that the thread runs
            it.""")
    thread = names.get("practice_thread")
    if not isinstance(thread, threading.Thread):
        raise NotYet("""there is no practice_thread: make it with
            threading.Thread(target=practice_server.serve_forever, daemon=True), then
            practice_thread.start().""")
    if thread.ident is None:
        raise NotYet("""practice_server was never started: add practice_thread.start()
            to your cell, then run it again.""")
    return thread


class PracticeServer(Exercise):
    """practice_server serves practice, and answers GET /about over HTTP."""

    def check(self, names, cells):
        if "practice_server" not in names:
            raise run_first("it sets practice_server")
        code = last_cell_that_sets("practice_server", cells)
        if names["practice_server"] is None and self.untouched(code):
            raise NotAttempted("""in the exercise cell above, set practice_server to
                what make_server(...) returns and start its thread; run it, then this
                cell again.""")
        if names["practice_server"] is None:
            raise NotYet(f"""practice_server is still None: set it to what
                {MAKE_SERVER} returns, at the end of your cell.""")
        server = _server(names)
        _thread(names, code)
        if server.socket.fileno() == -1:  # its port is closed
            raise NotYet("""practice_server has been stopped: run the exercise cell
                above again to start a new one, then this cell.""")
        if server.app is not names.get("practice"):
            name = "app" if server.app is names.get("app") else "another app"
            raise NotYet(f"""practice_server serves {name}, not practice: make it with
                {MAKE_SERVER}.""")
        response = over_http(server, "/about")
        if_404 = f"is practice_server serving practice ({MAKE_SERVER})?"
        judge(response, "/about", "About this server", if_404)  # NotYet if not
        error = raised(code)
        if isinstance(error, requests.RequestException):
            raise NotYet(f"""your cell's request raised {type(error).__name__}: ask
                practice_server itself, at {PRACTICE_URL}, and run the cell again.""")
        if error is not None:
            raise NotYet(f"""practice_server answers, but your cell raised
                {describe(error)}: fix that line, then run the cell again.""")
        request = code.replace('@practice.route("/about")', "")  # the rest of it
        asks = "requests.get(" in request and "/about" in request
        ports = "practice_server.port", "practice_server.server_port", str(server.port)
        if not asks or not any(port in code for port in ports):
            raise NotYet(f"""your cell does not ask practice_server for /about: add
                response = requests.get({PRACTICE_URL}, timeout=5), then
                print(response.text).""")
        return "practice_server answers GET /about with 'About this server' over HTTP."


class PracticeStopped(Exercise):
    """practice_server has stopped and practice_thread has ended, as seen on them, not
    over the network (slow to say "nothing here" on some computers): the server's
    socket, which Werkzeug closes once serve_forever has ended, and the thread."""

    def check(self, names, cells):
        if names.get("practice_server") is None:
            raise NotAttempted("start practice_server in the exercise above first.")
        server, start = _server(names), last_cell_that_sets("practice_server", cells)
        try:
            thread = _thread(names, start)
        except NotYet:
            raise NotYet("""practice_server never ran in its thread, so there is
                nothing to stop, and shutdown() would wait for it forever (the [*]):
                fix the exercise above first (its check says how), then run this one
                again.""") from None
        after = cells_after(start, cells)  # but starters and checks:
        tried = [c for c in after if not (self.untouched(c) or only_checks(c))]
        code = "\n".join([start, *tried])
        uncalled = r"(practice_server\.shutdown|practice_thread\.join)\b(?!\s*\()"
        bare = re.search(uncalled, (tried or [""])[-1])  # in the last try
        if bare:
            raise NotYet(f"""{bare[1]} without brackets names the method but does not
                call it (a method runs only with ()): {STOP}.""")
        error = raised(tried[-1]) if tried else None
        if error is not None and not isinstance(error, KeyboardInterrupt):  # not a stop
            raise NotYet(f"""your cell raised {describe(error)}: fix that line, then
                run the cell again.""")
        order = f"""join() waits for practice_thread to end, which it does only after
            shutdown() (so the cell showed [*]): {STOP}, in that order."""
        if "practice_server.shutdown(" not in code and "server_close(" in code:
            raise NotYet(f"""server_close() closes the port, but practice_thread keeps
                running serve_forever: {STOP}.""")
        if "practice_server.shutdown(" not in code and "practice_thread.join(" in code:
            raise NotYet(order)
        if "practice_server.shutdown(" not in code and not tried:
            raise NotAttempted("""stop practice_server in the exercise cell above, then
                run this cell again.""")
        if "practice_server.shutdown(" not in code:
            raise NotYet(f"practice_server is still serving: {STOP}.")
        if "practice_thread.join(" not in code:
            raise NotYet("""shutdown() stops the server, then wait for its thread to
                end: add practice_thread.join() after practice_server.shutdown().""")
        if server.socket.fileno() != -1 or thread.is_alive():
            raise NotYet(f"practice_server is still serving: {order}")
        return "practice_server has stopped and practice_thread has ended."


check_practice_server = PracticeServer("03-24")
check_practice_stopped = PracticeStopped("03-29")
