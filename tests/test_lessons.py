"""The lessons stay true: what a reader sees is what a run gives, and a learner
can run, re-run and stop them at will."""

import asyncio
import os
import re
import shutil
import socket
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.util import run_sync
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUN_SECONDS = 60


def read(lesson):
    return nbformat.read(lesson, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def copy_project(destination):
    """The lessons and the package, where running them cannot touch the repository."""
    for folder in ("notebooks", "server"):
        shutil.copytree(
            ROOT / folder,
            destination / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return destination


def kernel_env(project):
    """`import server` in the kernel finds the copy, not the repository."""
    return {**os.environ, "PYTHONPATH": str(project)}


def client_for(notebook, project):
    return NotebookClient(
        notebook,
        timeout=RUN_SECONDS,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(project / "notebooks")}},
    )


async def run_copy(lesson, project):
    """Restart & Run All on a copy of `lesson`; the executed notebook."""
    notebook = read(lesson)
    await client_for(notebook, project).async_execute(env=kernel_env(project))
    return notebook


async def run_copies(lessons, projects):
    """Run lessons side by side, each in its own kernel and its own project copy."""
    return await asyncio.gather(*map(run_copy, lessons, projects))


def visible_text(cell):
    """What a reader sees of a code cell's outputs, as text.

    %%writefile says "Writing" for a new file and "Overwriting" for an existing
    one; both mean the same here, so they compare equal.
    """
    texts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            texts.append((output.name, output.text))
        elif output.output_type in ("execute_result", "display_data"):
            texts.append((output.output_type, output.data.get("text/plain", "")))
        else:
            texts.append((output.output_type, output.get("evalue", "")))
    return [
        (kind, re.sub(r"^Overwriting ", "Writing ", text, flags=re.M))
        for kind, text in texts
    ]


@pytest.fixture(scope="module")
def fresh_runs(tmp_path_factory):
    """Every lesson run afresh, each in its own copy of the project, in parallel."""
    projects = [
        copy_project(tmp_path_factory.mktemp(lesson.stem)) for lesson in LESSONS
    ]
    runs = asyncio.run(run_copies(LESSONS, projects))
    return dict(zip(LESSONS, runs, strict=True))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_committed_outputs_are_what_a_fresh_run_prints(fresh_runs, lesson):
    committed, fresh = code_cells(read(lesson)), code_cells(fresh_runs[lesson])
    for number, (saved, ran) in enumerate(zip(committed, fresh, strict=True), start=1):
        assert visible_text(saved) == visible_text(ran), (
            f"{lesson.name}, code cell {number}: the saved output is not what a"
            " fresh run prints; Restart & Run All, then save"
        )


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


def lesson3_cell(notebook, text):
    (cell,) = [cell for cell in code_cells(notebook) if text in cell.source]
    return cell


def run_code(client, code):
    """Run `code` in the kernel like a new cell; its stdout."""
    cell = new_code_cell(code)
    client.execute_cell(cell, 0)
    assert all(
        o.output_type == "stream" and o.name == "stdout" for o in cell.outputs
    ), cell.outputs
    return "".join(o.text for o in cell.outputs)


def accepts(port):
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


SERVER_THREADS = """
import threading
print(sum(t.name.endswith("(serve_forever)") for t in threading.enumerate()))
"""


def test_the_final_lesson_survives_a_learner(tmp_path):
    """Run the start cell five times, stop twice, restart: one server, no error."""
    project = copy_project(tmp_path)
    notebook = read(ROOT / "notebooks" / "03_run_the_server.ipynb")
    client = client_for(notebook, project)
    start = lesson3_cell(notebook, "web_server = make_server(")
    stop = lesson3_cell(notebook, ".shutdown()\nthread.join()\nprint(")
    with client.setup_kernel(env=kernel_env(project)):
        for cell in code_cells(notebook)[: code_cells(notebook).index(start)]:
            client.execute_cell(cell, 0)
        ports = []
        for _ in range(5):
            client.execute_cell(start, 0)
            ports.append(int(run_code(client, "print(web_server.port)")))
        count = SERVER_THREADS
        assert run_code(client, count) == "1\n"
        assert [accepts(port) for port in ports] == [False] * 4 + [True]
        assert (
            run_code(
                client, "import requests\nprint(requests.get(base_url, timeout=5).text)"
            )
            == "Hello world\n"
        )

        client.execute_cell(stop, 0)
        client.execute_cell(stop, 0)  # stopping twice is harmless
        assert run_code(client, count) == "0\n"
        assert not accepts(ports[-1])

        client.execute_cell(start, 0)
        port = int(run_code(client, "print(web_server.port)"))
        assert accepts(port)
        run_sync(client.km.restart_kernel)(now=True)
        assert not accepts(port), "restarting the kernel should free the port"
