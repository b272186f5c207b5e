"""Fixtures, in the style of Flask's own tutorial (examples/tutorial), and the
hooks that order and mark the tests. What tests share besides fixtures is in
helpers.py."""

import re

import pytest

from server import app as server_app

from helpers import ROOT, Process, start_server
from tools import guard

# The markers of the slow tests, slowest first (pyproject.toml describes them):
# each of their tests is marked `slow` too, so that the quick loop is
# pytest -m "not slow".
SLOWEST_FIRST = ["browser", "learners", "mistakes", "learner_copy", "lessons"]


def pytest_configure(config):
    """On several workers (pytest-xdist, `make test`), hand out the files in the
    order collected below, not by how many tests each holds."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items):
    """Every test with a marker of SLOWEST_FIRST marked `slow` too; the files
    of the slowest tests first, so that on several workers no slow file is left to
    start when the rest is done; tests marked run_last go to the end of the
    session, in their order (on several workers: of their file, which stays on
    one worker)."""

    unmarked = len(SLOWEST_FIRST)  # after every slow marker

    def rank(item):
        marks = [mark.name for mark in item.iter_markers()]
        ranks = [SLOWEST_FIRST.index(m) for m in marks if m in SLOWEST_FIRST]
        return min(ranks, default=unmarked)

    file_rank = {}
    for item in items:
        if rank(item) < unmarked:
            item.add_marker(pytest.mark.slow)
        file_rank[item.path] = min(file_rank.get(item.path, unmarked), rank(item))
    items.sort(
        key=lambda item: (
            item.get_closest_marker("run_last") is not None,
            file_rank[item.path],
        )
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test that drives browser pages fails, a screenshot of each page
    (the whole of it) goes to test-artifacts/<file>/<test>[-N].png, to look at."""
    report = yield
    if report.when == "call" and report.failed:
        values = []  # a fixture's value, its .page, or each page of a list
        for value in item.funcargs.values():
            values += value if isinstance(value, list) else [value]
        pages = [getattr(value, "page", value) for value in values]
        pages = [p for p in pages if hasattr(p, "screenshot") and not p.is_closed()]
        folder = ROOT / "test-artifacts" / item.path.stem.removeprefix("test_")
        name = re.sub(r"[^\w.-]+", "_", item.name)
        for number, page in enumerate(pages):
            folder.mkdir(parents=True, exist_ok=True)
            ending = f"-{number + 1}" if len(pages) > 1 else ""
            page.screenshot(path=folder / f"{name}{ending}.png", full_page=True)
    return report


def pytest_report_header(config):
    """On a copy whose lessons hold a learner's answers, say so first: lessons
    that fail there show the learner's answers, not a broken project."""
    if guard.changed_lessons(ROOT):
        return guard.CHANGED


@pytest.fixture
def app():
    """The Flask app the lessons built, in testing mode."""
    server_app.config.update(TESTING=True)
    yield server_app
    server_app.config.update(TESTING=False)


@pytest.fixture
def client(app):
    """Flask's test client: requests go straight to the app, no network."""
    return app.test_client()


@pytest.fixture(scope="module")
def server_process():
    """One `python -m server` for a whole test module, on a free port."""
    process = start_server()
    yield process
    process.stop()


@pytest.fixture
def start():
    """Start a command in the background: start([...], env={...}) -> Process."""
    started = []

    def _start(args, env=None, cwd=ROOT):
        process = Process(args, env, cwd)
        started.append(process)
        return process

    yield _start
    for process in started:
        process.stop()
