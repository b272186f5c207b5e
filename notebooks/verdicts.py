"""The three labels a check's line starts with, each written here once.

Correct:        your code does what the exercise asks;
Not yet:        something is not right yet; the line says what to try;
Not attempted:  the exercise cell is still as it was, or has not run yet."""

CORRECT = "Correct:"
NOT_YET = "Not yet:"
NOT_ATTEMPTED = "Not attempted:"
LABELS = (CORRECT, NOT_YET, NOT_ATTEMPTED)


class NotYet(Exception):  # a check raises it with what to try
    label = NOT_YET


class NotAttempted(Exception):  # a check raises it with what to do first
    label = NOT_ATTEMPTED


def describe(error):
    """An exception in one line, such as 'ZeroDivisionError: division by zero'."""
    message = " ".join(str(error).split()).rstrip(".")
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def run_first(what):
    return NotAttempted(f"""run the exercise cell above first ({what}), then this
        cell again.""")


def should_be(name, what, value):
    plain = value is None or isinstance(value, (int, float, str))
    shown = repr(value) if plain else f"a {type(value).__name__} object"
    return NotYet(f"{name} should be {what}, not {shown}.")
