"""The lessons stay true: what a reader sees is what a run gives, and a learner
can run, re-run and stop them at will.

Kernels are slow to start, so the module runs each lesson once, in order, each
in a new kernel, with lessons.py's runner (as `make progress` does); in that
kernel, after Run All, it does what else the tests need (see `after_run_all`):
each exercise's solution then its check; after lesson 1, the serving lesson's
first cell; in the lesson that starts the server, a learner re-running its
cells. Each test checks one thing seen.

All of it runs behind a proxy, as on many machines at work or at a university:
every proxy variable names a stand-in proxy that answers 502 and counts what it
gets, and NO_PROXY names only localhost. Lesson 3 adds 127.0.0.1 to no_proxy
(CONTRIBUTING.md, "Behind a proxy"), so the proxy sees no request.
"""

import asyncio
import contextlib
import copy
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell

import lessons
import runner
from helpers import (
    EXERCISES,
    LESSONS,
    ROOT,
    check_cells,
    copy_project,
    has_tag,
    solutions,
)
from verdicts import CORRECT, NOT_ATTEMPTED

pytestmark = pytest.mark.lessons
RUN_SECONDS = 60
START = "web_server = make_server("
STOP = "web_server.shutdown()\nthread.join(timeout=5)"


def read(lesson):
    return nbformat.read(lesson, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


# The lesson that starts the server in the background and stops it.
(SERVING_LESSON,) = [
    path for path in LESSONS if any(START in c.source for c in code_cells(read(path)))
]


def client_for(notebook, project):
    """The runner's client, stopping at the first error. A cell still running
    after RUN_SECONDS is interrupted, as the stop button would, so that its
    error shows the line it was waiting on (see `run_all`)."""
    return lessons.lesson_client(
        notebook,
        project,
        RUN_SECONDS,
        allow_errors=False,
        error_on_timeout={
            "ename": "CellTimeout",
            "evalue": f"still running after {RUN_SECONDS} s, so it was interrupted",
            "traceback": [],
        },
    )


async def run_all(notebook, project, then):
    """Restart & Run All, in place, then `then` in the same kernel; what it saw.

    When a cell had to be interrupted, the error says where it was waiting.
    """
    try:
        return await runner.run_all(client_for(notebook, project), project, then)
    except CellExecutionError as error:
        if error.ename != "CellTimeout":
            raise
        shown = [
            re.sub(r"\x1b\[[0-9;]*m", "", line)
            for cell in code_cells(notebook)
            for output in cell.outputs
            if output.output_type == "error"
            for line in output.traceback
        ]
        raise AssertionError("\n".join([str(error), error.evalue, *shown])) from None


async def run_cell(client, code, raises=False):
    """Run `code` in the kernel like a new cell; the cell, with its outputs."""
    cell = new_code_cell(code, metadata={"tags": ["raises-exception"] * raises})
    await client.async_execute_cell(cell, 0)
    return cell


async def stdout_of(client, code):
    """Run `code` in the kernel like a new cell; what it printed."""
    cell = await run_cell(client, code)
    return "".join(o.text for o in cell.outputs if o.get("name") == "stdout")


def accepts(port):
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


SERVER_THREADS = """
import threading
print(sum(t.name.endswith("(serve_forever)") for t in threading.enumerate()))
"""


async def act_like_a_learner(client):
    """Run the start cell five times, stop twice, start, restart the kernel.

    Returns what was seen at each step.
    """
    (start,) = [c for c in code_cells(client.nb) if START in c.source]
    (stop,) = [c for c in code_cells(client.nb) if STOP in c.source]
    seen = {"outputs": []}
    ports = []
    for _ in range(5):
        await client.async_execute_cell(start, 0)
        seen["outputs"].append(start.outputs)
        ports.append(int(await stdout_of(client, "print(web_server.port)")))
    seen["servers after five starts"] = await stdout_of(client, SERVER_THREADS)
    seen["ports answering"] = [accepts(port) for port in ports]
    seen["page"] = await stdout_of(
        client, "import requests\nprint(requests.get(base_url, timeout=5).text)"
    )
    for _ in range(2):
        await client.async_execute_cell(stop, 0)
        seen["outputs"].append(stop.outputs)
    seen["servers after stopping"] = await stdout_of(client, SERVER_THREADS)
    seen["port answers after stopping"] = accepts(ports[-1])
    await client.async_execute_cell(start, 0)
    port = int(await stdout_of(client, "print(web_server.port)"))
    seen["port answers before restart"] = accepts(port)
    await client.km.restart_kernel(now=True)
    seen["port answers after restart"] = accepts(port)
    return seen


async def after_run_all(client, lesson):
    """In a lesson's kernel after Run All: each exercise's solution, then its
    check, as a learner who comes back to the exercises; after the first
    lesson, the serving lesson's first cell (a learner who skips lessons); in
    the serving lesson, `act_like_a_learner`. What each showed."""
    # nbclient files each cell it runs at the index given: into a copy, so that
    # the notebook keeps what Run All printed.
    client.nb = copy.deepcopy(client.nb)
    seen = {"checks with solutions": []}
    for answer, check in zip(
        solutions(lesson.stem), check_cells(lesson.stem), strict=True
    ):
        await run_cell(client, answer)
        seen["checks with solutions"].append(await stdout_of(client, check))
    if lesson == LESSONS[0]:
        first = code_cells(read(SERVING_LESSON))[0].source
        seen["serving lesson's first cell"] = await run_cell(client, first, raises=True)
    if lesson == SERVING_LESSON:
        seen["learner"] = await act_like_a_learner(client)
    return seen


async def run_lessons_in_order(project):
    """Blank every file in server/, then Restart & Run All each lesson in order,
    each followed by `after_run_all`. Returns the executed notebooks, what each
    `after_run_all` saw, and the files the lessons wrote."""
    for path in (project / "server").iterdir():
        path.write_text("", encoding="utf-8")
    runs, seen = {}, {}
    for lesson in LESSONS:
        runs[lesson] = read(project / "notebooks" / lesson.name)
        seen[lesson] = await run_all(
            runs[lesson],
            project,
            lambda client, lesson=lesson: after_run_all(client, lesson),
        )
    written = {
        path.name: path.read_bytes() for path in (project / "server").glob("*.py")
    }
    return runs, seen, written


class BadGateway(BaseHTTPRequestHandler):
    """A stand-in proxy: every request it gets is counted and answered 502."""

    def answer(self):
        self.server.seen.append(self.requestline)
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_POST = do_CONNECT = answer

    def log_message(self, *args):
        pass  # no log on stderr


@contextlib.contextmanager
def behind_a_proxy():
    """Every proxy variable, upper and lower case, names the stand-in proxy;
    NO_PROXY names only localhost, as many machines have it. Yields the
    requests the proxy got (a list that grows)."""
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    proxy.seen = []
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{proxy.server_port}"
    try:
        with pytest.MonkeyPatch.context() as environment:
            for name in ("http_proxy", "https_proxy", "all_proxy"):
                environment.setenv(name, url)
                environment.setenv(name.upper(), url)
            environment.delenv("no_proxy", raising=False)
            environment.setenv("NO_PROXY", "localhost")
            yield proxy.seen
    finally:
        proxy.shutdown()
        thread.join(timeout=5)
        proxy.server_close()


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("lessons"))
    with behind_a_proxy() as proxy_saw, pytest.MonkeyPatch.context() as environment:
        # Text read or written without an encoding (the locale's, on Windows)
        # warns in red, which a saved output would then show.
        environment.setenv("PYTHONWARNDEFAULTENCODING", "1")
        runs, seen, written = asyncio.run(run_lessons_in_order(project))
    return {
        "proxy saw": proxy_saw,
        "runs": runs,
        "written": written,
        "learner": seen[SERVING_LESSON]["learner"],
        "lesson 1 then the serving one": seen[LESSONS[0]][
            "serving lesson's first cell"
        ],
        "checks with solutions": [
            line for lesson in LESSONS for line in seen[lesson]["checks with solutions"]
        ],
    }


