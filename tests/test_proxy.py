"""Behind a proxy: machines at work or at a university often set HTTP_PROXY
(or http_proxy, ALL_PROXY...) without a NO_PROXY that names 127.0.0.1. The
lessons, their checks and `make progress` must still talk to the server on
127.0.0.1 directly: lesson 3 adds 127.0.0.1 to `no_proxy` (CONTRIBUTING.md)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import lessons
from conftest import LESSON, answer_with_solutions, copy_project, solutions

pytestmark = pytest.mark.lessons  # every lesson runs, in a kernel of its own


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


def with_solutions(lesson, project):
    """A copy of the project whose lesson has its solutions in the exercises."""
    copy_project(project)
    return answer_with_solutions(project / "notebooks" / f"{lesson}.ipynb")


def test_behind_a_proxy_every_lesson_talks_to_127_0_0_1_directly(proxy, tmp_path):
    """Every lesson with its solutions, run and read as `make progress` does;
    side by side, each in a copy that holds the finished server/ already."""

    def run(lesson):
        path = with_solutions(lesson, tmp_path / lesson)
        notebook = lessons.run_lesson(path, path.parent.parent, lessons.CELL_SECONDS)
        return lessons.verdicts(notebook, lesson[:2], lessons.CELL_SECONDS)

    with ThreadPoolExecutor(len(LESSON)) as pool:
        seen = list(pool.map(run, LESSON))
    verdicts = [line for lines, _ in seen for line in lines]
    errors = [error for _, errors in seen for error in errors]
    assert len(verdicts) == sum(len(solutions(lesson)) for lesson in LESSON)
    assert all(line.startswith("Correct: ") for line in verdicts), verdicts
    assert errors == []
    assert proxy.seen == []
