"""The lessons on a real JupyterHub, as a teacher hands them out.

JupyterHub runs on 127.0.0.1 with its own proxy (configurable-http-proxy,
from npm: tests/hub/package-lock.json), a dummy login and a spawner that
starts each learner's JupyterLab as a local process. The JupyterLab runs from
the environment these tests run in, which holds requirements.txt's packages
and not this project: nothing is pip-installed.

One learner logs in through headless Chromium and follows the README's
nbgitpuller link to a git repository of this working tree, which puts the
lessons into their home folder. With every exercise answered by its solution,
each lesson that knows it is on a hub (it reads JUPYTERHUB_SERVICE_PREFIX: lesson
3) runs all its cells in that JupyterLab with no error and every check says
Correct; the others run there as under `make lab`, where tests/test_browser.py
runs them all. Lesson 3's link opens the server's page through the hub; and
`python -m server`, typed into a JupyterLab terminal, answers at
.../proxy/<port>/.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

import nbformat
import psutil
import pytest
import requests

from helpers import (
    LESSONS,
    ROOT,
    Process,
    answer_with_solutions,
    copy_project,
    free_port,
    has_tag,
)
from test_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    RUN_LESSON,
    SHUT_DOWN_KERNEL,
    TYPE_IN_NEW_TERMINAL,
    browser_missing_reason,
    open_lesson_3s_link,
)

pytestmark = pytest.mark.browser

HUB_PACKAGES = ROOT / "tests" / "hub"  # package.json, package-lock.json
PROXY = HUB_PACKAGES / "node_modules" / ".bin" / "configurable-http-proxy"
LEARNER = "learner"
FOLDER = "first-web-server"  # where the link puts the lessons, in the learner's home
STEP_MS = 45_000  # for one step in the browser: a lesson's Run All, a page
SCREENSHOTS = ROOT / "test-artifacts" / "hub"


# The link CONTRIBUTING.md gives teachers ("Teaching with it"), for a hub at
# https://HUB and a repository at REPOSITORY.
TEMPLATE = re.search(
    r"^https://HUB/hub/user-redirect/git-pull\?\S+$",
    (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"),
    flags=re.M,
)[0]


def pull_link(hub_url, repository):
    """The teachers' nbgitpuller link, for this hub and this repository."""
    return TEMPLATE.replace("https://HUB", hub_url).replace(
        "REPOSITORY", quote(repository, safe="")
    )


def missing_reason():
    reason = browser_missing_reason()
    if reason:
        return reason
    if not PROXY.exists() and not shutil.which("npm"):
        return "npm is not installed: JupyterHub's proxy comes from npm (tests/hub/)"
    return None


def install_the_proxy():
    """configurable-http-proxy, exactly as tests/hub/package-lock.json locks it."""
    if PROXY.exists():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=HUB_PACKAGES,
        check=True,
        capture_output=True,
        timeout=120,
    )


def repository_of_the_working_tree(folder):
    """A git repository holding what a teacher would publish: this working tree."""
    copy_project(folder)
    git = ["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org"]
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "--message=The lessons"],
    ):
        subprocess.run([*git, *command], cwd=folder, check=True, timeout=30)
    return folder.as_uri()


