"""The Procfile's `web:` command: the production server, as a host would start it."""

import os
import shlex
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from bench import procfile_command
from helpers import (
    TESTS,
    Process,
    free_port,
    slow_answer_while_stopping,
    wait_until_listening,
    within,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="granian via sh")

HTML = "text/html; charset=utf-8"
WEB = procfile_command()  # the Procfile's web: line, read as `make bench` reads it


def start_web(command=WEB, workers=None):
    """Run a Procfile command as a platform does (sh, PORT set), on 127.0.0.1,
    with WEB_CONCURRENCY set to `workers` (unset when None)."""
    port = free_port()
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "PATH": os.pathsep.join([venv_bin, os.environ["PATH"]]),
        "PYTHONPATH": str(TESTS),
        "WEB_CONCURRENCY": workers,
    }
    process = Process(["sh", "-c", f"exec {command}"], env)
    process.port = port
    try:
        wait_until_listening(process, port)
        # Ready when it answers, as a platform's health check would see it.
        requests.get(f"http://127.0.0.1:{port}/", timeout=20).raise_for_status()
    except BaseException:
        process.stop()
        raise
    return process


@pytest.fixture(scope="module")
def web():
    process = start_web()
    yield process
    process.stop()


def test_the_procfile_serves_the_package_with_granian():
    words = shlex.split(WEB)
    assert words[0] == "granian"
    assert words[-1] == "server:app"
    assert "$PORT" in words


@pytest.mark.parametrize(
    ("path", "body"), [("/", b"Hello world"), ("/evening", b"Good evening")]
)
def test_both_pages_answer_exactly(web, path, body):
    response = requests.get(f"http://127.0.0.1:{web.port}{path}", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.content == body


def test_unknown_paths_are_not_found(web):
    response = requests.get(f"http://127.0.0.1:{web.port}/morning", timeout=5)
    assert response.status_code == 404


def workers_answering(process, deadline_seconds=20):
    """The worker processes of a granian, and those seen answering GET /worker
    (tests/slow_app.py), asking on new connections until every one has
    answered or the deadline passes."""
    workers = {child.pid for child in psutil.Process(process.proc.pid).children()}
    answered = set()
    deadline = time.monotonic() + deadline_seconds
    while answered != workers and time.monotonic() < deadline:
        url = f"http://127.0.0.1:{process.port}/worker"
        answered.add(int(requests.get(url, timeout=5).text))
    return workers, answered


@pytest.mark.parametrize(("workers", "expected"), [(None, 1), ("2", 2)])
def test_web_concurrency_sets_the_number_of_workers(workers, expected):
    """Platforms say how many workers to run in WEB_CONCURRENCY; 1 when unset."""
    process = start_web(WEB.replace("server:app", "slow_app:app"), workers)
    try:
        running, answered = workers_answering(process)
    finally:
        process.stop()
    assert len(running) == expected
    assert answered == running


@pytest.mark.parametrize("workers", [None, "2"])
def test_sigterm_stops_it_with_exit_0(workers):
    """Once every worker has started (a SIGTERM to a worker still starting is
    missed, and granian then waits --workers-kill-timeout: CONTRIBUTING.md)."""
    process = start_web(WEB.replace("server:app", "slow_app:app"), workers)
    try:
        workers_answering(process)
        process.proc.send_signal(signal.SIGTERM)
        code, seconds = process.wait(timeout=15)
    finally:
        process.stop()
    assert code == 0
    assert within(seconds, 5), seconds


def test_sigterm_finishes_the_answer_in_progress():
    process = start_web(WEB.replace("server:app", "slow_app:app"))
    try:
        response, code, _ = slow_answer_while_stopping(process, signal.SIGTERM)
    finally:
        process.stop()
    assert (response.status_code, response.content) == (200, b"finished")
    assert code == 0
