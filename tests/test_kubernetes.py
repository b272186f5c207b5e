"""The Kubernetes recipe, checked offline: teaching/z2jh-values.yaml, Zero to
JupyterHub's values for the lessons, and teaching/kubernetes.md, the page that
says how to use it. There is no helm, cluster or Docker here: the page's
"What was checked here, and what was not" says what these tests prove.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jupyter_core.paths import SYSTEM_CONFIG_PATH
from jupyterhub.traitlets import ByteSpecification

ROOT = Path(__file__).resolve().parent.parent
VALUES_FILE = ROOT / "teaching" / "z2jh-values.yaml"
PAGE = (ROOT / "teaching" / "kubernetes.md").read_text(encoding="utf-8")
VALUES_TEXT = VALUES_FILE.read_text(encoding="utf-8")
VALUES = yaml.safe_load(VALUES_TEXT)
SINGLEUSER = VALUES["singleuser"]
# The chart and its JupyterHub, as the values file's first lines name them.
CHART, JUPYTERHUB = re.search(
    r"version (\S+)\n# \(it runs JupyterHub (\S+)\)", VALUES_TEXT
).groups()

# The keys the chart's values schema (values.schema.yaml of chart 4.4.0) allows
# where the values file sets any: a misspelt key is an error there.
CHART_KEYS = {
    "": ["cull", "custom", "debug", "enabled", "fullnameOverride", "global"]
    + ["httpRoute", "hub", "imagePullSecret", "imagePullSecrets", "ingress"]
    + ["nameOverride", "prePuller", "proxy", "rbac", "scheduling", "singleuser"],
    "singleuser": ["allowPrivilegeEscalation", "cloudMetadata", "cmd", "cpu"]
    + ["defaultUrl", "events", "extraAnnotations", "extraContainers", "extraEnv"]
    + ["extraFiles", "extraLabels", "extraNodeAffinity", "extraPodAffinity"]
    + ["extraPodAntiAffinity", "extraPodConfig", "extraResource"]
    + ["extraTolerations", "fsGid", "image", "initContainers", "lifecycleHooks"]
    + ["memory", "networkPolicy", "networkTools", "nodeSelector"]
    + ["podNameTemplate", "profileList", "serviceAccountName", "startTimeout"]
    + ["storage", "uid"],
    "singleuser.image": ["name", "pullPolicy", "pullSecrets", "tag"],
    "singleuser.memory": ["guarantee", "limit"],
    "singleuser.cpu": ["guarantee", "limit"],
    "singleuser.networkPolicy": ["allowedIngressPorts", "egress"]
    + ["egressAllowRules", "enabled", "ingress", "interNamespaceAccessLabels"],
    "singleuser.storage": ["capacity", "dynamic", "extraLabels"]
    + ["extraVolumeMounts", "extraVolumes", "homeMountPath", "static", "type"],
    "singleuser.extraFiles.*": ["mountPath", "data", "stringData", "binaryData"]
    + ["mode"],
}

# The teachers' nbgitpuller link, from where tests/test_hub.py reads it (for a
# hub at https://HUB and a repository at REPOSITORY).
LINK = r"^https://HUB/hub/user-redirect/git-pull\?\S+$"
LINK_DOCS = [ROOT / "teaching" / "README.md"]
TERMINAL = {"ServerApp": {"terminado_settings": {"shell_command": ["/bin/bash"]}}}


def page_command(start):
    """The command on the page's line that starts with `start`, split."""
    return shlex.split(re.search(rf"^ *({re.escape(start)} .+)$", PAGE, re.M)[1])


def test_every_key_is_one_the_chart_allows():
    def walk(mapping, path):
        allowed = CHART_KEYS[path]
        for key, value in mapping.items():
            assert key in allowed, (
                f"{path or 'the top level'}: {key} is not in the chart"
            )
            inner = f"{path}.{key}".lstrip(".")
            if inner == "singleuser.extraFiles":
                for entry in value.values():
                    walk(entry, "singleuser.extraFiles.*")
            elif isinstance(value, dict) and inner in CHART_KEYS:
                walk(value, inner)

    walk(VALUES, "")


def test_the_link_is_the_teachers_link_that_the_hub_test_follows():
    templates = {
        match
        for doc in LINK_DOCS
        if doc.exists()
        for match in re.findall(LINK, doc.read_text(encoding="utf-8"), re.M)
    }
    assert len(templates) == 1, templates
    assert "https://HUB/hub/user-redirect" + SINGLEUSER["defaultUrl"] in templates


def test_a_terminal_runs_bash_as_a_non_login_shell():
    terminal = SINGLEUSER["extraFiles"]["terminal"]
    assert terminal["data"] == TERMINAL
    path = Path(terminal["mountPath"])
    assert path.name == "jupyter_server_config.json"
    assert str(path.parent) in SYSTEM_CONFIG_PATH


# traitlets opens JSON configuration files without naming an encoding.
@pytest.mark.filterwarnings("ignore::EncodingWarning")
def test_jupyter_server_reads_the_terminal_file(tmp_path, monkeypatch):
    """The file as the chart writes it (data as JSON), in a configuration
    folder: the server's terminals get the setting."""
    from jupyter_server.serverapp import ServerApp

    terminal = SINGLEUSER["extraFiles"]["terminal"]
    config = tmp_path / Path(terminal["mountPath"]).name
    config.write_text(json.dumps(terminal["data"]), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "user"))
    app = ServerApp()
    app.load_config_file(suppress_errors=False)
    assert app.terminado_settings == TERMINAL["ServerApp"]["terminado_settings"]


