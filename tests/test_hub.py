"""A class on one JupyterHub, as a teacher runs it: two learners at once.

The hub runs the teacher's recipe, teaching/jupyterhub_config.py, loaded as it
is by a config that changes only what a test must: the hub's ports, on
127.0.0.1, the proxy's path (teaching/hub/, npm ci) and, for driving the page,
JupyterLab's `jupyterapp` exposed to it. As the recipe says: PAM logins of real
system users (tests/learners.py makes two, with passwords, and removes them),
LocalProcessSpawner, base_url /class/, and one environment every user can run,
made from Debian's Python with requirements.txt and requirements/hub.txt, from
which the hub, each learner's JupyterLab, kernels and terminals run.

Two learners log in through one headless Chromium (a context each) and follow
the teacher's nbgitpuller link, read from teaching/README.md, to a git
repository of this working tree. Side by side, each runs all three lessons with
every exercise answered by its solution (no error, every check Correct), then
lesson 3's terminal step, `cd first-web-server && python -m server`, in a
JupyterLab terminal; each opens the address their own terminal printed and
reaches their own server, never the other's.
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import nbformat
import psutil
import pytest
import requests
from traitlets.config.loader import PyFileConfigLoader

import learners
from helpers import (
    LESSONS,
    ROOT,
    Process,
    answer_with_solutions,
    copy_project,
    free_port,
    has_tag,
    wait_until_answers,
    wait_until_listening,
)
from test_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    RUN_LESSON,
    browser_missing_reason,
    open_lesson_3s_link,
)

pytestmark = pytest.mark.browser

TEACHING = ROOT / "teaching"
RECIPE = TEACHING / "jupyterhub_config.py"  # the file the teacher copies
HUB_PACKAGES = TEACHING / "hub"  # package.json, package-lock.json
PROXY = HUB_PACKAGES / "node_modules" / ".bin" / "configurable-http-proxy"
BASE_URL = PyFileConfigLoader(str(RECIPE)).load_config().JupyterHub.base_url
NAMES = ("ada", "alan")  # the two learners (with a random ending each)
FOLDER = "first-web-server"  # where the link puts the lessons, in each home
STEP_MS = 45_000  # for one step in the browser: a lesson's Run All, a page
SCREENSHOTS = ROOT / "test-artifacts" / "hub"

# The link teaching/README.md gives teachers, for a hub at https://HUB (its
# base_url included) and a repository at REPOSITORY.
TEMPLATE = re.search(
    r"^https://HUB/hub/user-redirect/git-pull\?\S+$",
    (TEACHING / "README.md").read_text(encoding="utf-8"),
    flags=re.M,
)[0]


def pull_link(hub_url, repository):
    """The teachers' nbgitpuller link, for this hub and this repository."""
    return TEMPLATE.replace("https://HUB", hub_url).replace(
        "REPOSITORY", quote(repository, safe="")
    )


def missing_reason():
    reason = browser_missing_reason() or learners.missing_reason()
    if reason:
        return reason
    if not PROXY.exists() and not shutil.which("npm"):
        return "npm is not installed: JupyterHub's proxy comes from npm (teaching/hub/)"
    return None


def install_the_proxy():
    """configurable-http-proxy, exactly as teaching/hub/package-lock.json locks it."""
    if PROXY.exists():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=HUB_PACKAGES,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextlib.contextmanager
def published_repository(folder):
    """What a teacher would publish, this working tree, as a git repository at
    `folder`, served by git's own daemon on 127.0.0.1: its URL. (Learners
    cannot clone it as a folder: git refuses a repository another user owns.)"""
    copy_project(folder)
    git = ["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org"]
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "--message=The lessons"],
    ):
        subprocess.run([*git, *command], cwd=folder, check=True, timeout=30)
    port = free_port()
    daemon = Process(
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}"]
        + ["--export-all", f"--base-path={folder.parent}", str(folder)],
        cwd=folder,
    )
    try:
        wait_until_listening(daemon, port)
        yield f"git://127.0.0.1:{port}/{folder.name}"
    finally:
        daemon.stop()


# The test's own config: the teacher's recipe, then only what a test changes.
CONFIG = """\
load_subconfig({recipe!r})
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_api_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = "proxy.pid"
# So that the test can drive each learner's JupyterLab from the page.
c.Spawner.args = [*c.Spawner.args, "--LabApp.expose_app_in_browser=True"]
"""


