"""The exercises and their checks (notebooks/checks.py) agree, in real kernels.

In the lessons, an exercise cell (tagged `exercise`) holds starter code, a check
cell (tagged `check`) calls one function from checks.py, such as
checks.check_about(), which finds the learner's names and cells itself, and a
solution cell (tagged `solution`) shows an answer in a ```python block.

MISTAKES below is the table of what learners try, each run through its lesson
in a Jupyter kernel (nbclient), as a learner would: the other exercises solved,
the check printing one line on stdout within 3 s. Lesson 3's rows run twice: as
usual, and in a kernel where a refused connect to 127.0.0.1 takes 2 s, as on
Windows (see SLOW_REFUSAL); the verdicts must be the same.
"""

import asyncio
import importlib.util
import os
import sys
import threading
import time

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from werkzeug.serving import BaseWSGIServer

from conftest import (
    LESSON,
    ROOT,
    check_cells,
    copy_project,
    exercises,
    has_tag,
    solutions,
)


def load_checks(project=ROOT):
    """notebooks/checks.py from `project`, loaded as a module of its own."""
    spec = importlib.util.spec_from_file_location(
        "checks", project / "notebooks" / "checks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(ROOT / "notebooks"))
checks = load_checks()
import learner  # noqa: E402  (notebooks/learner.py, which checks.py imports)

# Each exercise: its lesson, and which of the lesson's exercises it is.
EXERCISE = {
    "about": ("01_hello_world", 0),
    "morning": ("02_good_evening", 0),
    "prediction": ("02_good_evening", 1),
    "practice_server": ("03_run_the_server", 0),
    "practice_stopped": ("03_run_the_server", 1),
}


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


@pytest.mark.parametrize("name", EXERCISE)
def test_checks_knows_each_exercise_cell_as_the_lesson_gives_it(name):
    lesson, number = EXERCISE[name]
    assert exercises(lesson)[number] == getattr(checks, f"check_{name}").starter.removesuffix("\n")


@pytest.mark.parametrize("name", EXERCISE)
def test_a_check_cell_imports_checks_and_calls_its_check(name):
    lesson, number = EXERCISE[name]
    assert check_cells(lesson)[number] == f"import checks\n\nchecks.check_{name}()"


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


# A learner's code in an exercise cell. APP is the practice app as lesson 3's
# exercise gives it; START and STOP are lesson 3's solutions.
def practice_with(*routes):
    """A practice app with routes of (address, function name, body)."""
    code = "from flask import Flask\n\npractice = Flask(__name__)\n"
    for address, name, body in routes:
        code += f'\n\n@practice.route("{address}")\ndef {name}():\n    {body}\n'
    return code


ABOUT = ("/about", "about", 'return "About this server"')
MORNING = ("/morning", "morning", 'return "Good morning"')
APP = practice_with(ABOUT)
START = solutions("03_run_the_server")[0]
STOP = solutions("03_run_the_server")[1]
STOPPED_STARTER = checks.check_practice_stopped.starter
START_WITHOUT_START = START.split("practice_thread.start()")[0]
START_WITH_BRACKETS = START.replace("serve_forever,", "serve_forever(),")
NO_DECORATOR = (
    "from flask import Flask\n\npractice = Flask(__name__)\n\n\ndef about():\n"
    '    return "About this server"\n'
)

# What the learner does with the last cell of the row's code:
RUN = "run it, then the check"
PAUSE = "run it, then the check at once and again after a pause"
INTERRUPT = "run it; it shows [*], so interrupt it; then run the check"
FRESH = "run it in a fresh kernel (Kernel > Restart), before the lesson; then the check"
# The code "first" means: run the check cell in a fresh kernel, before anything.
FIRST = None

# The mistakes table: the row's name, the exercise, the learner's code (a cell,
# or several run in order), what they do, how the check's line starts, and a
# phrase it contains.
MISTAKES = {
    # Lesson 1: give practice a route for /about.
    "about: check before the exercise": (
        "about",
        FIRST,
        RUN,
        "Not attempted:",
        "run the exercise cell above first",
    ),
    "about: the starter": (
        "about",
        checks.check_about.starter,
        RUN,
        "Not attempted:",
        "a route for /about",
    ),
    "about: the solution": ("about", APP, RUN, "Correct:", "'About this server'"),
    "about: no decorator": (
        "about",
        NO_DECORATOR,
        RUN,
        "Not yet:",
        'put @practice.route("/about")',
    ),
    "about: the decorator of app": (
        "about",
        APP.replace("@practice.route", "@app.route"),
        RUN,
        "Not yet:",
        "@app.route, which adds a route to app",
    ),
    "about: no slash at the start": (
        "about",
        practice_with(("about", "about", 'return "About this server"')),
        RUN,
        "Not yet:",
        'routes start with a slash, so Flask refused "about"',
    ),
    "about: the decorator of app, in a fresh kernel": (
        "about",
        APP.replace("@practice.route", "@app.route"),
        FRESH,
        "Not yet:",
        "is not defined in this kernel",
    ),
    "about: the decorator of app, before app answered a request": (
        "about",
        ["from server import app", APP.replace("@practice.route", "@app.route")],
        FRESH,
        "Not yet:",
        "which added /about to app",
    ),
    "about: a trailing slash": (
        "about",
        practice_with(("/about/", "about", 'return "About this server"')),
        RUN,
        "Not yet:",
        "308 Permanent Redirect",
    ),
    "about: a capital A in the address": (
        "about",
        practice_with(("/About", "about", 'return "About this server"')),
        RUN,
        "Not yet:",
        'your route is "/About": routes match letter for letter',
    ),
    "about: a small a": (
        "about",
        practice_with(("/about", "about", 'return "about this server"')),
        RUN,
        "Not yet:",
        "(capital A)",
    ),
    "about: print, not return": (
        "about",
        practice_with(("/about", "about", 'print("About this server")')),
        RUN,
        "Not yet:",
        "did not return a valid response",
    ),
    "about: practice is not an app": (
        "about",
        "practice = None",
        RUN,
        "Not yet:",
        "practice should be a Flask app",
    ),
    # Lesson 2, exercise 1: add a route for /morning.
    "morning: check before the exercise": (
        "morning",
        FIRST,
        RUN,
        "Not attempted:",
        "run the exercise cell above first",
    ),
    "morning: the starter": (
        "morning",
        checks.check_morning.starter,
        RUN,
        "Not attempted:",
        "for /morning",
    ),
    "morning: the solution": (
        "morning",
        practice_with(ABOUT, MORNING),
        RUN,
        "Correct:",
        "'Good morning'",
    ),
    "morning: a second function named about": (
        "morning",
        practice_with(ABOUT, ("/morning", "about", 'return "Good morning"')),
        RUN,
        "Not yet:",
        "same name as another one, about()",
    ),
    "morning: no decorator": (
        "morning",
        APP + '\n\ndef morning():\n    return "Good morning"\n',
        RUN,
        "Not yet:",
        'put @practice.route("/morning")',
    ),
    "morning: the decorator of app": (
        "morning",
        practice_with(ABOUT, MORNING).replace('@practice.route("/m', '@app.route("/m'),
        RUN,
        "Not yet:",
        "@app.route, which adds a route to app",
    ),
    "morning: a trailing slash": (
        "morning",
        practice_with(ABOUT, ("/morning/", "morning", 'return "Good morning"')),
        RUN,
        "Not yet:",
        "308 Permanent Redirect",
    ),
    "morning: a small g": (
        "morning",
        practice_with(ABOUT, ("/morning", "morning", 'return "good morning"')),
        RUN,
        "Not yet:",
        "(capital G)",
    ),
    # Lesson 2, exercise 2: predict what GET /Evening answers.
    "prediction: check before the exercise": (
        "prediction",
        FIRST,
        RUN,
        "Not attempted:",
        "run the exercise cell above",
    ),
    "prediction: the starter": (
        "prediction",
        checks.check_prediction.starter,
        RUN,
        "Not attempted:",
        "...",
    ),
    "prediction: 404": ("prediction", "prediction = 404", RUN, "Correct:", "404"),
    "prediction: 404.0": (
        "prediction",
        "prediction = 404.0",
        RUN,
        "Not yet:",
        "(a float)",
    ),
    "prediction: True": (
        "prediction",
        "prediction = True",
        RUN,
        "Not yet:",
        "(a bool)",
    ),
    "prediction: in quotes": (
        "prediction",
        'prediction = "404"',
        RUN,
        "Not yet:",
        "(a string)",
    ),
    "prediction: a comparison, after 405": (
        "prediction",
        ["prediction = 405", "prediction == 404"],
        RUN,
        "Not yet:",
        "your cell ran but did not set prediction",
    ),
    "prediction: a comparison, in a fresh kernel": (
        "prediction",
        "prediction == 404",
        FRESH,
        "Not yet:",
        "your cell ran but did not set prediction",
    ),
    "prediction: a capital P, after 405": (
        "prediction",
        ["prediction = 405", "Prediction = 404"],
        RUN,
        "Not yet:",
        "Prediction is not prediction",
    ),
    "prediction: a syntax error, after 405": (
        "prediction",
        ["prediction = 405", "prediction = 40 4"],
        RUN,
        "Not yet:",
        "your cell did not run",
    ),
    "prediction: 200": (
        "prediction",
        "prediction = 200",
        RUN,
        "Not yet:",
        "200 would mean a route",
    ),
    # Lesson 3, exercise 1: serve practice in a background thread.
    "practice_server: check before the exercise": (
        "practice_server",
        FIRST,
        RUN,
        "Not attempted:",
        "run the exercise cell above",
    ),
    "practice_server: the starter": (
        "practice_server",
        checks.check_practice_server.starter,
        RUN,
        "Not attempted:",
        "set practice_server",
    ),
    "practice_server: the solution": (
        "practice_server",
        START,
        RUN,
        "Correct:",
        "over HTTP",
    ),
    "practice_server: serving the lesson's app": (
        "practice_server",
        START.replace("0, practice,", "0, app,"),
        RUN,
        "Not yet:",
        "practice_server serves app, not practice",
    ),
    "practice_server: never started": (
        "practice_server",
        START_WITHOUT_START,
        RUN,
        "Not yet:",
        "never started",
    ),
    "practice_server: serve_forever() with brackets": (
        "practice_server",
        START_WITH_BRACKETS,
        INTERRUPT,
        "Not yet:",
        "without ()",
    ),
    "practice_server: asking the lesson's stopped server": (
        "practice_server",
        START.replace("http://127.0.0.1:{practice_server.port}", "{base_url}"),
        PAUSE,
        "Not yet:",
        "your cell's request raised ConnectionError",
    ),
    "practice_server: no request": (
        "practice_server",
        START.split("response =")[0],
        RUN,
        "Not yet:",
        "your cell does not ask practice_server for /about",
    ),
    "practice_server: still None": (
        "practice_server",
        START.replace("practice_server", "server") + "practice_server = None\n",
        RUN,
        "Not yet:",
        "practice_server is still None",
    ),
    # Lesson 3, exercise 2: stop practice_server and wait for its thread.
    "practice_stopped: check before the exercise": (
        "practice_stopped",
        FIRST,
        RUN,
        "Not attempted:",
        "start practice_server",
    ),
    "practice_stopped: the starter": (
        "practice_stopped",
        [START, STOPPED_STARTER],
        RUN,
        "Not attempted:",
        "stop practice_server",
    ),
    "practice_stopped: the starter, after checking exercise 1": (
        "practice_stopped",
        [START, "import checks\n\nchecks.check_practice_server()", STOPPED_STARTER],
        RUN,
        "Not attempted:",
        "stop practice_server",
    ),
    "practice_stopped: the solution": (
        "practice_stopped",
        [START, STOP],
        PAUSE,
        "Correct:",
        "has ended",
    ),
    "practice_stopped: server_close() alone": (
        "practice_stopped",
        [START, "practice_server.server_close()\n"],
        PAUSE,
        "Not yet:",
        "server_close() closes the port, but practice_thread keeps running",
    ),
    "practice_stopped: no join()": (
        "practice_stopped",
        [START, "practice_server.shutdown()\n"],
        PAUSE,
        "Not yet:",
        "add practice_thread.join()",
    ),
    "practice_stopped: no brackets": (
        "practice_stopped",
        [START, "practice_server.shutdown\npractice_thread.join\n"],
        RUN,
        "Not yet:",
        "without brackets",
    ),
    "practice_stopped: join() alone": (
        "practice_stopped",
        [START, "practice_thread.join()\n"],
        INTERRUPT,
        "Not yet:",
        "only after shutdown()",
    ),
    "practice_stopped: join() before shutdown()": (
        "practice_stopped",
        [START, "practice_thread.join()\npractice_server.shutdown()\n"],
        INTERRUPT,
        "Not yet:",
        "in that order",
    ),
    "practice_stopped: a server never started": (
        "practice_stopped",
        [START_WITHOUT_START, STOP],
        INTERRUPT,
        "Not yet:",
        "never ran in its thread",
    ),
    "practice_stopped: serve_forever() with brackets": (
        "practice_stopped",
        [START_WITH_BRACKETS.split("response =")[0], STOP],
        INTERRUPT,
        "Not yet:",
        "never ran in its thread",
    ),
}
PAUSE_SECONDS = 0.5  # a learner reading the line before they run the check again
HANG_SECONDS = 0.5  # the cell is still running ([*]) this long after it started
CHECK_SECONDS = 3  # a check's line comes within this

# Loaded by IPython when the kernel starts (IPYTHONDIR/profile_default/startup):
# a refused connect to this computer takes 2 s, as Windows takes (it tries the
# SYN again; measured on GitHub's windows-latest runners: 2,002-2,011 ms). With a
# shorter timeout, the connect times out instead, as it would there.
SLOW_REFUSAL = """
import socket
import time

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
LOCAL = ("127.0.0.1", "localhost", "::1")


def _refused_slowly(sock):
    timeout = sock.gettimeout()
    if timeout is not None and timeout < 2:
        time.sleep(timeout)
        raise TimeoutError("timed out")
    time.sleep(2)


def connect(self, address):
    try:
        return _connect(self, address)
    except ConnectionRefusedError:
        if address[0] in LOCAL:
            _refused_slowly(self)
        raise


def connect_ex(self, address):
    code = _connect_ex(self, address)
    if code == 111 and address[0] in LOCAL:  # ECONNREFUSED
        _refused_slowly(self)
    return code


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
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


async def in_a_kernel(project, lesson, rows, ipythondir=None, then=None, probe=False):
    """Run the rows of MISTAKES for one lesson in one kernel.

    First the check cells of FIRST rows, and FRESH rows, in the fresh kernel;
    then the whole lesson with its solutions; then each row: its code, then its
    check (twice for PAUSE rows). Returns {row: [what each check cell showed]}; with
    `probe`, under "refusal seconds", how long a refused connect took; under
    "then", what `then(kernel)` returned.
    """
    notebook = new_notebook(cells=[new_code_cell()])
    client = NotebookClient(
        notebook,
        # Local sockets, each kernel its own: kernels started side by side over
        # TCP may pick the same port.
        km=AsyncKernelManager(
            kernel_name="python3", transport="ipc", ip=str(project / "kernel")
        ),
        timeout=60,
        allow_errors=True,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(project / "notebooks")}},
    )
    env = {**os.environ, "PYTHONPATH": str(project)}
    if ipythondir:
        env["IPYTHONDIR"] = str(ipythondir)
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
        for name, (exercise, code, how, *_) in rows.items():
            if code is FIRST:
                seen[name] = [await kernel.run(check_cell(exercise))]
            elif how == FRESH:
                for cell in [code] if isinstance(code, str) else code:
                    await kernel.run(cell)
                seen[name] = [await kernel.run(check_cell(exercise))]
                await kernel.run(CLEAN_UP, store_history=False)
        lesson_cells = nbformat.read(project / "notebooks" / f"{lesson}.ipynb", 4)
        answers = iter(solutions(lesson))
        for cell in lesson_cells.cells:  # but the command run in a new process
            if cell.cell_type == "code" and "subprocess" not in cell.source:
                exercise = has_tag(cell, "exercise")
                await kernel.run(next(answers) if exercise else cell.source)
        for name, (exercise, code, how, *_) in rows.items():
            if code is FIRST or how == FRESH:
                continue
            *before, last = [code] if isinstance(code, str) else code
            ran = []
            for cell in before:  # serve_forever() with brackets never returns
                hangs = how == INTERRUPT and "serve_forever()" in cell
                ran.append(await kernel.run(cell, interrupt=hangs))
            ran.append(await kernel.run(last, interrupt=how == INTERRUPT))
            seen[name] = [await kernel.run(check_cell(exercise))]
            if how == PAUSE:
                await asyncio.sleep(PAUSE_SECONDS)
                seen[name].append(await kernel.run(check_cell(exercise)))
            seen[name][0]["hung cells show"] = [c["error"] for c in ran if c["hung"]]
            await kernel.run(CLEAN_UP, store_history=False)
        if then:
            seen["then"] = await then(kernel)
    seen["seconds"] = time.monotonic() - started
    return seen


def check_cell(exercise):
    lesson, number = EXERCISE[exercise]
    return check_cells(lesson)[number]


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
    await kernel.run(write.replace('"Hello world"', '"Hello World"'))
    return await kernel.run(lesson_cell("01_hello_world", "assert response.text =="))


async def stop_cell_after_thread_was_reused(kernel):
    """Lesson 3: the exercise reuses the name `thread`; then the Stop cell."""
    await kernel.run(START.replace("practice_thread", "thread"))
    return await kernel.run(lesson_cell("03_run_the_server", "The server has stopped."))


def rows_for(*names):
    """The rows of MISTAKES for these exercises."""
    return {name: row for name, row in MISTAKES.items() if row[0] in names}


# The kernels, side by side: (name, lesson, rows, what then). Lesson 3's rows
# take longest (hanging cells, pauses), so they share out over more kernels, and
# run again where refusals take 2 s ("slow").
STOP_ROWS = list(rows_for("practice_stopped").items())
KERNELS = [
    ("lesson 1", "01_hello_world", rows_for("about"), "app.py changed"),
    ("lesson 2", "02_good_evening", rows_for("morning", "prediction"), None),
    ("lesson 3, start", "03_run_the_server", rows_for("practice_server"), None),
    ("lesson 3, stop 1", "03_run_the_server", dict(STOP_ROWS[::2]), None),
    ("lesson 3, stop 2", "03_run_the_server", dict(STOP_ROWS[1::2]), None),
    ("lesson 3, stop cell", "03_run_the_server", {}, "thread reused"),
]
KERNELS += [  # lesson 3's again, where refusals take 2 s
    (f"{name}, slow", lesson, rows, None)
    for name, lesson, rows, _ in KERNELS
    if rows and lesson == "03_run_the_server"
]
PROBED = "lesson 3, stop 2"  # and its slow twin: how long a refusal takes
THEN = {
    "app.py changed": app_py_changed_then_checked,
    "thread reused": stop_cell_after_thread_was_reused,
}


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    """What every row of MISTAKES showed, by kernel name and row name; and
    how long each kernel took, in "seconds"."""
    slow = tmp_path_factory.mktemp("ipython")
    startup = slow / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "slow_refusal.py").write_text(SLOW_REFUSAL)

    async def run_them_all():
        return await asyncio.gather(
            *(
                in_a_kernel(
                    copy_project(tmp_path_factory.mktemp("project")),
                    lesson,
                    rows,
                    ipythondir=slow if name.endswith("slow") else None,
                    then=THEN.get(then),
                    probe=name.startswith(PROBED),
                )
                for name, lesson, rows, then in KERNELS
            )
        )

    kernels = [name for name, *_ in KERNELS]
    return dict(zip(kernels, asyncio.run(run_them_all()), strict=True))


def seen_in(seen, name, slow=False):
    """What the check cell(s) of row `name` showed."""
    for kernel, _, rows, _ in KERNELS:
        if name in rows and kernel.endswith(", slow") == slow:
            return seen[kernel][name]
    raise KeyError(name)


TABLE = [pytest.param(name, *row, id=name) for name, row in MISTAKES.items()]


@pytest.mark.mistakes
@pytest.mark.parametrize(("name", "exercise", "code", "how", "start", "phrase"), TABLE)
def test_every_mistake_gets_its_own_line(
    seen, name, exercise, code, how, start, phrase
):
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
    hows = [how for _, _, how, *_ in MISTAKES.values()]
    assert len(MISTAKES) >= 25
    assert hows.count(PAUSE) >= 3 and hows.count(INTERRUPT) >= 4


LESSON_3_ROWS = list(rows_for("practice_server", "practice_stopped"))


@pytest.mark.mistakes
@pytest.mark.parametrize("name", LESSON_3_ROWS)
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
    shown = seen["lesson 1"]["then"]
    assert shown["error"] == "AssertionError"


@pytest.mark.mistakes
def test_the_stop_cell_gives_up_after_5_seconds_and_says_why(seen):
    shown = seen["lesson 3, stop cell"]["then"]
    assert 5 <= shown["seconds"] < 10
    assert shown["stdout"].startswith("Still running after 5 s: `thread` is not")
    assert (shown["stderr"], shown["error"]) == ("", None)


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