def visible_text(cell):
    """What a reader sees of a code cell's outputs, as text.

    %%writefile says "Writing" for a new file and "Overwriting" for an existing
    one; both mean the same here, so they compare equal. A kernel may send one
    print in several pieces (more often on a busy machine); they show as one.
    """
    texts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            if texts and texts[-1][0] == output.name:
                texts[-1] = (output.name, texts[-1][1] + output.text)
            else:
                texts.append((output.name, output.text))
        elif output.output_type in ("execute_result", "display_data"):
            texts.append((output.output_type, output.data.get("text/plain", "")))
        else:
            texts.append((output.output_type, output.get("evalue", "")))
    return [
        (kind, re.sub(r"^Overwriting ", "Writing ", text, flags=re.M))
        for kind, text in texts
    ]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_committed_outputs_are_what_a_fresh_run_prints(observed, lesson):
    committed, fresh = code_cells(read(lesson)), code_cells(observed["runs"][lesson])
    for number, (saved, ran) in enumerate(zip(committed, fresh, strict=True), start=1):
        assert visible_text(saved) == visible_text(ran), (
            f"{lesson.name}, code cell {number}: the saved output is not what a"
            " fresh run prints; Restart & Run All, then save"
        )


def test_the_lessons_write_server_back_byte_for_byte(observed):
    in_repository = {
        path.name: path.read_bytes() for path in (ROOT / "server").glob("*.py")
    }
    assert observed["written"] == in_repository


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_saved_after_one_clean_run_all(lesson):
    cells = code_cells(read(lesson))
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        kinds = {(o.output_type, o.get("name")) for o in cell.outputs}
        assert ("error", None) not in kinds, cell.source
        assert ("stream", "stderr") not in kinds, (
            f"red stderr text below: {cell.source}"
        )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lessons_use_the_python3_kernel(lesson):
    assert read(lesson).metadata.kernelspec.name == "python3"


