"""The locks: what is installed is exactly what `make lock` wrote down.

requirements/*.in say what we choose (short, edited by hand); requirements.txt
(the learner's, at the top) and requirements/*.txt are the locks `make lock`
makes from them: every package, one version per Python, with hashes.
"""

import functools
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers import ROOT, copy_project

INTENTS = {  # the file a person edits -> the lock made from it
    "requirements/learner.in": "requirements.txt",
    "requirements/dev.in": "requirements/dev.txt",
    "requirements/uv.in": "requirements/uv.txt",
    "requirements/hub.in": "requirements/hub.txt",
}
WORKFLOW = ROOT / ".github" / "workflows" / "lessons.yml"
# Where the locks must hold: every supported Python, and 3.14, on each system.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
SYSTEMS = [
    {"sys_platform": "linux", "os_name": "posix", "platform_system": "Linux"},
    {"sys_platform": "darwin", "os_name": "posix", "platform_system": "Darwin"},
    {"sys_platform": "win32", "os_name": "nt", "platform_system": "Windows"},
]
ENVIRONMENTS = [
    {"python_version": v, "python_full_version": f"{v}.0", **system}
    for v in PYTHONS
    for system in SYSTEMS
]


@functools.cache  # each lock is read once, for all 15 environments
def requirements(path):
    """The requirements of a requirements file, following `-r`, ignoring hashes."""
    text = Path(path).read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    found = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if line.startswith("-r "):
            found += requirements(Path(path).parent / line[3:].strip())
        elif line:
            found.append(Requirement(re.sub(r"\s--hash=\S+", "", line)))
    return found


def applies(requirement, environment):
    marker = requirement.marker
    return marker is None or marker.evaluate(environment)


def pins(path, environment):
    """{name: version} that a requirements file installs in one environment."""
    chosen = {}
    for requirement in requirements(path):
        if applies(requirement, environment):
            name = canonicalize_name(requirement.name)
            assert name not in chosen, f"{path}: two pins of {name} for {environment}"
            (spec,) = requirement.specifier
            chosen[name] = spec.version
    return chosen


def installed():
    """{name: version} of every distribution in the running environment."""
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }


@pytest.mark.parametrize("intents", INTENTS)
def test_every_top_level_pin_is_in_the_lock_at_that_version(intents):
    lock = ROOT / INTENTS[intents]
    wanted = requirements(ROOT / intents)
    assert wanted, f"{intents} names no package"
    for environment in ENVIRONMENTS:
        locked = pins(lock, environment)
        for requirement in wanted:
            if not applies(requirement, environment):
                continue
            (spec,) = requirement.specifier
            assert spec.operator == "==", (
                f"{intents}: {requirement} is not an exact pin"
            )
            name = canonicalize_name(requirement.name)
            assert locked.get(name) == spec.version, (
                f"{intents} pins {requirement}, but {INTENTS[intents]} has"
                f" {name} {locked.get(name)} on Python {environment['python_version']}"
                f" ({environment['sys_platform']}): run `make lock`"
            )


def test_the_learner_lock_is_the_dev_lock_less_the_test_tools():
    for environment in ENVIRONMENTS:
        learner = pins(ROOT / "requirements.txt", environment)
        dev = pins(ROOT / "requirements/dev.txt", environment)
        differing = {
            name: (version, dev.get(name))
            for name, version in learner.items()
            if dev.get(name) != version
        }
        assert not differing, f"learner vs dev lock, {environment}: run `make lock`"


def test_the_hub_lock_agrees_with_the_dev_lock():
    """requirements/hub.txt installs beside requirements.txt (teaching/README.md):
    every package both name, at one version."""
    for environment in ENVIRONMENTS:
        hub = pins(ROOT / "requirements" / "hub.txt", environment)
        dev = pins(ROOT / "requirements" / "dev.txt", environment)
        differing = {
            name: (version, dev[name])
            for name, version in hub.items()
            if name in dev and dev[name] != version
        }
        assert not differing, f"hub vs dev lock, {environment}: run `make lock`"


