"""The server's page through JupyterLab's own address, as on a JupyterHub:
jupyter-server-proxy passes what comes to <JupyterLab>/proxy/<port>/ on to that
port of the same machine.

Jupyter Server runs here with the base_url JupyterHub gives a learner
(/user/ada/), and `python -m server` with the JUPYTERHUB_SERVICE_PREFIX the hub
would set: the address it prints leads to its page; with nothing listening on
a port, the proxy answers the page the README's troubleshooting quotes.
"""

import secrets
import sys

import pytest
import requests

from helpers import (
    ROOT,
    SERVER_COMMAND,
    STARTUP_LINE,
    Process,
    free_port,
    wait_until_answers,
)

PREFIX = "/user/ada/"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# A real Jupyter Server for the module: seconds, not the quick loop's.
pytestmark = pytest.mark.learner_copy


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """Jupyter Server with jupyter-server-proxy, at 127.0.0.1:<port>/user/ada/.
    Yields (its address, a session that carries its token)."""
    folder = tmp_path_factory.mktemp("jupyter")
    token = secrets.token_hex(16)
    port = free_port()
    process = Process(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={PREFIX}",
            f"--ServerApp.root_dir={folder}",
            f"--IdentityProvider.token={token}",
        ],
        env={
            "JUPYTER_CONFIG_DIR": str(folder / "config"),
            "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        },
        cwd=folder,
    )
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    session.trust_env = False  # straight to 127.0.0.1, never through a proxy
    address = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(
            process, lambda: session.get(f"{address}{PREFIX}api/status", timeout=5)
        )
        yield address, session
    finally:
        process.stop()


def test_the_address_python_m_server_prints_on_a_hub_leads_to_its_page(jupyter, start):
    address, session = jupyter
    hub = {"JUPYTERHUB_SERVICE_PREFIX": PREFIX, "JUPYTERHUB_PUBLIC_URL": ""}
    server = start(SERVER_COMMAND, env={"PORT": None, **hub})
    assert STARTUP_LINE.fullmatch(server.next_line())
    path = server.next_line().split()[-1]  # ".../user/ada/proxy/<port>/"
    for page, body in [("", "Hello world"), ("evening", "Good evening")]:
        answer = session.get(f"{address}{path}{page}", timeout=10)
        assert (answer.status_code, answer.text) == (200, body)


def test_a_port_nobody_listens_on_answers_500_as_the_readme_says(jupyter):
    address, session = jupyter
    answer = session.get(f"{address}{PREFIX}proxy/{free_port()}/", timeout=10)
    assert answer.status_code == 500
    assert "<h1>500 : Internal Server Error</h1>" in answer.text
    assert "`.../proxy/<port>/` shows `500 : Internal Server Error`" in README
