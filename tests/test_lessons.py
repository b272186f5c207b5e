"""The lessons stay true: what a reader sees is what a run gives, and a learner
can run, re-run and stop them at will.

Kernels are slow to start, so the module does its notebook work once, in two
kernels side by side (see `observed`), and each test checks one thing seen.
"""

import asyncio
import os
import re
import socket

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell

from conftest import LESSON, LESSONS, ROOT, copy_project, has_tag, solutions

FINAL_LESSON = ROOT / "notebooks" / "03_run_the_server.ipynb"
RUN_SECONDS = 60


def read(lesson):
    return nbformat.read(lesson, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def client_for(notebook, project):
    """A client that runs cells as JupyterLab does. A cell still running after
    RUN_SECONDS is interrupted, as the stop button would, so that its error
    shows the line it was waiting on (see `run_all`)."""
    return NotebookClient(
        notebook,
        timeout=RUN_SECONDS,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeout",
            "evalue": f"still running after {RUN_SECONDS} s, so it was interrupted",
            "traceback": [],
        },
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(project / "notebooks")}},
    )


async def run_all(notebook, project):
    """Restart & Run All, in place: the notebook keeps what each cell printed.

    When a cell had to be interrupted, the error says where it was waiting.
    """
    try:
        await client_for(notebook, project).async_execute(env=kernel_env(project))
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


def kernel_env(project):
    """`import server` in the kernel finds the copy, not the repository."""
    return {**os.environ, "PYTHONPATH": str(project)}


async def run_lessons_in_order(project):
    """Blank every file in server/, then Restart & Run All each lesson in order.

    Right after lesson 1 it also runs the last lesson, as a learner who skips
    lesson 2 would: that run stops at its first cell and writes nothing.
    Returns the executed notebooks, where that skipping run stopped, and the
    files the lessons wrote back.
    """
    for path in (project / "server").iterdir():
        path.write_text("")
    runs = {}
    for lesson in LESSONS:
        runs[lesson] = read(project / "notebooks" / lesson.name)
        await run_all(runs[lesson], project)
        if lesson == LESSONS[0]:
            skipped = await where_it_stops(project, LESSONS[-1].stem)
    written = {
        path.name: path.read_bytes() for path in (project / "server").glob("*.py")
    }
    return runs, skipped, written


def accepts(port):
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def stdout_of(client, code):
    """Run `code` in the kernel like a new cell; what it printed."""
    cell = new_code_cell(code)
    await client.async_execute_cell(cell, 0)
    return "".join(o.text for o in cell.outputs if o.get("name") == "stdout")


def final_lesson_cell(notebook, text):
    (cell,) = [cell for cell in code_cells(notebook) if text in cell.source]
    return cell


SERVER_THREADS = """
import threading
print(sum(t.name.endswith("(serve_forever)") for t in threading.enumerate()))
"""


async def act_like_a_learner(project):
    """Run the final lesson's start cell five times, stop twice, restart the kernel.

    Returns what was seen at each step.
    """
    notebook = read(FINAL_LESSON)
    client = client_for(notebook, project)
    cells = code_cells(notebook)
    start = final_lesson_cell(notebook, "web_server = make_server(")
    stop = final_lesson_cell(notebook, "web_server.shutdown()\nthread.join(timeout=5)")
    seen = {"outputs": []}
    async with client.async_setup_kernel(env=kernel_env(project)):
        for cell in cells[: cells.index(start)]:
            await client.async_execute_cell(cell, 0)
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


async def where_it_stops(project, lesson):
    """Run All a lesson, as a learner would; where an error stopped it.

    Returns (lesson, number of the code cell that stopped it, its error output),
    or None when the lesson ran to the end.
    """
    notebook = read(project / "notebooks" / f"{lesson}.ipynb")
    try:
        await run_all(notebook, project)
    except CellExecutionError:
        for number, cell in enumerate(code_cells(notebook), start=1):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors:
                return lesson, number, errors[0]
    return None


def with_solutions(notebook, lesson):
    """The lesson with each exercise cell's code replaced by its solution."""
    answers = iter(solutions(lesson))
    for cell in notebook.cells:
        if has_tag(cell, "exercise"):
            cell.source = next(answers)
    return notebook


async def checks_with_every_solution(project):
    """Run every lesson in order with its solutions; what each check cell printed."""
    printed = []
    for lesson in LESSON:
        notebook = with_solutions(
            read(project / "notebooks" / f"{lesson}.ipynb"), lesson
        )
        await run_all(notebook, project)
        for cell in notebook.cells:
            if has_tag(cell, "check"):
                printed.append("".join(o.get("text", "") for o in cell.outputs))
    return printed


async def observe(projects):
    (projects["empty app.py"] / "server" / "app.py").write_text("")
    return await asyncio.gather(
        run_lessons_in_order(projects["fresh"]),
        act_like_a_learner(projects["learner"]),
        where_it_stops(projects["empty app.py"], "03_run_the_server"),
        checks_with_every_solution(projects["solutions"]),
    )


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    names = ["fresh", "learner", "empty app.py", "solutions"]
    projects = {
        name: copy_project(tmp_path_factory.mktemp(name.replace(" ", "-")))
        for name in names
    }
    (runs, skipped, written), learner_saw, empty, checked = asyncio.run(
        observe(projects)
    )
    return {
        "runs": runs,
        "written": written,
        "learner": learner_saw,
        "lesson 1 then 3": skipped,
        "empty app.py": empty,
        "checks with solutions": checked,
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


def test_lesson_3_after_only_lesson_1_says_to_run_lesson_2(observed):
    lesson, cell, error = observed["lesson 1 then 3"]
    assert (lesson, cell) == ("03_run_the_server", 1)
    assert error.traceback == [
        "server/app.py has no /evening route yet: run lesson 2 (02_good_evening.ipynb)"
        " first."
    ]


def test_lesson_3_with_an_empty_app_py_says_to_run_lesson_2(observed):
    lesson, cell, error = observed["empty app.py"]
    assert (lesson, cell) == ("03_run_the_server", 1)
    assert error.traceback == [
        "server/app.py is empty or broken (it defines no app): run lesson 2"
        " (02_good_evening.ipynb) first."
    ]


def test_with_every_solution_every_check_says_correct(observed):
    printed = observed["checks with solutions"]
    assert len(printed) == sum(len(solutions(lesson)) for lesson in LESSON)
    for line in printed:
        assert line.startswith("Correct: ") and line.count("\n") == 1, line


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_saved_checks_show_the_untouched_exercises(lesson):
    for cell in read(lesson).cells:
        if has_tag(cell, "check"):
            shown = "".join(output.get("text", "") for output in cell.outputs)
            assert shown.startswith("Not attempted: "), shown