def test_the_venv_holds_exactly_a_locked_set():
    """Nothing missing, nothing extra: the learner's lock, or the dev lock."""
    environment = default_environment()
    have = installed()
    sets = {
        lock: pins(ROOT / lock, environment)
        for lock in ("requirements.txt", "requirements/dev.txt")
    }
    if have in sets.values():
        return
    nearest = min(sets, key=lambda lock: len(set(sets[lock].items()) ^ have.items()))
    wanted = sets[nearest]
    assert have == wanted, (
        f"{sys.prefix} differs from {nearest}:"
        f" extra {sorted(set(have.items()) - set(wanted.items()))},"
        f" missing {sorted(set(wanted.items()) - set(have.items()))}"
    )


def check_schema(schema, path, folder, old, new):
    """check-jsonschema over `path` and a broken copy of it in `folder`
    (broken.<suffix>, with `old` replaced by `new` once), `schema` named as its
    options do (such as ["--builtin-schema", "vendor.github-workflows"]): its
    exit code and what it printed. Run in this process with click's test
    runner (check-jsonschema is a click command), which spares a Python start
    and its imports."""
    pytest.importorskip(
        "check_jsonschema", reason="pip install -r requirements/dev.txt"
    )
    from check_jsonschema import main
    from click.testing import CliRunner

    broken = folder / f"broken{path.suffix}"
    broken.write_text(
        path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8"
    )
    result = CliRunner().invoke(main, [*schema, str(path), str(broken)])
    return subprocess.CompletedProcess(
        main.name, result.exit_code, result.stdout, result.stderr
    )


@pytest.fixture(scope="module")
def schema_check(tmp_path_factory):
    """The workflow and a broken copy of it, checked once."""
    folder = tmp_path_factory.mktemp("workflow")
    schema = ["--builtin-schema", "vendor.github-workflows"]
    return check_schema(schema, WORKFLOW, folder, "runs-on:", "run-on:")


def test_the_workflow_follows_githubs_schema(schema_check):
    assert schema_check.returncode == 1, schema_check.stdout + schema_check.stderr
    assert WORKFLOW.name not in schema_check.stdout


def test_the_schema_check_rejects_a_broken_workflow(schema_check):
    assert "broken.yml::$.jobs.lessons:" in schema_check.stdout, schema_check.stdout
    assert "$.jobs.lessons: 'runs-on' is a required property" in schema_check.stdout


BY_HAND = [  # the README's install command, which the workflow and CI run
    "python -m pip install --require-hashes -r requirements.txt",
]


@pytest.mark.parametrize(
    "script", [ROOT / "README.md", WORKFLOW, ROOT / ".ci" / "run"], ids=str
)
def test_ci_installs_the_lock_the_by_hand_way(script):
    text = script.read_text(encoding="utf-8")
    for command in BY_HAND:
        assert command in text, f"{script.name} does not run {command!r}"


# The README's test command without make: every lesson with nbmake (pyproject's
# addopts), from requirements.txt alone. CI runs it word for word, by hand.
BY_HAND_TEST = "python -m pytest notebooks"


@pytest.mark.parametrize("script", [ROOT / "README.md", ROOT / ".ci" / "run"], ids=str)
def test_the_by_hand_test_command_is_the_readmes(script):
    lines = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    assert BY_HAND_TEST in lines, f"{script.name} does not run {BY_HAND_TEST!r}"


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_a_changed_hash_stops_make_lab_before_jupyterlab(tmp_path):
    uv = ROOT / ".uv"
    if not (uv / "bin" / "uv").exists():
        pytest.skip("no .uv/ here: make installs it (make lab, make test)")
    project = copy_project(tmp_path / "project")
    (project / ".uv").symlink_to(uv)
    lock = project / "requirements.txt"
    entry = re.search(
        r"^(pip==\S+)[^\n]*(\n +--hash=[^\n]*)+", lock.read_text(encoding="utf-8"), re.M
    )
    # Every hash of pip's files, changed: no file PyPI serves matches any more.
    tampered = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, entry[0])
    lock.write_text(
        lock.read_text(encoding="utf-8").replace(entry[0], tampered), encoding="utf-8"
    )
    result = subprocess.run(
        ["make", "--no-print-directory", "lab", f"PYTHON={sys.executable}"],
        cwd=project,
        env={**os.environ, "LAB_OPTIONS": "--version"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
    )
    assert result.returncode != 0
    assert f"Hash mismatch for `{entry[1]}`" in result.stderr, result.stderr
    assert "jupyter lab" not in result.stdout
    assert not (project / ".venv" / "bin" / "jupyter").exists()