# The sizing table's rows, by the words each begins with.
RESIDENT = "Memory after the lessons"
PEAK = "Memory at the peak"
HUB = "The hub and its proxy"
CLASS = "Memory for the class"
START = "CPU to start a learner"
CLASSES = [30, 100]


def sizing_table():
    """The page's sizing table: {the words a row begins with: its cells}."""
    rows = re.findall(r"^\| (?!Measured|---)(.+) \|$", PAGE, re.M)
    cells = [[cell.strip() for cell in row.split("|")] for row in rows]
    starts = [RESIDENT, PEAK, HUB, CLASS, START]
    return {
        next(start for start in starts if row[0].startswith(start)): row[1:]
        for row in cells
    }


def figure(row):
    """A row's measured figure (its first cell) as a number."""
    return float(sizing_table()[row][0].split()[0])


def gb(megabytes):
    return f"{megabytes / 1000:.1f} GB"


def test_the_sizing_table_is_the_little_jupyterhubs_formula():
    """Each class column is the formula's result from the measured figures,
    so that a new measurement changes one line (and this test says how)."""
    expected = {
        RESIDENT: [gb(n * figure(RESIDENT)) for n in CLASSES],
        PEAK: [gb(n * figure(PEAK)) for n in CLASSES],
        HUB: [gb(figure(HUB)) for n in CLASSES],
        CLASS: [gb(n * figure(PEAK) + figure(HUB)) for n in CLASSES],
        START: [f"{n * figure(START):g} CPU-s" for n in CLASSES],
    }
    assert {row: cells[1:] for row, cells in sizing_table().items()} == expected


def bytes_of(value):
    """A memory value as KubeSpawner reads it (M and G: MiB and GiB)."""
    return ByteSpecification().validate(None, value)


def test_the_memory_guarantee_is_the_measured_need_and_the_limit_has_room():
    guarantee = bytes_of(SINGLEUSER["memory"]["guarantee"])
    limit = bytes_of(SINGLEUSER["memory"]["limit"])
    resident, peak = figure(RESIDENT) * 1e6, figure(PEAK) * 1e6
    assert resident <= guarantee <= peak
    assert limit >= 1.5 * peak


def test_the_cpu_guarantee_starts_a_whole_class_within_a_minute():
    cpu = SINGLEUSER["cpu"]
    assert 0 < cpu["guarantee"] <= cpu["limit"]
    assert figure(START) / cpu["guarantee"] <= 60


def test_each_learner_gets_a_pod_only_the_hub_and_its_proxy_reach():
    policy = SINGLEUSER["networkPolicy"]
    assert policy["enabled"] is True
    assert not policy.get("allowedIngressPorts") and not policy.get("ingress")


def test_the_page_installs_this_chart_with_this_file():
    helm = page_command("helm upgrade --install")
    assert helm[helm.index("--version") + 1] == CHART
    assert helm[helm.index("--values") + 1] == "teaching/z2jh-values.yaml"


@pytest.fixture(scope="module")
def build():
    """The page's build command, without building (--no-build: the
    Dockerfile), on this working tree instead of the repository's address."""
    pytest.importorskip(
        "repo2docker", reason="the dev lock has repo2docker (make test)"
    )
    command = page_command("jupyter-repo2docker")
    options = [
        arg.replace("IMAGE", "registry.example.org/first-web-server").replace(
            "TAG", "0123abc"
        )
        for arg in command[1:-1]
    ]
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", *options, str(ROOT)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


def environment(dockerfile):
    """The Dockerfile's ENV values, with ${...} filled in."""
    found = {}
    for name, value in re.findall(r"^ENV (\w+)=(\S+)$", dockerfile, re.M):
        found[name] = re.sub(r"\$\{(\w+)\}", lambda m: found.get(m[1], m[0]), value)
    return found


@pytest.mark.skipif(os.name == "nt", reason="repo2docker runs on Linux and macOS")
def test_the_image_has_the_lessons_packages_and_files_of_the_learner(build):
    dockerfile = build.stdout
    assert 'pip install --no-cache-dir -r "requirements.txt"' in dockerfile
    # the chart runs each learner as user 1000, in /home/jovyan
    assert "COPY --chown=1000:1000 src/ ${REPO_DIR}/" in dockerfile
    # and then the lab settings, with postBuild (tests/test_teaching.py runs it)
    assert "./postBuild" in dockerfile.split('-r "requirements.txt"', 1)[1]


@pytest.mark.skipif(os.name == "nt", reason="repo2docker runs on Linux and macOS")
def test_the_image_has_jupyterhub_singleuser_of_the_charts_major_version(build):
    """From repo2docker's own environment, the lock it copies in."""
    import repo2docker

    python = re.search(r"using Python version (\d+\.\d+)", build.stderr)[1]
    platform = environment(build.stdout)["CONDA_PLATFORM"]
    lock = Path(repo2docker.__file__).parent / "buildpacks" / "conda"
    lock = lock / f"environment.py-{python}-{platform}.lock"
    assert "/tmp/env/environment.lock" in build.stdout
    version = re.search(r"/jupyterhub-singleuser-(\d+)\.", lock.read_text("utf-8"))[1]
    assert version == JUPYTERHUB.split(".")[0]
    # and pip's install of requirements.txt over it brings no other jupyterhub
    learners_lock = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert not re.search(r"^jupyterhub==", learners_lock, re.M)
