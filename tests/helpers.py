"""What the tests share besides fixtures (conftest.py has those): the lessons
as course.py reads them, the project copied where a test may change it,
commands started in the background, and time bounds for a busy machine."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import requests

import course
import lessons
from bench import free_port  # noqa: F401 (tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
COURSE = course.lessons()  # the lessons, as notebooks/course.py reads them
LESSONS = [lesson.path for lesson in COURSE]
LESSON = {path.stem: path for path in LESSONS}
EXERCISES = sum(len(lesson.exercises) for lesson in COURSE)
# What a learner's copy holds besides notebooks/ and server/.
PROJECT_FILES = [
    ".gitignore",
    "lessons.py",
    "README.md",
    "LICENSE",
    "Makefile",
    "pyproject.toml",
    "requirements.txt",
    "requirements/learner.in",
    "requirements/dev.in",
    "requirements/uv.in",
    "requirements/dev.txt",
    "requirements/uv.txt",
    "tools/fast_nbformat.py",
    "tools/guard.py",
    "tests/fast_nbformat_plugin.py",
    "teaching/lab-settings/overrides.json",  # make lab's JupyterLab settings
]
STARTUP_SECONDS = 20
SERVER_COMMAND = [sys.executable, "-m", "server"]
STARTUP_LINE = re.compile(r"Server is running on http://localhost:(\d+)\n")


# Python's own speed, quiet, on the 2-core machine we develop on: PROBE_LOOPS
# turns of an empty loop (see busy_factor).
PROBE_LOOPS = 1_000_000
QUIET_PROBE_SECONDS = 0.03


def busy_factor():
    """How many times slower than quiet this machine runs right now (at least
    1): the larger of an empty loop timed against its quiet time and the load
    average per core (the loop alone is too short to see a crowded machine).
    Tests that bound a time stretch it by this, so that a busy machine (CI, a
    laptop compiling, other people's tests) keeps the margin a quiet one has."""
    started = time.perf_counter()
    for _ in range(PROBE_LOOPS):
        pass
    loop = (time.perf_counter() - started) / QUIET_PROBE_SECONDS
    load = os.getloadavg()[0] / os.cpu_count() if hasattr(os, "getloadavg") else 1
    return max(1.0, loop, load)


def within(seconds, quiet_bound, before=1.0):
    """Whether `seconds` is within `quiet_bound`, stretched by busy_factor()
    now or by `before` (busy_factor() when the timing started), the larger."""
    return seconds < quiet_bound * max(before, busy_factor())


def copy_project(destination):
    """The lessons, the package and the files beside them (README, Makefile...),
    where running them cannot touch the repository."""
    return lessons.copy_project(ROOT, destination, PROJECT_FILES)


def make_venv(cwd):
    """VENV=... for `make` run in `cwd`: the environment running these tests
    (installed already), named through a link beside `cwd`, since make cannot
    name a file whose path holds a space, and this project's path may."""
    link = cwd.parent / f"{cwd.name}-venv"
    if not link.is_symlink():
        link.symlink_to(sys.prefix, target_is_directory=True)
    return f"VENV=../{link.name}"


def markdown_cells(lesson):
    """The sources of a lesson's Markdown cells, in order."""
    cells = nbformat.read(lesson, as_version=4).cells
    return [cell.source for cell in cells if cell.cell_type == "markdown"]


def has_tag(cell, tag):
    """Whether a notebook cell carries this JupyterLab cell tag."""
    return tag in cell.metadata.get("tags", [])


def tagged(lesson, tag):
    """The sources of a lesson's cells with this tag (`exercise`, `check`,
    `solution`), in order. `lesson` is a name such as "01_hello_world"."""
    notebook = nbformat.read(LESSON[lesson], as_version=4)
    return [cell.source for cell in notebook.cells if has_tag(cell, tag)]


def exercises(lesson):
    return tagged(lesson, "exercise")


def check_cells(lesson):
    return tagged(lesson, "check")


def solutions(lesson):
    """The code in the ```python block of each solution cell."""
    blocks = [
        re.search(r"```python\n(.*?)```", text, re.DOTALL)
        for text in tagged(lesson, "solution")
    ]
    assert all(blocks), f"a solution cell in {lesson} has no ```python block"
    return [block[1] for block in blocks]


def answer_with_solutions(lesson_path):
    """Rewrite the lesson at `lesson_path` (a copy's) with each exercise cell's
    code replaced by its solution, as a learner who typed them would save it."""
    notebook = nbformat.read(lesson_path, as_version=4)
    answers = iter(solutions(lesson_path.stem))
    for cell in notebook.cells:
        if has_tag(cell, "exercise"):
            cell.source = next(answers)
    nbformat.write(notebook, lesson_path)
    return lesson_path


class Process:
    """A command started in the background, its output collected as it comes.

    Tests stop every Process they start, in a `finally` or through a fixture
    (`start`, `server_process`), so a failing test never leaves a server running.
    """

    def __init__(self, args, env=None, cwd=ROOT):
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        environment = {
            key: value for key, value in environment.items() if value is not None
        }
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            # Its own process group, so that stop() also ends any children.
            start_new_session=(os.name == "posix"),
        )
        self.stdout_lines = queue.Queue()
        self.stdout_log = []  # everything printed on stdout, for error messages
        self.stderr_lines = []
        self._readers = [
            threading.Thread(
                target=self._read,
                args=(self.proc.stdout, self.stdout_lines.put, self.stdout_log.append),
                daemon=True,
            ),
            threading.Thread(
                target=self._read,
                args=(self.proc.stderr, self.stderr_lines.append),
                daemon=True,
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, *keepers):
        for line in stream:
            for keep in keepers:
                keep(line)

    def line_containing(self, text, timeout=STARTUP_SECONDS):
        """Read stdout until a line containing `text`, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while text not in (line := self.next_line(max(0, deadline - time.monotonic()))):
            pass
        return line

    def next_line(self, timeout=STARTUP_SECONDS):
        """The next line the process prints on stdout, waiting at most `timeout`."""
        try:
            return self.stdout_lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no output within {timeout}s; stderr: {''.join(self.stderr_lines)!r}"
            ) from None

    def wait(self, timeout):
        """Wait for the process to end; returns (exit code, seconds it took)."""
        started = time.monotonic()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.proc.args} still running after {timeout}s;"
                f" stdout: {''.join(self.stdout_log)!r}; stderr: {self.stderr!r}"
            ) from None
        for reader in self._readers:
            reader.join(timeout=5)
        return code, time.monotonic() - started

    @property
    def stderr(self):
        return "".join(self.stderr_lines)

    def stop(self):
        """Kill the process and its children, if still running."""
        if os.name == "posix":
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # the whole group has ended already
        elif self.proc.poll() is None:
            self.proc.kill()
        self.wait(timeout=10)


def wait_until_listening(process, port, timeout=STARTUP_SECONDS):
    """Poll until `port` on 127.0.0.1 accepts connections, within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"nothing listens on {port}: {process.stderr}"
                ) from None
            time.sleep(0.05)  # polling, bounded by the deadline


