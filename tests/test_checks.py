"""The exercises and their checks (notebooks/checks.py) agree, in real kernels.

In the lessons, an exercise cell (tagged `exercise`) holds starter code, a check
cell (tagged `check`) calls one check from checks.py, such as
checks.check_about(), which finds the learner's names and cells itself, and a
solution cell (tagged `solution`) shows an answer in a ```python block.
Each check (an Exercise in checks.py) knows the id of its exercise cell: these
tests find everything else in the lessons.

MISTAKES below is the table of what learners try, by exercise, each run through
its lesson in a Jupyter kernel (nbclient), as a learner would: the other
exercises solved, the check printing one line on stdout within 3 s. The rows
that every route exercise shares are made by route_mistakes. Lesson 3's rows run
twice: as usual, and in a kernel where a refused connect to 127.0.0.1 takes 2 s,
as on Windows (see SLOW_REFUSAL); the verdicts must be the same.
"""

import ast
import asyncio
import importlib.util
import math
import re
import threading
import time
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from werkzeug.serving import BaseWSGIServer

import learner
import lessons
from helpers import LESSON, ROOT, copy_project, has_tag, solutions
from verdicts import CORRECT, LABELS, NOT_ATTEMPTED, NOT_YET

NOTEBOOKS = ROOT / "notebooks"