@contextlib.contextmanager
def class_hub(names=NAMES):
    """A JupyterHub on 127.0.0.1 running the teacher's recipe, its learners
    (system users with passwords, made from `names`), the shared environment
    and a published repository, starting (`ready()` waits for it). Afterwards
    the hub, its proxy and every learner's processes are killed, and the users
    and folders removed."""
    install_the_proxy()
    shared = learners.shared_folder("hub-class-")
    made = [learners.unique(name) for name in names]
    try:
        with contextlib.ExitStack() as stack:
            users = stack.enter_context(learners.system_users(*made))
            passwords = {user.pw_name: learners.unique("password") for user in users}
            subprocess.run(
                ["chpasswd"],
                input="".join(f"{n}:{p}\n" for n, p in passwords.items()),
                text=True,
                check=True,
                timeout=30,
            )
            python = learners.class_venv()
            repository = stack.enter_context(published_repository(shared / "published"))
            # The teacher's clone: the recipe beside its lab settings.
            shutil.copytree(
                TEACHING, shared / "clone" / "teaching", ignore=lambda *_: {"hub"}
            )
            hub_folder = shared / "hub"  # the hub's database and cookie secret
            hub_folder.mkdir(mode=0o700)
            port = free_port()
            (hub_folder / "jupyterhub_config.py").write_text(
                CONFIG.format(
                    recipe=str(shared / "clone" / "teaching" / RECIPE.name),
                    port=port,
                    hub_api_port=free_port(),
                    proxy_api_port=free_port(),
                    proxy=str(PROXY),
                )
            )
            hub_url = f"http://127.0.0.1:{port}{BASE_URL.rstrip('/')}"
            process = Process(
                [str(python.parent / "jupyterhub"), "--config", "jupyterhub_config.py"],
                env={"PYTHONPATH": None, "JUPYTERHUB_CRYPT_KEY": None},
                cwd=hub_folder,
            )
            try:
                yield SimpleNamespace(
                    url=hub_url,
                    origin=f"http://127.0.0.1:{port}",
                    link=pull_link(hub_url, repository),
                    python=python,
                    process=process,
                    learners=[
                        SimpleNamespace(
                            name=user.pw_name,
                            password=passwords[user.pw_name],
                            uid=user.pw_uid,
                            home=Path(user.pw_dir),
                        )
                        for user in users
                    ],
                    ready=lambda: wait_until_answers(
                        process,
                        lambda: requests.get(f"{hub_url}/hub/health", timeout=5),
                    ),
                )
            finally:
                stop_everything(process)
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                (SCREENSHOTS / "jupyterhub.log").write_text(process.stderr)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def stop_everything(process):
    """Kill JupyterHub and its proxy at once: the test is over and nothing of
    theirs is kept. (The learners' processes are killed with their users.)"""
    hub = psutil.Process(process.proc.pid)
    started = [hub, *hub.children(recursive=True)]
    for each in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            each.kill()
    psutil.wait_procs(started, timeout=10)
    process.stop()


def log_in(browser, hub, learner):
    """A browser context of the learner's own; logs in and follows the link,
    without waiting for the hub: `arrived(page)` waits for lesson 1."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    page.goto(f"{hub.url}/hub/login?next={quote(hub.link, safe='')}")
    page.fill("#username_input", learner.name)
    page.fill("#password_input", learner.password)
    page.click("#login_submit")
    return page


def arrived(page, learner):
    """Wait until the hub has started the learner's JupyterLab, nbgitpuller
    has pulled the lessons and JupyterLab shows lesson 1."""
    page.wait_for_url(f"**/user/{learner.name}/lab/**", timeout=2 * STEP_MS)
    page.wait_for_function("window.jupyterapp !== undefined")


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def hub():
    reason = missing_reason()
    if reason:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set, but {reason}")
        pytest.skip(reason)
    with class_hub() as started:
        yield started


@pytest.fixture(scope="module")
def pages(hub):
    """Each learner's page, logged in at once, after following the link."""
    with chromium() as browser:
        hub.ready()
        opened = [log_in(browser, hub, learner) for learner in hub.learners]
        for page, learner in zip(opened, hub.learners, strict=True):
            arrived(page, learner)
        yield opened


