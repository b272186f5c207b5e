"""Behind a proxy: machines at work or at a university often set HTTP_PROXY
(or http_proxy, ALL_PROXY...) without a NO_PROXY that names 127.0.0.1. The
lessons, their checks and `make progress` must still talk to the server on
127.0.0.1 directly: lesson 3 adds 127.0.0.1 to `no_proxy` (CONTRIBUTING.md)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest

import lessons
from conftest import LESSON, copy_project, has_tag, solutions


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


@pytest.fixture
def proxy(monkeypatch):
    """Every proxy variable, upper and lower case, names the stand-in proxy;
    NO_PROXY names only localhost, as many machines have it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, url)
        monkeypatch.setenv(name.upper(), url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost")
    yield server
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_behind_a_proxy_every_lesson_talks_to_127_0_0_1_directly(
    proxy, tmp_path, capsys
):
    """Every lesson, with its solutions, run as `make progress` runs them."""
    project = copy_project(tmp_path)
    for lesson in LESSON:
        path = project / "notebooks" / f"{lesson}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        answers = iter(solutions(lesson))
        for cell in notebook.cells:
            if has_tag(cell, "exercise"):
                cell.source = next(answers)
        nbformat.write(notebook, path)
    correct, total = lessons.progress(project)
    printed = capsys.readouterr().out
    assert (correct, total) == (5, 5), printed
    assert "Code cell" not in printed and "Your exercise" not in printed, printed
    assert proxy.seen == []
