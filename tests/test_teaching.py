"""What a teacher hands out, checked offline: the Codespaces configuration
against its schema, and what Binder's repo2docker makes of the repository.

(The nbgitpuller link for a JupyterHub is followed for real by tests/test_hub.py.)
"""

import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT
from test_lock import check_schema

DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"
LAB_SETTINGS = ROOT / "teaching" / "lab-settings" / "overrides.json"
# The dev container specification's schema, vendored: see tests/schemas/README.md.
DEVCONTAINER_SCHEMA = ROOT / "tests" / "schemas" / "devContainer.base.schema.json"


@pytest.fixture(scope="module")
def schema_check(tmp_path_factory):
    """devcontainer.json and a broken copy of it, checked once."""
    folder = tmp_path_factory.mktemp("devcontainer")
    schema = ["--schemafile", str(DEVCONTAINER_SCHEMA)]
    return check_schema(schema, DEVCONTAINER, folder, '"forwardPorts"', '"ports"')


def test_the_devcontainer_follows_its_schema(schema_check):
    assert schema_check.returncode == 1, schema_check.stdout + schema_check.stderr
    assert DEVCONTAINER.name not in schema_check.stdout


def test_the_schema_check_rejects_a_broken_devcontainer(schema_check):
    assert "broken.json::$: Unevaluated properties are not allowed ('ports' was" in (
        schema_check.stdout
    ), schema_check.stdout


def test_the_codespace_installs_the_lock_and_opens_jupyterlab_on_its_port():
    config = json.loads(DEVCONTAINER.read_text(encoding="utf-8"))
    assert config["postCreateCommand"] == "make .venv/bin/.installed"
    assert config["postAttachCommand"].startswith("make lab ")
    assert "--ServerApp.port=8888" in config["postAttachCommand"]
    assert config["forwardPorts"] == [8888]
    assert config["portsAttributes"]["8888"]["onAutoForward"] == "openBrowser"


@pytest.mark.skipif(os.name == "nt", reason="repo2docker runs on Linux and macOS")
def test_binder_installs_the_learners_lock():
    """repo2docker, which Binder runs, without Docker: the Dockerfile it would
    build (--no-build prints it). With no binder/ folder it reads the
    repository's own requirements.txt."""
    pytest.importorskip("repo2docker", reason="pip install -r requirements/dev.txt")
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr
    dockerfile = result.stdout
    assert 'pip install --no-cache-dir -r "requirements.txt"' in dockerfile
    assert "src/requirements.txt ${REPO_DIR}/requirements.txt" in dockerfile
    assert "./postBuild" in dockerfile.split('-r "requirements.txt"', 1)[1]


@pytest.mark.skipif(os.name == "nt", reason="Binder's postBuild is a bash script")
def test_binders_postbuild_gives_jupyterlab_the_lessons_settings(tmp_path):
    """Run as repo2docker runs it, from the repository, into a stand-in for the
    image's environment: JupyterLab's own reader finds the lab settings there."""
    from jupyterlab_server.settings_utils import _get_overrides

    subprocess.run(
        ["bash", "postBuild"],
        cwd=ROOT,
        env={**os.environ, "NB_PYTHON_PREFIX": str(tmp_path)},
        check=True,
        timeout=30,
    )
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings"
    expected = json.loads(LAB_SETTINGS.read_text(encoding="utf-8"))
    assert _get_overrides(str(settings)) == (expected, "")