def test_the_teachers_link_pulls_main_into_a_folder_and_opens_lesson_1():
    query = parse_qs(urlsplit(TEMPLATE).query)
    assert query == {
        "repo": ["REPOSITORY"],
        "branch": ["main"],
        "targetpath": [FOLDER],
        "urlpath": [f"lab/tree/{FOLDER}/notebooks/{LESSONS[0].name}"],
    }


@pytest.mark.timeout(600)  # the environment, the users, the hub, two logins
def test_the_link_pulls_the_lessons_into_each_learners_home(hub, pages):
    for learner in hub.learners:
        pulled = learner.home / FOLDER
        assert sorted(p.name for p in (pulled / "notebooks").glob("*.ipynb")) == [
            lesson.name for lesson in LESSONS
        ]
        assert pulled.stat().st_uid == learner.uid  # theirs, not root's
        assert (pulled / "server" / "__init__.py").exists()
    found = subprocess.run(
        [
            str(hub.python),
            "-c",
            "import importlib.util as u; print(u.find_spec('server'))",
        ],
        cwd=hub.learners[0].home,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert found.stdout == "None\n", "server is installed: the lessons must not need it"


SETTINGS = TEACHING / "lab-settings" / "overrides.json"


def test_each_learners_jupyterlab_has_the_lessons_settings(hub, pages):
    """The recipe's JupyterLab settings, the file make lab uses: Markdown opens
    formatted (lesson 1's link to the README)."""
    wanted = json.loads(SETTINGS.read_text())["@jupyterlab/docmanager-extension:plugin"]
    for learner, page in zip(hub.learners, pages, strict=True):
        answer = page.request.get(
            f"{hub.url}/user/{learner.name}/lab/api/settings/"
            "@jupyterlab/docmanager-extension:plugin"
        )
        schema = answer.json()["schema"]["properties"]
        assert schema["defaultViewers"]["default"] == wanted["defaultViewers"]


# Run in the page, without waiting: read a lesson again from disk (where the
# test has just written the learner's answers), Run All, and shut its kernel
# down if told to. `window.ran` holds what RUN_LESSON returns, once it has.
START_LESSON = (
    """
([path, deadlineMs, shutDown]) => {
  const app = window.jupyterapp;
  const run = """
    + RUN_LESSON
    + """;
  window.ran = undefined;
  (async () => {
    await app.restored;
    const panel = await app.commands.execute("docmanager:open", { path });
    await panel.context.ready;
    await panel.context.revert();
    const result = await run([path, deadlineMs]);
    if (shutDown) await panel.sessionContext.shutdown();  // its outputs stay
    return result;
  })().then(
    (result) => { window.ran = result; },
    (error) => { window.ran = { finished: false, kernel: String(error), cells: [] }; },
  );
}
"""
)


def code_cells(lesson):
    cells = nbformat.read(lesson, as_version=4).cells
    return [cell for cell in cells if cell.cell_type == "code"]


def output_text(cell):
    return "".join(
        output.get("text", "") + "".join(output.get("data", {}).get("text/plain", ""))
        for output in cell["outputs"]
    )


def run_side_by_side(pages, learners, lesson, shut_down=True, deadline_ms=STEP_MS):
    """Each learner's Run All of `lesson`, answered by its solutions, at the
    same time, its kernel shut down afterwards or not; what each run returned."""
    for learner, page in zip(learners, pages, strict=True):
        answer_with_solutions(learner.home / FOLDER / "notebooks" / lesson.name)
        path = f"{FOLDER}/notebooks/{lesson.name}"
        page.evaluate(START_LESSON, [path, deadline_ms, shut_down])
    for page in pages:
        page.wait_for_function(
            "() => window.ran !== undefined", timeout=deadline_ms + 15_000
        )
    return [page.evaluate("() => window.ran") for page in pages]


@pytest.mark.timeout(300)
def test_both_learners_run_every_lesson_at_once_and_every_check_says_correct(
    hub, pages
):
    for lesson in LESSONS:  # in order: each lesson needs the ones before
        runs = run_side_by_side(pages, hub.learners, lesson)
        for learner, run in zip(hub.learners, runs, strict=True):
            where = f"{learner.name}, {lesson.name}"
            counts = [cell["count"] for cell in run["cells"]]
            assert run["finished"], f"{where}: {run['kernel']}; counts {counts}"
            errors = [
                output
                for cell in run["cells"]
                for output in cell["outputs"]
                if output["output_type"] == "error" or output.get("name") == "stderr"
            ]
            assert errors == [], where
            pulled = learner.home / FOLDER / "notebooks" / lesson.name
            verdicts = [
                output_text(ran).splitlines()[0]
                for cell, ran in zip(code_cells(pulled), run["cells"], strict=True)
                if has_tag(cell, "check")
            ]
            assert verdicts, f"{lesson.name} has no check"
            assert [v.split(":")[0] for v in verdicts] == ["Correct"] * len(verdicts), (
                where,
                verdicts,
            )


def test_lesson_3s_link_opens_each_learners_page_through_the_hub(hub, pages):
    path = f"{FOLDER}/notebooks/{LESSONS[2].name}"
    for learner, page in zip(hub.learners, pages, strict=True):
        try:
            href, shown = open_lesson_3s_link(page, path, STEP_MS)
            assert href.startswith(f"{BASE_URL}user/{learner.name}/proxy/"), href
            assert shown == "Hello world"
        finally:
            page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
            )