CONFIG = """\
c.JupyterHub.bind_url = {hub_url!r}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_api_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = "proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {home!r}
c.Spawner.cmd = [{singleuser!r}]
# The machine runs as root, and so does the learner's JupyterLab; the app is
# exposed to the page so that the test can drive it.
# Terminals run bash, not a login shell, whose /etc/profile (Debian's) would
# put its own PATH before the image's Python.
c.Spawner.args = [
    "--allow-root",
    "--LabApp.expose_app_in_browser=True",
    '--ServerApp.terminado_settings={{"shell_command": ["/bin/bash"]}}',
]
c.Spawner.default_url = "/lab"
# The image's environment: requirements.txt installed, first on PATH, and no
# PYTHONPATH, so that nothing but the lessons themselves finds server/.
c.Spawner.env_keep = ["LANG"]
c.Spawner.environment = {{"PATH": {path!r}}}
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
# Stopping: JupyterLab without a terminal ignores the first Ctrl-C (SIGINT),
# waiting for a "y" that never comes; go straight on to SIGTERM.
c.Spawner.interrupt_timeout = 0
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A JupyterHub on 127.0.0.1 and its proxy, starting (`ready()` waits for
    it); stopped, with the learner's JupyterLab, at the end."""
    reason = missing_reason()
    if reason:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set, but {reason}")
        pytest.skip(reason)
    install_the_proxy()
    folder = tmp_path_factory.mktemp("hub")
    repository = repository_of_the_working_tree(folder / "published")
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    home = folder / "home" / "{username}"
    bin = Path(sys.prefix) / "bin"
    (folder / "jupyterhub_config.py").write_text(
        CONFIG.format(
            hub_url=hub_url,
            hub_api_port=free_port(),
            proxy_api_port=free_port(),
            proxy=str(PROXY),
            home=str(home),
            singleuser=str(bin / "jupyterhub-singleuser"),
            path=os.pathsep.join([str(bin), "/usr/local/bin", "/usr/bin", "/bin"]),
        ),
        encoding="utf-8",
    )
    env = {"PYTHONPATH": None, "JUPYTERHUB_CRYPT_KEY": None}
    process = Process(
        [str(bin / "jupyterhub"), "--config", "jupyterhub_config.py"],
        env=env,
        cwd=folder,
    )
    try:
        yield SimpleNamespace(
            url=hub_url,
            link=pull_link(hub_url, repository),
            home=Path(str(home).format(username=LEARNER)),
            ready=lambda: wait_until_healthy(process, hub_url),
        )
    finally:
        stop_everything(process)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "jupyterhub.log").write_text(
            "".join(process.stderr_lines), encoding="utf-8"
        )


def wait_until_healthy(process, hub_url, timeout=60):
    """Poll JupyterHub's health check until it answers, within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{hub_url}/hub/health", timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        assert process.proc.poll() is None, "".join(process.stderr_lines)
        assert time.monotonic() < deadline, "".join(process.stderr_lines)
        time.sleep(0.2)  # polling, bounded by the deadline


def stop_everything(process):
    """Kill JupyterHub, the learner's JupyterLab (with its kernels and
    terminals) and the proxy, all at once: the test is over and nothing of
    theirs is kept, so none needs the seconds a clean shutdown takes. (They
    run in sessions of their own, out of reach of a kill of the hub's process
    group.)"""
    hub = psutil.Process(process.proc.pid)
    started = [hub, *hub.children(recursive=True)]
    for each in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            each.kill()
    psutil.wait_procs(started, timeout=10)
    process.stop()


@pytest.fixture(scope="module")
def learner(hub):
    """The learner's browser, logged in, after following the nbgitpuller link."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            hub.ready()  # Chromium started while the hub did
            context = browser.new_context(viewport={"width": 1280, "height": 1600})
            page = context.new_page()
            page.set_default_timeout(STEP_MS)
            page.goto(f"{hub.url}/hub/login?next={quote(hub.link, safe='')}")
            page.fill("#username_input", LEARNER)
            page.fill("#password_input", "any password")
            page.click("#login_submit")
            # The hub starts the learner's JupyterLab, nbgitpuller pulls the
            # lessons, and JupyterLab opens lesson 1.
            page.wait_for_url(f"**/user/{LEARNER}/lab/**", timeout=STEP_MS)
            page.wait_for_function("window.jupyterapp !== undefined")
            yield SimpleNamespace(page=page, browser=browser)
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for number, open_page in enumerate(browser.contexts[0].pages):
                open_page.screenshot(path=SCREENSHOTS / f"tab-{number}.png")
            browser.close()


def test_the_teachers_link_pulls_main_into_a_folder_and_opens_lesson_1():
    query = parse_qs(urlsplit(TEMPLATE).query)
    assert query == {
        "repo": ["REPOSITORY"],
        "branch": ["main"],
        "targetpath": [FOLDER],
        "urlpath": [f"lab/tree/{FOLDER}/notebooks/{LESSONS[0].name}"],
    }


