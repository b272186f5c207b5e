"""Asking the learner's Flask app for a page, as the checks do: with Flask's
test client (no network), or over HTTP. Each returns the Correct text or raises
NotYet with what to do. And Route, the kind of exercise that asks for a page."""

import contextlib
import difflib
import io
import logging
import re
from unittest.mock import patch

import requests
from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from learner import Exercise, last_cell_that_sets, raised
from verdicts import NotAttempted, NotYet, describe, run_first, should_be

AN_APP = "a Flask app, made with practice = Flask(__name__)"


def routes(app):
    """The addresses an app has routes for, without Flask's own /static."""
    return sorted(r.rule for r in app.url_map.iter_rules() if r.endpoint != "static")


def ask(app, path, expected):
    """GET `path` from the learner's app with Flask's test client."""
    # A second function of one name: Flask refuses it, yet adds its route, which
    # answers with the first. `shared`: path's function names another route has.
    mine = [r.endpoint for r in app.url_map.iter_rules() if r.rule.rstrip("/") == path]
    shared = [name for name in mine if len(list(app.url_map.iter_rules(name))) > 1]
    if shared:
        raise NotYet(f"""your {path} function has the same name as another one,
            {shared[0]}(), so Flask refused it (the error 'overwriting an existing
            endpoint function: {shared[0]}'): give it a name of its own, such as
            {path.strip("/")}().""")
    raising = patch.dict(app.config, PROPAGATE_EXCEPTIONS=True)  # errors, not logs
    try:  # and what the function prints is not shown
        with raising, contextlib.redirect_stdout(io.StringIO()):
            response = app.test_client().get(path)
    except Exception as error:
        if "did not return a valid response" not in str(error):
            raise NotYet(f"your {path} function raised {describe(error)}.") from None
        reason = " ".join(str(error).split()).split(". ", 1)[-1]  # Flask's words
        raise NotYet(f"""your {path} function did not return a valid response.
            {reason} Return the text {expected!r}.""") from None
    if_404 = f'did you add @practice.route("{path}") just above your function?'
    near = difflib.get_close_matches(path, set(routes(app)) - {path}, n=1)
    if near:  # such as /About for /about, or /mornign for /morning
        if_404 = f'your route is "{near[0]}": routes match letter for letter.'
    return judge(response, path, expected, if_404)


def over_http(server, path):
    """GET `path` from a server that runs in this kernel, such as practice_server."""
    logging.disable()  # the server logs nothing on stderr while we ask
    try:  # its socket is open, so a connect is never refused: no 2 s wait
        return requests.get(f"http://127.0.0.1:{server.port}{path}", timeout=(3, 2))
    except requests.Timeout:
        raise NotYet(f"""the server on port {server.port} does not answer: does
            practice_thread run practice_server.serve_forever?""") from None
    except requests.ConnectionError as error:
        raise NotYet(f"""practice_server did not take the request ({describe(error)}):
            run the exercise cell above again, then this cell.""") from None
    finally:
        logging.disable(logging.NOTSET)


def judge(response, path, expected, if_404):
    """The verdict on the answer to GET `path`, from a test client or over HTTP."""
    code, got = response.status_code, response.text
    if code == 404:
        raise NotYet(f"GET {path} answered 404 Not Found: {if_404}")
    if code == 308 and response.headers.get("Location", "").endswith(f"{path}/"):
        raise NotYet(f"""your route is "{path}/", with a slash at the end, so GET
            {path} answered 308 Permanent Redirect (Flask's way of saying "ask for
            {path}/ instead"): routes match exactly, so write "{path}" without the
            slash.""")
    if code != 200:
        name = HTTP_STATUS_CODES.get(code, "")
        raise NotYet(f"GET {path} answered {code} {name}, expected 200 OK.")
    if got == expected:
        return f"GET {path} answers {expected!r}."
    line = f"GET {path} answered {got!r}, expected {expected!r}"
    if got.lower() != expected.lower():
        raise NotYet(line + ".")
    wrong = [want for have, want in zip(got, expected, strict=False) if have != want]
    if len(wrong) == 1 and wrong[0].isupper():
        raise NotYet(line + f" (capital {wrong[0]}).")
    raise NotYet(line + " (check the capital letters).")


class Route(Exercise):
    """Give practice a route for `path` that answers `text`, keeping the routes
    that the starter has (such as /about in lesson 2)."""

    def __init__(self, cell, path, text):
        super().__init__(cell)
        self.path, self.text = path, text

    @property
    def kept(self):
        return sorted(re.findall(r'@practice\.route\("(.*?)"\)', self.starter))

    def check(self, names, cells):
        path, practice = self.path, names.get("practice")
        code = last_cell_that_sets("practice", cells)
        if isinstance(error := raised(code), SyntaxError):  # none of the cell ran
            raise NotYet(f"""your cell did not run; Python says {describe(error)}:
                fix that line and run the cell again, then this one.""")
        if "practice" not in names:
            raise run_first("it makes practice")
        if not isinstance(practice, Flask):
            raise should_be("practice", AN_APP, practice)
        have = routes(practice)
        if have == self.kept and self.untouched(code):
            todo = f"add a route for {path} to practice"
            todo = todo if self.kept else f"give practice a route for {path}"
            raise NotAttempted(f"""{todo} in the exercise cell above and run it, then
                run this cell again.""")
        if have == self.kept:
            raise NotYet(self.no_route(code, names.get("app")))
        for lost in [route for route in self.kept if route not in have]:
            raise NotYet(f"""practice has lost its {lost} route: keep the exercise
                cell's @practice.route("{lost}") function, and add {path} below it.""")
        return ask(practice, path, self.text)

    def no_route(self, code, app):
        """Why practice has no route for the path, from the exercise cell's code."""
        write = f'write @practice.route("{self.path}")'
        refused = re.search(r"""@practice\.route\(\s*(["'])([^/].*?)\1""", code)
        if refused:
            return f"""routes start with a slash, so Flask refused "{refused[2]}"
                (the ValueError): {write}, then run the cell again."""
        if "@app.route(" in code and not isinstance(app, Flask):
            return f"""your code uses app, which is the lesson's app and is not
                defined in this kernel (the NameError): {write} instead, then run the
                cell again."""
        if "@app.route(" in code and self.path in routes(app):
            return f"""your code says @app.route, which added {self.path} to app, the
                lesson's server, not to practice: {write}."""
        if "@app.route(" in code:
            return f"""your code says @app.route, which adds a route to app, the
                lesson's server, not to practice; Flask refused (the AssertionError
                'The setup method route can no longer be called'), since app has
                already answered requests: {write}."""
        if error := raised(code):  # a line above the route stopped the cell
            return f"""your cell stopped at {describe(error)}, before it gave practice
                a route for {self.path}: fix that line, then run both cells again."""
        what = f"no route for {self.path}" if self.kept else "no routes"
        return f"""practice has {what}: put @practice.route("{self.path}") on the line
            just above your function's def line, then run both cells again."""
