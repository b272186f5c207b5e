"""Prose that counts things still counts right: a new lesson or exercise leaves
no "three lessons" or "3 of 5 exercises" untrue.

A count is a number (in words or digits, as "3 of 5" too) before a counted
noun, with at most two of FILLERS between ("three short Jupyter notebooks").
Each noun's true numbers come from the lessons (notebooks/course.py). "one" and
"both" are left alone: they rarely count a whole. To watch another noun or
file, add it to COUNTED or PROSE.
"""

import json
import re

import pytest

from helpers import COURSE, ROOT

NUMBERS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
    if word != "one"
}
FILLERS = ["short", "Jupyter", "more", "new", "small", "whole", "published"]
# The site's pages besides one per lesson (.site/build.py, tests/test_site.py).
SITE_PAGES = ["home", "README", "CONTRIBUTING", "MEASUREMENTS", "License", "search"]
SITE_PAGES += ["search results"] + [  # and the teacher's pages (.site/build.py)
    page.stem
    for page in (ROOT / "teaching").glob("*.md")
    if page.name != "instructor-notes.md"
]


def routes(code):
    return len(re.findall(r"\.route\(", code))


def apps_so_far():
    """The number of routes server/app.py has after each lesson, by lesson."""
    counts, app = {}, ""
    for lesson in COURSE:
        app = lesson.writes.get("app.py", app)
        counts[lesson.path.name] = routes(app)
    return counts


def true_counts(where):
    """{noun: the numbers it may truly be given} in the file `where`."""
    lessons, routes_after = len(COURSE), apps_so_far()
    exercises = {sum(len(lesson.exercises) for lesson in COURSE)}
    in_lesson = {lesson.path.name: lesson for lesson in COURSE}.get(where)
    if in_lesson:  # a lesson may count its own exercises, and its app's pages
        exercises.add(len(in_lesson.exercises))
        pages = {routes_after[where]}
    else:
        pages = {routes_after[COURSE[-1].path.name], lessons + len(SITE_PAGES)}
    return {
        "lesson": {lessons},
        "notebook": {lessons},
        "exercise": exercises,
        "page": pages,
        "address": {routes_after[COURSE[-1].path.name]},
    }


COUNTED = ["lesson", "notebook", "exercise", "page", "address"]
NUMBER = rf"\b({'|'.join(NUMBERS)}|\d+)"
COUNT = re.compile(
    rf"{NUMBER}(?:\s+of\s+{NUMBER[2:]})?((?:\s+(?:{'|'.join(FILLERS)}))*?)"
    rf"\s+({'|'.join(COUNTED)})(?:e?s)?\b",
    re.IGNORECASE,
)


# Written from the lessons by a command, and tested to be what it writes now.
GENERATED = ["teaching/instructor-notes.md"]


def without_code(text):
    """Markdown with its fenced blocks (commands, a run's output) blanked out,
    each line of them left empty, so that line numbers still hold."""
    blank = lambda block: "\n" * block[0].count("\n")  # noqa: E731
    return re.sub(r"^```.*?^```", blank, text, flags=re.M | re.S)


def prose():
    """(file, its prose) for every file people read: the README, CONTRIBUTING,
    the site's and teaching/'s Markdown (but GENERATED), and the lessons'
    Markdown cells."""
    for name in ["README.md", "CONTRIBUTING.md"]:
        yield name, without_code((ROOT / name).read_text(encoding="utf-8"))
    for folder in [".site", "teaching"]:
        for path in sorted((ROOT / folder).glob("**/*.md")):
            where = path.relative_to(ROOT).as_posix()
            # not the hub's proxy's npm packages (teaching/hub/node_modules)
            if where not in GENERATED and "node_modules" not in path.parts:
                yield where, without_code(path.read_text(encoding="utf-8"))
    for lesson in COURSE:
        cells = json.loads(lesson.path.read_text(encoding="utf-8"))["cells"]
        markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
        yield lesson.path.name, "\n\n".join(markdown)


def counts(text):
    """(the words, the number, the noun, its line) of each count in `text`."""
    for found in COUNT.finditer(text):
        number = found[2] or found[1]  # "3 of 5 exercises" counts 5
        value = int(number) if number.isdigit() else NUMBERS[number.lower()]
        line = text.count("\n", 0, found.start()) + 1
        yield " ".join(found[0].split()), value, found[4].lower(), line


def untrue(where, text):
    """Each count in `text`, the prose of `where`, that the lessons make untrue."""
    truth = true_counts(where)
    return [
        f"{words!r} (line {line})"
        for words, value, noun, line in counts(text)
        if value not in truth[noun]
    ]


PROSE = list(prose())


@pytest.mark.parametrize(("where", "text"), PROSE, ids=[where for where, _ in PROSE])
def test_every_count_in_prose_holds(where, text):
    assert untrue(where, text) == [], (
        f"{where} counts something the lessons no longer have: rephrase it without"
        " a number, or make it right"
    )


def test_counts_are_found_in_words_digits_and_totals():
    found = list(
        counts("In three short Jupyter notebooks; 3 of 5 exercises; all 9 pages")
    )
    assert found == [
        ("three short Jupyter notebooks", 3, "notebook", 1),
        ("3 of 5 exercises", 5, "exercise", 1),
        ("9 pages", 9, "page", 1),
    ]


def test_a_count_that_no_longer_holds_is_found():
    lessons = len(COURSE)
    text = f"{lessons + 1} lessons, {lessons} lessons; lesson 2 gets a third exercise"
    assert untrue("README.md", text) == [f"'{lessons + 1} lessons' (line 1)"]