def test_the_link_pulls_the_lessons_into_the_home_folder_uninstalled(hub, learner):
    pulled = hub.home / FOLDER
    assert sorted(p.name for p in (pulled / "notebooks").glob("*.ipynb")) == [
        lesson.name for lesson in LESSONS
    ]
    assert (pulled / "server" / "__init__.py").exists()
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util as u; print(u.find_spec('server'))",
        ],
        cwd=hub.home,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=30,
        encoding="utf-8",
    )
    assert found.stdout == "None\n", "server is installed: the lessons must not need it"


# Open a lesson in the learner's JupyterLab and read it again from disk, where
# the test has just written the learner's answers.
OPEN_FROM_DISK = """
async (path) => {
  const app = window.jupyterapp;
  await app.restored;
  const panel = await app.commands.execute("docmanager:open", { path });
  await panel.context.ready;
  await panel.context.revert();
}
"""


def code_cells(lesson):
    cells = nbformat.read(lesson, as_version=4).cells
    return [cell for cell in cells if cell.cell_type == "code"]


def output_text(cell):
    return "".join(
        output.get("text", "") + "".join(output.get("data", {}).get("text/plain", ""))
        for output in cell["outputs"]
    )


# The lessons that do something else on a hub: they read where the hub serves
# JupyterLab. The rest have nothing of the hub to meet.
ON_A_HUB = [
    lesson
    for lesson in LESSONS
    if "JUPYTERHUB_SERVICE_PREFIX" in lesson.read_text(encoding="utf-8")
]


@pytest.mark.parametrize("lesson", ON_A_HUB, ids=lambda p: p.name)
def test_each_lesson_runs_on_the_hub_and_every_check_says_correct(hub, learner, lesson):
    pulled = hub.home / FOLDER / "notebooks" / lesson.name
    answer_with_solutions(pulled)
    path = f"{FOLDER}/notebooks/{lesson.name}"
    page = learner.page
    try:
        page.evaluate(OPEN_FROM_DISK, path)
        run = page.evaluate(RUN_LESSON, [path, STEP_MS])
    finally:
        page.evaluate(SHUT_DOWN_KERNEL)  # its outputs stay on the page
    counts = [cell["count"] for cell in run["cells"]]
    assert run["finished"], f"stopped at: {run['kernel']}; execution counts {counts}"
    errors = [
        output
        for cell in run["cells"]
        for output in cell["outputs"]
        if output["output_type"] == "error" or output.get("name") == "stderr"
    ]
    assert errors == []
    verdicts = [
        output_text(ran).splitlines()[0]
        for cell, ran in zip(code_cells(pulled), run["cells"], strict=True)
        if has_tag(cell, "check")
    ]
    assert verdicts, f"{lesson.name} has no check"
    assert [verdict.split(":")[0] for verdict in verdicts] == ["Correct"] * len(
        verdicts
    ), verdicts


def test_lesson_3s_link_opens_the_servers_page_through_the_hub(hub, learner):
    page = learner.page
    path = f"{FOLDER}/notebooks/{LESSONS[2].name}"
    try:
        href, shown = open_lesson_3s_link(page, path, STEP_MS)
        assert href.startswith(f"/user/{LEARNER}/proxy/"), href
        assert shown == "Hello world"
    finally:
        page.evaluate(SHUT_DOWN_KERNEL)


def test_python_m_server_in_a_terminal_answers_at_proxy_port(hub, learner):
    port = free_port()  # 3000 in the lesson; any free port here, through PORT
    page = learner.page
    # The terminal opens in the learner's home folder: cd into the project
    # first, as lesson 3 says.
    page.evaluate(
        TYPE_IN_NEW_TERMINAL, f"cd {FOLDER} && PORT={port} python -m server\r"
    )
    tab = page.context.new_page()
    try:
        deadline = time.monotonic() + 30
        for path, body in [("", "Hello world"), ("evening", "Good evening")]:
            while True:
                answer = tab.goto(f"{hub.url}/user/{LEARNER}/proxy/{port}/{path}")
                if answer.status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)  # until the server is up, bounded by the deadline
            assert (answer.status, tab.inner_text("body")) == (200, body)
    finally:
        tab.close()
        page.evaluate("() => window.typeInTerminal('\\x03')")  # Ctrl-C