# Open a JupyterLab terminal, type `keys`, and keep what it shows in
# `window.terminalOutput` (as the terminal receives it, with its escape codes).
TYPE_IN_NEW_TERMINAL = """
async (keys) => {
  await window.jupyterapp.restored;
  const widget = await window.jupyterapp.commands.execute("terminal:create-new");
  const session = widget.content.session;
  window.terminalOutput = "";
  session.messageReceived.connect((_, message) => {
    if (message.type === "stdout") window.terminalOutput += message.content.join("");
  });
  const deadline = Date.now() + 20000;
  while (session.connectionStatus !== "connected" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  session.send({ type: "stdin", content: [keys] });
  window.typeInTerminal = (more) => session.send({ type: "stdin", content: [more] });
}
"""

# Lesson 3's terminal step, after a line saying which Python `python` is.
TERMINAL_STEP = (
    "cd first-web-server && python -c 'import sys; print(\"Python:\", sys.prefix)'"
    " && python -m server\r"
)
PYTHON_LINE = re.compile(r"Python: (/\S+)\r?\n")
STARTUP_LINE = re.compile(r"Server is running on http://localhost:(\d+)\r?\n")
# What `python -m server` prints on a hub after its startup line: the page's
# address through the hub, its last word (a URL, or the path after the hub's).
THROUGH_THE_HUB = re.compile(r"Open it through the hub: (?:.* )?(\S+)\r?\n")


def terminal_says(page, pattern, timeout=30):
    """The first match of `pattern` in what the page's terminal shows, within
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        shown = page.evaluate("() => window.terminalOutput")
        if found := pattern.search(shown):
            return found
        assert time.monotonic() < deadline, f"the terminal shows {shown!r}"
        time.sleep(0.2)  # polling, bounded by the deadline


@pytest.mark.timeout(180)
def test_each_learners_terminal_serves_their_own_page_through_the_hub(hub, pages):
    for page in pages:  # both at once: neither waits for the other's server
        page.evaluate(TYPE_IN_NEW_TERMINAL, TERMINAL_STEP)
    try:
        addresses = []
        for learner, page in zip(hub.learners, pages, strict=True):
            python = terminal_says(page, PYTHON_LINE)[1]
            assert Path(python) == hub.python.parent.parent  # the lessons' Python
            terminal_says(page, STARTUP_LINE)
            # The hub-lesson branch: until it is merged, this line is missing.
            address = terminal_says(page, THROUGH_THE_HUB)[1]
            assert address.endswith("/") and f"/user/{learner.name}/proxy/" in address
            addresses.append(urljoin(hub.origin, address))
        assert addresses[0] != addresses[1]
        for learner, page, address in zip(hub.learners, pages, addresses, strict=True):
            tab = page.context.new_page()
            try:
                for path, body in [("", "Hello world"), ("evening", "Good evening")]:
                    answer = tab.goto(f"{address}{path}?from={learner.name}")
                    assert (answer.status, tab.inner_text("body")) == (200, body)
            finally:
                tab.close()
        # Each server logged its own learner's requests, and no other's.
        for learner, page, other in zip(
            hub.learners, pages, reversed(hub.learners), strict=True
        ):
            log = terminal_says(page, re.compile(rf"GET /evening\?from={learner.name}"))
            assert f"from={other.name}" not in log.string
    finally:
        for page in pages:
            page.evaluate("() => window.typeInTerminal('\\x03')")  # Ctrl-C
