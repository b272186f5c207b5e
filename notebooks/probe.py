"""Asking a learner's Flask app for a page, as the checks do, and reading its
routes. Each function returns the Correct text or raises NotYet."""

import contextlib
import io

from verdicts import NotYet, describe
from werkzeug.http import HTTP_STATUS_CODES


def routes(app):
    """The addresses an app has routes for, without Flask's own /static."""
    rules = app.url_map.iter_rules()
    return sorted(rule.rule for rule in rules if rule.endpoint != "static")


def shared_function_name(app, path):
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


def ask(app, path, expected):
    """GET `path` from the learner's app with Flask's test client (no network)."""
    shared = shared_function_name(app, path)
    if shared:
        raise NotYet(
            f"your {path} function has the same name as another one,"
            f" {shared}(), so Flask refused it (the error 'overwriting an existing"
            f" endpoint function: {shared}'): give it a name of its own, such as"
            f" {path.strip('/')}()."
        )
    saved = app.config["PROPAGATE_EXCEPTIONS"]
    app.config["PROPAGATE_EXCEPTIONS"] = True  # raise errors, don't log them
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # what the function prints
            response = app.test_client().get(path)
    except Exception as error:
        if "did not return a valid response" not in str(error):
            raise NotYet(f"your {path} function raised {describe(error)}.") from None
        reason = " ".join(str(error).split()).split(". ", 1)[-1]  # Flask's words
        raise NotYet(
            f"your {path} function did not return a valid response."
            f" {reason} Return the text {expected!r}."
        ) from None
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = saved
    if_404 = f'did you add @practice.route("{path}") just above your function?'
    near = [rule for rule in routes(app) if rule.lower() == path.lower()]
    if near:  # such as /About for /about
        if_404 = f'your route is "{near[0]}": routes match letter for letter.'
    return judge(response, path, expected, if_404)


def judge(response, path, expected, if_404):
    """The verdict on the answer to GET `path`, from a test client or over HTTP."""
    code = response.status_code
    if code == 404:
        raise NotYet(f"GET {path} answered 404 Not Found: {if_404}")
    if code == 308 and response.headers.get("Location", "").endswith(f"{path}/"):
        raise NotYet(
            f'your route is "{path}/", with a slash at the end, so GET'
            f" {path} answered 308 Permanent Redirect (Flask's way of saying"
            f' "ask for {path}/ instead"): routes match exactly, so write'
            f' "{path}" without the slash.'
        )
    if code != 200:
        name = HTTP_STATUS_CODES.get(code, "")
        raise NotYet(f"GET {path} answered {code} {name}, expected 200 OK.")
    got = response.text
    if got == expected:
        return f"GET {path} answers {expected!r}."
    line = f"GET {path} answered {got!r}, expected {expected!r}"
    if got.lower() != expected.lower():
        raise NotYet(line + ".")
    wrong = [want for have, want in zip(got, expected, strict=False) if have != want]
    if len(wrong) == 1 and wrong[0].isupper():
        raise NotYet(line + f" (capital {wrong[0]}).")
    raise NotYet(line + " (check the capital letters).")