def test_starting_five_times_leaves_one_server(observed):
    seen = observed["learner"]
    assert seen["servers after five starts"] == "1\n"
    assert seen["ports answering"] == [False] * 4 + [True]
    assert seen["page"] == "Hello world\n"


def test_re_running_start_and_stop_shows_no_error_or_noise(observed):
    for outputs in observed["learner"]["outputs"]:
        assert [(o.output_type, o.get("name")) for o in outputs] == [
            ("stream", "stdout")
        ]


def test_stopping_twice_is_harmless_and_frees_the_port(observed):
    seen = observed["learner"]
    assert seen["servers after stopping"] == "0\n"
    assert seen["port answers after stopping"] is False


def test_restarting_the_kernel_frees_the_port(observed):
    seen = observed["learner"]
    assert seen["port answers before restart"] is True
    assert seen["port answers after restart"] is False


def test_the_serving_lesson_right_after_lesson_1_says_to_run_lesson_2(observed):
    cell = observed["lesson 1 then the serving one"]
    number = int(SERVING_LESSON.name[:2])
    assert cell.source == f"import checks\n\nchecks.ready_for_lesson({number})"
    (error,) = cell.outputs
    assert (error.output_type, error.ename) == ("error", "LessonSkipped")
    assert error.traceback == [
        "server/app.py has no /evening route yet: run lesson 2 (02_good_evening.ipynb)"
        " first."
    ]


def test_with_every_solution_every_check_says_correct(observed):
    printed = observed["checks with solutions"]
    assert len(printed) == EXERCISES
    for line in printed:
        assert line.startswith(f"{CORRECT} ") and line.count("\n") == 1, line


def test_behind_a_proxy_every_request_goes_to_127_0_0_1_directly(observed):
    assert observed["proxy saw"] == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_saved_checks_show_the_untouched_exercises(lesson):
    for cell in read(lesson).cells:
        if has_tag(cell, "check"):
            shown = "".join(output.get("text", "") for output in cell.outputs)
            assert shown.startswith(f"{NOT_ATTEMPTED} "), shown