def load_checks(project=ROOT):
    """notebooks/checks.py from `project`, loaded as a module of its own."""
    spec = importlib.util.spec_from_file_location(
        "checks", project / "notebooks" / "checks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checks = load_checks()


class Exercise(NamedTuple):
    """An exercise as the lessons hold it, found by the id of its cell."""

    lesson: str
    cell: nbformat.NotebookNode  # the exercise cell
    check_cell: str  # the code of the next cell tagged check
    solution: str  # the code of the next solution


def in_the_lessons(cell_id):
    for lesson, path in LESSON.items():
        cells = nbformat.read(path, as_version=4).cells
        ids = [cell.get("id") for cell in cells]
        if cell_id in ids:
            after = cells[ids.index(cell_id) :]
            check = next(cell for cell in after if has_tag(cell, "check"))
            solution = next(cell for cell in after if has_tag(cell, "solution"))
            number = [c for c in cells if has_tag(c, "solution")].index(solution)
            return Exercise(lesson, after[0], check.source, solutions(lesson)[number])
    raise KeyError(f"no lesson has a cell with id {cell_id}")


# Each exercise by its short name ("about" for checks.check_about), as declared.
DECLARED = {
    name.removeprefix("check_"): exercise
    for name, exercise in vars(checks).items()
    if isinstance(exercise, learner.Exercise)
}
FOUND = {name: in_the_lessons(exercise.cell) for name, exercise in DECLARED.items()}


def test_every_exercise_cell_is_declared_once():
    cells = [
        cell.id
        for path in LESSON.values()
        for cell in nbformat.read(path, as_version=4).cells
        if has_tag(cell, "exercise")
    ]
    assert sorted(exercise.cell for exercise in DECLARED.values()) == sorted(cells)
    assert len(set(cells)) == len(cells)


@pytest.mark.parametrize("lesson", LESSON)
def test_each_exercise_is_followed_by_its_check_then_its_solution(lesson):
    cells = nbformat.read(LESSON[lesson], as_version=4).cells
    tags = [
        tag
        for cell in cells
        for tag in ("exercise", "check", "solution")
        if has_tag(cell, tag)
    ]
    assert tags == ["exercise", "check", "solution"] * tags.count("exercise")


@pytest.mark.parametrize("name", DECLARED)
def test_the_starter_kept_in_the_cell_metadata_is_the_cell_as_published(name):
    """A check reads the starter from the exercise cell's metadata, which the
    learner's edits leave alone: it must be the code the lesson gives."""
    cell = FOUND[name].cell
    assert "".join(cell.metadata.get("starter", "")) == cell.source, (
        f"copy the source of cell {cell.id} into its metadata as 'starter'"
    )
    assert DECLARED[name].starter == cell.source
    assert has_tag(cell, "exercise")


@pytest.mark.parametrize("name", DECLARED)
def test_a_check_cell_imports_checks_and_calls_its_check(name):
    assert FOUND[name].check_cell == f"import checks\n\nchecks.check_{name}()"


def literal_starts(source):
    """The text each string literal of `source` begins with (an f-string's too)."""
    tree = ast.parse(source)
    inside = {
        id(v)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for v in node.values
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            yield first.value if isinstance(first, ast.Constant) else ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in inside:
                yield node.value


def test_each_label_begins_one_string_literal_in_notebooks():
    """A check's text never starts with its label: the label is verdicts.py's."""
    starts = [
        (path.name, label)
        for path in sorted(NOTEBOOKS.glob("*.py"))
        for text in literal_starts(path.read_text(encoding="utf-8"))
        for label in LABELS
        if text.startswith(label)
    ]
    assert sorted(starts) == sorted(("verdicts.py", label) for label in LABELS)


def test_checks_read_as_a_list_of_exercises_the_machinery_kept_apart():
    """checks.py, which a curious learner opens, stays a page of exercises with
    none of IPython's plumbing (learner.py has it). Its length is a goal, not
    a gate: no test counts its lines."""
    tree = ast.parse((NOTEBOOKS / "checks.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import)
        for alias in n.names
    }
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {name for name in imported if name.startswith("IPython")}, imported


def test_a_check_ignores_what_older_notebooks_passed_it(monkeypatch, capsys):
    monkeypatch.setattr(learner, "ran", lambda: ({"practice": None}, []))
    checks.check_about("practice", 1)
    assert capsys.readouterr().out == (
        "Not yet: practice should be a Flask app, made with practice ="
        " Flask(__name__), not None.\n"
    )


def test_a_check_prints_one_line_and_leaves_the_app_as_it_was(monkeypatch, capsys):
    names = {"__name__": "__main__"}
    exec(
        "from flask import Flask\n\npractice = Flask(__name__)\n\n"
        '@practice.route("/about")\ndef about():\n    return 1 / 0\n',
        names,
    )
    monkeypatch.setattr(learner, "ran", lambda: (names, []))
    assert checks.check_about() is None  # Jupyter shows no value
    assert capsys.readouterr() == (
        "Not yet: your /about function raised ZeroDivisionError: division by zero.\n",
        "",
    )
    assert names["practice"].config["PROPAGATE_EXCEPTIONS"] is None


def test_a_check_that_fails_itself_prints_one_line(monkeypatch, capsys):
    class NoServer(BaseWSGIServer):
        def __init__(self):
            pass  # no socket: asking for one raises AttributeError

    thread = threading.current_thread()  # a thread that has started
    names = {"practice_server": NoServer(), "practice_thread": thread}
    monkeypatch.setattr(learner, "ran", lambda: (names, []))
    checks.check_practice_server()
    assert capsys.readouterr() == (
        "Not yet: checking your code raised AttributeError:"
        " 'NoServer' object has no attribute 'socket'.\n",
        "",
    )


def test_outside_a_notebook_a_check_prints_one_line(capsys):
    checks.check_about()
    assert capsys.readouterr() == (
        "Not attempted: run the exercise cell above first (it makes practice),"
        " then this cell again.\n",
        "",
    )


# A learner's code in an exercise cell. START and STOP are lesson 3's solutions.
START = FOUND["practice_server"].solution
STOP = FOUND["practice_stopped"].solution
STOPPED_STARTER = DECLARED["practice_stopped"].starter
START_WITHOUT_START = START.split("practice_thread.start()")[0]
START_WITH_BRACKETS = START.replace("serve_forever,", "serve_forever(),")

# What the learner does with the last cell of the row's code:
RUN = "run it, then the check"
PAUSE = "run it, then the check at once and again after a pause"
INTERRUPT = "run it; it shows [*], so interrupt it; then run the check"
FRESH = "run it in a fresh kernel (Kernel > Restart), before the lesson; then the check"
# The code "first" means: run the check cell in a fresh kernel, before anything.
FIRST = None


class Mistake(NamedTuple):
    """A row of the table: the learner's code (a cell, or several run in
    order), how the check's line starts, a phrase it contains, and what the
    learner does."""

    code: str | list[str] | None
    start: str
    phrase: str
    how: str = RUN


def route_mistakes(name):
    """The mistakes every route exercise gets, made from its declaration (path,
    text, the routes its starter keeps) and its solution in the lesson."""
    route, solved = DECLARED[name], FOUND[name].solution
    path, text, mine = route.path, route.text, f'@practice.route("{route.path}")'
    by_app = solved.replace(mine, f'@app.route("{path}")')
    big, small = f"/{path[1].upper()}{path[2:]}", f"{text[0].lower()}{text[1:]}"
    typo = f"{path[:-2]}{path[-1]}{path[-2]}"  # the last two letters swapped

    def at(address):
        return solved.replace(mine, f'@practice.route("{address}")')

    def says(line):
        return solved.replace(f'return "{text}"', line)

    rows = {
        "check before the exercise": Mistake(
            FIRST, NOT_ATTEMPTED, "run the exercise cell above first"
        ),
        "the starter": Mistake(route.starter, NOT_ATTEMPTED, f"a route for {path}"),
        "the solution": Mistake(solved, CORRECT, repr(text)),
        "no decorator": Mistake(
            solved.replace(f"{mine}\n", ""), NOT_YET, f"put {mine}"
        ),
        "the decorator of app": Mistake(
            by_app, NOT_YET, "@app.route, which adds a route to app"
        ),
        "no slash at the start": Mistake(
            at(path[1:]),
            NOT_YET,
            f'routes start with a slash, so Flask refused "{path[1:]}"',
        ),
        "the decorator of app, in a fresh kernel": Mistake(
            by_app, NOT_YET, "is not defined in this kernel", FRESH
        ),
        "the decorator of app, before app answered a request": Mistake(
            ["from server import app", by_app],
            NOT_YET,
            f"which added {path} to app",
            FRESH,
        ),
        "a trailing slash": Mistake(at(f"{path}/"), NOT_YET, "308 Permanent Redirect"),
        f"a capital {big[1]} in the address": Mistake(
            at(big), NOT_YET, f'your route is "{big}": routes match letter for letter'
        ),
        "a typo in the address": Mistake(
            at(typo), NOT_YET, f'your route is "{typo}": routes match letter for letter'
        ),
        f"a small {small[0]}": Mistake(
            says(f'return "{small}"'), NOT_YET, f"(capital {text[0]})"
        ),
        "print, not return": Mistake(
            says(f'print("{text}")'), NOT_YET, "did not return a valid response"
        ),
        "an error above the route": Mistake(
            solved.replace(mine, f"prnt({text!r})\n{mine}"),
            NOT_YET,
            f"stopped at NameError: name 'prnt' is not defined, before it gave practice"
            f" a route for {path}",
        ),
        "practice is not an app": Mistake(
            "practice = None", NOT_YET, "practice should be a Flask app"
        ),
        "a missing colon": Mistake(
            solved.replace("():", "()", 1), NOT_YET, "SyntaxError: expected ':'"
        ),
        "a missing colon, in a fresh kernel": Mistake(
            solved.replace("():", "()", 1), NOT_YET, "SyntaxError: expected ':'", FRESH
        ),
    }
    function = re.search(rf"{re.escape(mine)}\ndef (\w+)\(", solved)[1]
    for kept in route.kept:  # the starter's routes, which the solution keeps
        block = re.search(
            rf'\n\n@practice\.route\("{kept}"\)\ndef (\w+)\(.*\n.*\n', solved
        )
        rows[f"a second function named {block[1]}"] = Mistake(
            solved.replace(f"def {function}(", f"def {block[1]}("),
            NOT_YET,
            f"same name as another one, {block[1]}()",
        )
        rows[f"the {kept} route deleted"] = Mistake(
            solved.replace(block[0], ""), NOT_YET, f"lost its {kept} route"
        )
    return rows


# The mistakes table, by exercise: the row's name and the Mistake.
MISTAKES = {
    name: route_mistakes(name)
    for name, exercise in DECLARED.items()
    if isinstance(exercise, checks.Route)
}
MISTAKES["prediction"] = {
    "check before the exercise": Mistake(
        FIRST, NOT_ATTEMPTED, "run the exercise cell above"
    ),
    "the starter": Mistake(DECLARED["prediction"].starter, NOT_ATTEMPTED, "..."),
    "404": Mistake("prediction = 404", CORRECT, "404"),
    "404.0": Mistake("prediction = 404.0", NOT_YET, "(a float)"),
    "True": Mistake("prediction = True", NOT_YET, "(a bool)"),
    "in quotes": Mistake('prediction = "404"', NOT_YET, "(a string)"),
    "a comparison, after 405": Mistake(
        ["prediction = 405", "prediction == 404"],
        NOT_YET,
        "your cell ran but did not set prediction",
    ),
    "a comparison, in a fresh kernel": Mistake(
        "prediction == 404", NOT_YET, "your cell ran but did not set prediction", FRESH
    ),
    "a capital P, after 405": Mistake(
        ["prediction = 405", "Prediction = 404"],
        NOT_YET,
        "Prediction is not prediction",
    ),
    "a syntax error, after 405": Mistake(
        ["prediction = 405", "prediction = 40 4"], NOT_YET, "your cell did not run"
    ),
    "200": Mistake("prediction = 200", NOT_YET, "200 would mean a route"),
}
MISTAKES["practice_server"] = {
    "check before the exercise": Mistake(
        FIRST, NOT_ATTEMPTED, "run the exercise cell above"
    ),
    "the starter": Mistake(
        DECLARED["practice_server"].starter, NOT_ATTEMPTED, "set practice_server"
    ),
    "the solution": Mistake(START, CORRECT, "over HTTP"),
    "serving the lesson's app": Mistake(
        START.replace("0, practice,", "0, app,"),
        NOT_YET,
        "practice_server serves app, not practice",
    ),
    "never started": Mistake(START_WITHOUT_START, NOT_YET, "never started"),
    "serve_forever() with brackets": Mistake(
        START_WITH_BRACKETS, NOT_YET, "without ()", INTERRUPT
    ),
    "asking the lesson's stopped server": Mistake(
        START.replace("http://127.0.0.1:{practice_server.port}", "{base_url}"),
        NOT_YET,
        "your cell's request raised ConnectionError",
        PAUSE,
    ),
    "a request for another page": Mistake(
        START.replace('/about", timeout', '/abuot", timeout'),
        NOT_YET,
        "your cell does not ask practice_server for /about",
    ),
    "no request": Mistake(
        START.split("response =")[0],
        NOT_YET,
        "your cell does not ask practice_server for /about",
    ),
    "still None": Mistake(
        START.replace("practice_server", "server") + "practice_server = None\n",
        NOT_YET,
        "practice_server is still None",
    ),
}
MISTAKES["practice_stopped"] = {
    "check before the exercise": Mistake(FIRST, NOT_ATTEMPTED, "start practice_server"),
    "the starter": Mistake(
        [START, STOPPED_STARTER], NOT_ATTEMPTED, "stop practice_server"
    ),
    "the starter, after checking exercise 1": Mistake(
        [START, FOUND["practice_server"].check_cell, STOPPED_STARTER],
        NOT_ATTEMPTED,
        "stop practice_server",
    ),
    "the solution": Mistake([START, STOP], CORRECT, "has ended", PAUSE),
    "server_close() alone": Mistake(
        [START, "practice_server.server_close()\n"],
        NOT_YET,
        "server_close() closes the port, but practice_thread keeps running",
        PAUSE,
    ),
    "the lesson's server stopped instead": Mistake(
        [START, "web_server.shutdown()\nthread.join(timeout=5)\n"],
        NOT_YET,
        "practice_server is still serving: call practice_server.shutdown()",
    ),
    "no join()": Mistake(
        [START, "practice_server.shutdown()\n"],
        NOT_YET,
        "add practice_thread.join()",
        PAUSE,
    ),
    "no brackets": Mistake(
        [START, "practice_server.shutdown\npractice_thread.join\n"],
        NOT_YET,
        "without brackets",
    ),
    "no brackets, then brackets": Mistake(
        [START, "practice_server.shutdown\npractice_thread.join\n", STOP],
        CORRECT,
        "has ended",
    ),
    "a misspelt name": Mistake(
        [START, "practice_sever.shutdown()\npractice_thread.join()\n"],
        NOT_YET,
        "your cell raised NameError: name 'practice_sever' is not defined: fix that",
    ),
    "join() alone": Mistake(
        [START, "practice_thread.join()\n"],
        NOT_YET,
        "only after shutdown()",
        INTERRUPT,
    ),
    "join() before shutdown()": Mistake(
        [START, "practice_thread.join()\npractice_server.shutdown()\n"],
        NOT_YET,
        "in that order",
        INTERRUPT,
    ),
    "a server never started": Mistake(
        [START_WITHOUT_START, STOP], NOT_YET, "never ran in its thread", INTERRUPT
    ),
    "serve_forever() with brackets": Mistake(
        [START_WITH_BRACKETS.split("response =")[0], STOP],
        NOT_YET,
        "never ran in its thread",
        INTERRUPT,
    ),
}
# Every row, by its name ("about: the starter"): (exercise, Mistake).
ROWS = {
    f"{exercise}: {what}": (exercise, mistake)
    for exercise, rows in MISTAKES.items()
    for what, mistake in rows.items()
}


PAUSE_SECONDS = 0.5  # a learner reading the line before they run the check again
# The cell is still running ([*]) this long after it started, as a learner sees
# it before they press stop: long enough, on a busy machine, for the cell to
# reach the call that never returns (at 0.5 s a serve_forever() cell was once
# interrupted before its server started serving, so that its shutdown() hung too).
HANG_SECONDS = 2
CHECK_SECONDS = 3  # a check's line comes within this

# Loaded by IPython when the kernel starts (IPYTHONDIR/profile_default/startup):
# a refused connect to this computer takes 2 s, as Windows takes (it tries the
# SYN again; measured on GitHub's windows-latest runners: 2,002-2,011 ms). With a
# shorter timeout, the connect times out instead, as it would there.
SLOW_REFUSAL = """
def _refuse_slowly():  # in closures, which FRESH_KERNEL's reset leaves alone
    import socket
    import time

    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    local = ("127.0.0.1", "localhost", "::1")

    def wait(sock):
        timeout = sock.gettimeout()
        if timeout is not None and timeout < 2:
            time.sleep(timeout)
            raise TimeoutError("timed out")
        time.sleep(2)

    def slow_connect(self, address):
        try:
            return connect(self, address)
        except ConnectionRefusedError:
            if address[0] in local:
                wait(self)
            raise

    def slow_connect_ex(self, address):
        code = connect_ex(self, address)
        if code == 111 and address[0] in local:  # ECONNREFUSED
            wait(self)
        return code

    socket.socket.connect, socket.socket.connect_ex = slow_connect, slow_connect_ex


_refuse_slowly()
del _refuse_slowly
"""
HOW_LONG_A_REFUSAL_TAKES = """
import socket, time
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
closed_port = probe.getsockname()[1]
probe.close()
started = time.monotonic()
try:
    socket.create_connection(("127.0.0.1", closed_port), timeout=5)
except ConnectionRefusedError:
    print(round(time.monotonic() - started))
"""
# After each row, a cell that IPython does not keep in its history, so the
# checks never see it, forgets the row's names. A server left serving goes on
# (stopping it costs up to half a second); one whose socket was closed under it
# would spin, so it is stopped.
CLEAN_UP = """
_server = globals().get("practice_server")
if hasattr(_server, "socket") and _server.socket.fileno() == -1:
    _started = getattr(globals().get("practice_thread"), "ident", None)
    if _started and not _server._BaseServer__is_shut_down.is_set():
        _server.shutdown()
for _name in ("practice_server", "practice_thread", "practice", "prediction"):
    globals().pop(_name, None)
"""
# Before each FIRST or FRESH row, and before the lesson: the kernel as Kernel >
# Restart leaves it, in a moment rather than a kernel start. IPython forgets
# every name and every cell run (its history, which the checks read, so that no
# row sees another's cells), the last error, and the lesson's server package.
FRESH_KERNEL = """
import sys
for _name in [name for name in sys.modules if name.split(".")[0] == "server"]:
    del sys.modules[_name]
for _name in ("last_type", "last_value", "last_traceback", "last_exc"):
    sys.__dict__.pop(_name, None)
get_ipython().reset(new_session=True)
"""


def outputs_seen(cell):
    """What a cell shows: its stdout, stderr and the name of its error."""
    seen = {"stdout": "", "stderr": "", "error": None}
    for output in cell.outputs:
        if output.output_type == "stream":
            seen[output.name] += output.text
        elif output.output_type == "error":
            seen["error"] = output.ename
    return seen


class Kernel:
    """A Jupyter kernel running one lesson's cells, as JupyterLab would."""

    def __init__(self, client):
        self.client = client

    async def run(self, code, store_history=True, interrupt=False):
        """Run a cell; what it shows. With `interrupt`, a cell still running
        ([*]) HANG_SECONDS after it started is interrupted, as the stop button
        does, and `hung` says so."""
        cell = new_code_cell(code)
        started = time.monotonic()
        running = self.client.async_execute_cell(cell, 0, store_history=store_history)
        task = asyncio.ensure_future(running)
        hung = False
        if interrupt:
            await asyncio.wait([task], timeout=HANG_SECONDS)
            hung = not task.done()
            if hung:
                await self.client.km.interrupt_kernel()
        await asyncio.wait_for(task, 60)
        seen = outputs_seen(cell)
        seen.update(seconds=time.monotonic() - started, hung=hung)
        return seen


def cells_of(code):
    return [code] if isinstance(code, str) else code


async def in_a_kernel(project, lesson, rows, ipythondir=None, then=None, probe=False):
    """Run some rows of MISTAKES for one lesson in one kernel.

    First the FIRST rows (the check cell alone) and the FRESH rows (their code,
    then the check), each in a kernel made fresh (FRESH_KERNEL); then, made
    fresh again, the whole lesson with its solutions; then each other row: its
    code, then its check (twice for PAUSE rows). Returns {row: [what each
    check cell showed]}; with `probe`, under "refusal seconds", how long a
    refused connect took; under "then", what `then(kernel)` returned.
    """
    notebook = new_notebook(cells=[new_code_cell()])
    client = lessons.lesson_client(notebook, project, 60, local=True)
    env = lessons.kernel_env(
        project, **({"IPYTHONDIR": str(ipythondir)} if ipythondir else {})
    )
    seen = {}
    started = time.monotonic()
    async with client.async_setup_kernel(env=env):
        seen["kernel start seconds"] = time.monotonic() - started
        kernel = Kernel(client)
        await kernel.run("%xmode Minimal", store_history=False)  # quicker errors
        # Load checks.py (Flask, Werkzeug, requests) before any row is timed, as
        # a lesson's first cells do: CHECK_SECONDS bounds the check, not the
        # first import in one of nine kernels starting at once on two cores.
        await kernel.run("import checks", store_history=False)
        if probe:
            refusal = await kernel.run(HOW_LONG_A_REFUSAL_TAKES, store_history=False)
            seen["refusal seconds"] = refusal["stdout"]
        for name, (exercise, row) in rows.items():
            if row.code is FIRST or row.how == FRESH:
                await kernel.run(CLEAN_UP + FRESH_KERNEL, store_history=False)
                for cell in [] if row.code is FIRST else cells_of(row.code):
                    await kernel.run(cell)
                seen[name] = [await kernel.run(FOUND[exercise].check_cell)]
        await kernel.run(CLEAN_UP + FRESH_KERNEL, store_history=False)
        lesson_cells = nbformat.read(project / "notebooks" / f"{lesson}.ipynb", 4)
        answers = iter(solutions(lesson))
        lesson_started = time.monotonic()  # for the instructor notes
        for cell in lesson_cells.cells:  # but the command run in a new process
            if cell.cell_type == "code" and "subprocess" not in cell.source:
                exercise = has_tag(cell, "exercise")
                await kernel.run(next(answers) if exercise else cell.source)
        seen["lesson seconds"] = time.monotonic() - lesson_started
        for name, (exercise, row) in rows.items():
            if row.code is FIRST or row.how == FRESH:
                continue
            *before, last = cells_of(row.code)
            ran = []
            for cell in before:  # serve_forever() with brackets never returns
                hangs = row.how == INTERRUPT and "serve_forever()" in cell
                ran.append(await kernel.run(cell, interrupt=hangs))
            ran.append(await kernel.run(last, interrupt=row.how == INTERRUPT))
            check = FOUND[exercise].check_cell
            seen[name] = [await kernel.run(check)]
            if row.how == PAUSE:
                await asyncio.sleep(PAUSE_SECONDS)
                seen[name].append(await kernel.run(check))
            seen[name][0]["hung cells show"] = [c["error"] for c in ran if c["hung"]]
            await kernel.run(CLEAN_UP, store_history=False)
        if then:
            seen["then"] = await then(kernel)
    seen["seconds"] = time.monotonic() - started
    return seen


def lesson_cell(lesson, text):
    """The code of the one cell of `lesson` that contains `text`."""
    (code,) = [
        cell.source
        for cell in nbformat.read(LESSON[lesson], 4).cells
        if cell.cell_type == "code" and text in cell.source
    ]
    return code


async def app_py_changed_then_checked(kernel):
    """Lesson 1: change the app.py cell and run it, then "Check your work"
    without running the import cell in between."""
    write = lesson_cell("01_hello_world", "%%writefile ../server/app.py")
    # Longer, not just another capital: Python reuses server/__pycache__ when
    # app.py keeps its size and the second of its last change (the lesson wrote
    # it a moment ago), so "Hello World" was judged stale now and then.
    await kernel.run(write.replace('"Hello world"', '"Hello, World!"'))
    return await kernel.run(lesson_cell("01_hello_world", "assert response.text =="))


async def stop_cell_after_thread_was_reused(kernel):
    """Lesson 3: the exercise reuses the name `thread`; then the Stop cell."""
    await kernel.run(START.replace("practice_thread", "thread"))
    return await kernel.run(lesson_cell("03_run_the_server", "The server has stopped."))


# The kernels, side by side: (name, lesson, rows, what then). A lesson's rows
# share one kernel, or more where they wait (PAUSE, INTERRUPT) more than
# WAITS_PER_KERNEL times; the lessons that talk over HTTP run theirs again
# where refusals take 2 s ("slow").
WAITS_PER_KERNEL = 4
SLOW_LESSONS = {
    lesson
    for lesson, path in LESSON.items()
    if "requests.get(" in path.read_text(encoding="utf-8")
}


def share_out(lesson):
    rows = {
        name: (exercise, row)
        for name, (exercise, row) in ROWS.items()
        if FOUND[exercise].lesson == lesson
    }
    waits = sum(row.how in (PAUSE, INTERRUPT) for _, row in rows.values())
    count = max(1, math.ceil(waits / WAITS_PER_KERNEL))
    waiting = [name for name, (_, row) in rows.items() if row.how in (PAUSE, INTERRUPT)]
    others = [name for name in rows if name not in waiting]
    dealt = waiting + others  # so that each kernel waits about as long
    return [
        {name: row for name, row in rows.items() if dealt.index(name) % count == i}
        for i in range(count)
    ]


# Lesson cells checked after the rows: in the lesson's first kernel, or in a
# kernel of their own where they wait (5 s, for the stop cell).
THEN = {
    "app.py changed": ("01_hello_world", app_py_changed_then_checked),
    "thread reused": ("03_run_the_server", stop_cell_after_thread_was_reused),
}
WAITS = {"thread reused"}
KERNELS = [
    (f"{lesson}, {number}", lesson, rows, None)
    for lesson in LESSON
    for number, rows in enumerate(share_out(lesson), start=1)
]
for then, (lesson, _) in THEN.items():
    if then in WAITS:
        KERNELS.append((then, lesson, {}, then))
    else:
        first = next(k for k, kernel in enumerate(KERNELS) if kernel[1] == lesson)
        KERNELS[first] = (*KERNELS[first][:3], then)
KERNELS += [  # again, where refusals take 2 s
    (f"{name}, slow", lesson, rows, None)
    for name, lesson, rows, _ in KERNELS
    if rows and lesson in SLOW_LESSONS
]
THEN_KERNEL = {then: name for name, _, _, then in KERNELS if then}
PROBED = next(name for name, lesson, *_ in KERNELS if lesson in SLOW_LESSONS)


def wanted(items):
    """The kernels the selected tests of this file read: those holding a
    selected row (`pytest tests/test_checks.py -k night` runs /night's alone,
    with the rows that share their kernels); every kernel for any other test
    that reads `seen`."""
    names = set()
    for item in items:
        if item.path != Path(__file__) or "seen" not in item.fixturenames:
            continue
        row = item.callspec.params.get("name") if hasattr(item, "callspec") else None
        if row is None:
            return {name for name, *_ in KERNELS}
        names |= {name for name, _, rows, _ in KERNELS if row in rows}
    return names


@pytest.fixture(scope="module")
def seen(tmp_path_factory, request):
    """What every row of MISTAKES showed, by kernel name and row name; and
    how long each kernel took, in "seconds". Only the kernels the selected
    tests read run."""
    needed = wanted(request.session.items)
    slow = tmp_path_factory.mktemp("ipython")
    startup = slow / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "slow_refusal.py").write_text(SLOW_REFUSAL, encoding="utf-8")

    async def run_them_all():
        return await asyncio.gather(
            *(
                in_a_kernel(
                    copy_project(tmp_path_factory.mktemp("project")),
                    lesson,
                    rows,
                    ipythondir=slow if name.endswith("slow") else None,
                    then=THEN[then][1] if then else None,
                    probe=name.startswith(PROBED),
                )
                for name, lesson, rows, then in KERNELS
                if name in needed
            )
        )

    kernels = [name for name, *_ in KERNELS if name in needed]
    return dict(zip(kernels, asyncio.run(run_them_all()), strict=True))


def seen_in(seen, name, slow=False):
    """What the check cell(s) of row `name` showed."""
    for kernel, _, rows, _ in KERNELS:
        if name in rows and kernel.endswith(", slow") == slow:
            return seen[kernel][name]
    raise KeyError(name)


TABLE = [pytest.param(name, *row, id=name) for name, (_, row) in ROWS.items()]


@pytest.mark.mistakes
@pytest.mark.parametrize(("name", "code", "start", "phrase", "how"), TABLE)
def test_every_mistake_gets_its_own_line(seen, name, code, start, phrase, how):
    checked = seen_in(seen, name)
    for shown in checked:  # once, or at once and after a pause
        assert (shown["stderr"], shown["error"]) == ("", None)
        line = shown["stdout"]
        assert line.count("\n") == 1 and line.startswith(f"{start} "), line
        assert phrase in line
        assert shown["seconds"] < CHECK_SECONDS
    assert len({shown["stdout"] for shown in checked}) == 1  # the same each time
    hung = checked[0].get("hung cells show", [])  # the error each interrupted one shows
    if how == INTERRUPT:  # as the lesson says: KeyboardInterrupt, or a long error
        # (serve_forever() itself takes the interrupt as "stop", so a cell that
        # called it goes on: to the ConnectionError of its request, or no error)
        assert len(hung) == 1, hung
        assert hung[0] in ("KeyboardInterrupt", "ConnectionError", None), hung
    else:
        assert hung == []


@pytest.mark.mistakes
def test_the_table_has_every_kind_of_row():
    hows = [row.how for _, row in ROWS.values()]
    assert len(ROWS) >= 52
    assert hows.count(PAUSE) >= 3 and hows.count(INTERRUPT) >= 4


def test_every_exercise_has_its_starter_its_solution_and_a_check_run_first():
    assert sorted(MISTAKES) == sorted(DECLARED)  # the route rows come first
    for rows in MISTAKES.values():
        assert rows["check before the exercise"].code is FIRST
        assert rows["the starter"].start == NOT_ATTEMPTED
        assert CORRECT in {row.start for row in rows.values()}


SLOW_ROWS = [name for name, (e, _) in ROWS.items() if FOUND[e].lesson in SLOW_LESSONS]


@pytest.mark.mistakes
@pytest.mark.parametrize("name", SLOW_ROWS)
def test_a_refusal_that_takes_2_seconds_changes_no_verdict(seen, name):
    usual = [shown["stdout"] for shown in seen_in(seen, name)]
    slow = [shown["stdout"] for shown in seen_in(seen, name, slow=True)]
    assert slow == usual
    assert all(shown["seconds"] < CHECK_SECONDS for shown in seen_in(seen, name))


@pytest.mark.mistakes
def test_the_slow_kernel_refuses_in_2_seconds(seen):
    assert (
        seen[PROBED]["refusal seconds"],
        seen[f"{PROBED}, slow"]["refusal seconds"],
    ) == (
        "0\n",
        "2\n",
    )


@pytest.mark.mistakes
def test_lesson_1s_check_your_work_reads_app_py_as_it_is_now(seen):
    shown = seen[THEN_KERNEL["app.py changed"]]["then"]
    assert shown["error"] == "AssertionError"


@pytest.mark.mistakes
def test_the_stop_cell_gives_up_after_5_seconds_and_says_why(seen):
    shown = seen[THEN_KERNEL["thread reused"]]["then"]
    assert 5 <= shown["seconds"] < 10
    assert shown["stdout"].startswith("Still running after 5 s: `thread` is not")
    assert (shown["stderr"], shown["error"]) == ("", None)


@pytest.mark.mistakes
def test_the_instructor_notes_show_the_line_each_row_gets(seen):
    """teaching/instructor-notes.md is what tools/instructor_notes.py writes
    from this table's lines (run make instructor-notes, and commit it)."""
    spec = importlib.util.spec_from_file_location(
        "instructor_notes", ROOT / "tools" / "instructor_notes.py"
    )
    notes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notes)
    written = notes.render(*notes.table_lines(seen))
    assert written == notes.NOTES.read_text(encoding="utf-8"), "make instructor-notes"