def wait_until_answers(process, request, timeout=60):
    """Poll `request()` (such as a health check) until it answers OK, within
    `timeout` seconds, while `process`, the server starting, still runs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request().ok:
                return
        except requests.ConnectionError:
            pass
        assert process.proc.poll() is None, process.stderr
        assert time.monotonic() < deadline, process.stderr
        time.sleep(0.1)  # polling, bounded by the deadline


def start_server(env=None, args=SERVER_COMMAND):
    """Run `python -m server` (on any free port unless env says otherwise).

    Returns the Process once the server has announced itself, with its port.
    The caller stops it; conftest's fixtures do that for you.
    """
    process = Process(args, {"PORT": "0", **(env or {})})
    try:
        line = process.next_line()
        match = STARTUP_LINE.fullmatch(line)
        assert match, f"unexpected startup line {line!r}"
    except BaseException:
        process.stop()
        raise
    process.port = int(match[1])
    return process


def slow_answer_while_stopping(process, signum):
    """Ask for /slow (tests/slow_app.py) and send `signum` while it is answered.

    Returns the response, the exit code and how long the process took to end.
    """
    with ThreadPoolExecutor(1) as pool:
        url = f"http://127.0.0.1:{process.port}/slow"
        answer = pool.submit(requests.get, url, timeout=10)
        process.line_containing("answering", timeout=10)
        process.proc.send_signal(signum)
        response = answer.result(timeout=10)
    code, seconds = process.wait(timeout=15)
    return response, code, seconds
