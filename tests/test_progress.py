"""`make progress` where it runs: on the learner's own computer, and in a
JupyterHub terminal, where the image's Python has the lessons' packages and
nothing is built in the learner's home (`make reset` and `make update` alike).

JupyterHub sets JUPYTERHUB_SERVICE_PREFIX (such as /user/ada/) for every
learner's JupyterLab, and so for its terminals; JUPYTERHUB_ROOT_DIR only when
the hub sets notebook_dir (the file browser shows the home folder otherwise).
"""

import os
import subprocess
import sys

import pytest

import lessons
from helpers import COURSE, copy_project

HUB = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/", "JUPYTERHUB_ROOT_DIR": None}


@pytest.fixture
def environment(monkeypatch):
    """Set {name: value} in the environment (None: unset)."""

    def _set(variables):
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return _set


def test_off_a_hub_next_says_to_open_the_lesson_with_make_lab(environment):
    environment({"JUPYTERHUB_SERVICE_PREFIX": None})
    assert lessons.next_step("02_good_evening.ipynb") == (
        "Next: open 02_good_evening.ipynb in JupyterLab (make lab) and try its"
        " exercises."
    )


def test_on_a_hub_next_names_the_folder_from_the_home_folder(environment, tmp_path):
    environment({**HUB, "HOME": str(tmp_path)})
    project = tmp_path / "first-web-server"
    assert lessons.next_step("02_good_evening.ipynb", project) == (
        "Next: in JupyterLab's file browser, open the folder"
        " first-web-server/notebooks, then 02_good_evening.ipynb, and try its"
        " exercises."
    )


def test_on_a_hub_with_a_root_dir_next_names_the_folder_from_there(
    environment, tmp_path
):
    environment({**HUB, "JUPYTERHUB_ROOT_DIR": str(tmp_path / "work")})
    project = tmp_path / "work" / "class" / "first-web-server"
    assert lessons.next_step("01_hello_world.ipynb", project) == (
        "Next: in JupyterLab's file browser, open the folder"
        " class/first-web-server/notebooks, then 01_hello_world.ipynb, and try its"
        " exercises."
    )


def learners_copy_on_a_hub(home):
    """The project in a learner's home on a hub, as the teacher's link puts it,
    with lesson 1 alone (one kernel is enough here)."""
    project = copy_project(home / "first-web-server")
    for lesson in COURSE[1:]:
        (project / "notebooks" / lesson.path.name).unlink()
    return project


def make_on_a_hub(project, python, *goals):
    """`make ...` as typed in a hub terminal, with `python` as the image's."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")},
        "JUPYTERHUB_SERVICE_PREFIX": "/user/ada/",
        "HOME": str(project.parent),
    }
    return subprocess.run(
        ["make", "--no-print-directory", *goals, f"PYTHON={python}"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.mark.learner_copy  # make in a copy: seconds, not the quick loop's
def test_make_progress_on_a_hub_uses_its_python_and_builds_nothing(tmp_path):
    project = learners_copy_on_a_hub(tmp_path)
    result = make_on_a_hub(project, sys.executable, "progress")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (project / ".venv").exists()
    assert not (project / ".uv").exists()
    assert result.stdout.splitlines()[-1] == (
        "Next: in JupyterLab's file browser, open the folder"
        " first-web-server/notebooks, then 01_hello_world.ipynb, and try its"
        " exercises."
    )


def test_make_progress_on_a_hub_without_the_packages_says_whom_to_ask(tmp_path):
    project = learners_copy_on_a_hub(tmp_path)
    no_packages = f"{sys.executable} -S"  # -S: no site-packages, so no nbclient
    result = make_on_a_hub(project, no_packages, "progress")
    assert result.returncode == 2
    assert result.stdout == (
        f"On this JupyterHub, '{no_packages}' lacks the lessons' packages: ask your"
        " teacher to install requirements.txt into the hub's image.\n"
    )
    assert not (project / ".venv").exists()


@pytest.mark.learner_copy  # make in a copy: seconds, not the quick loop's
def test_make_reset_on_a_hub_uses_its_python_and_builds_nothing(tmp_path):
    project = learners_copy_on_a_hub(tmp_path)
    git = ["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org"]
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "-qm", "."]):
        subprocess.run([*git, *command], cwd=project, check=True, timeout=30)
    lesson = project / "notebooks" / COURSE[0].path.name
    published = lesson.read_bytes()
    lesson.write_text("an answer")
    result = make_on_a_hub(project, sys.executable, "reset")
    assert result.returncode == 0, result.stdout + result.stderr
    assert lesson.read_bytes() == published
    assert not (project / ".venv").exists()
    assert not (project / ".uv").exists()
