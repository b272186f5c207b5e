"""A learner's own copy of the project: progress, update, reset and make test,
with real git and real kernels, in a temporary folder.

The module builds one story once (see `story`): a bare repository made from
this project's files, copied as a ZIP download has them (no git history); a
learner's clone, with answers typed into the exercises and their outputs
saved (lesson 1 right, lesson 2 wrong, the others untouched), a note and an
experiment added; a maintainer who publishes new text and a new exercise
starter; then the learner's progress, update, update again, reset of one
lesson and reset of all; beside the learner's progress, `make progress` in a
copy without git history, its lesson 1 waiting forever. Each test checks one
thing seen. The tests at the end take such a copy (a ZIP download) on its own:
lint, update and reset, make test's guard, and `make lab` at the address it
prints. Its kernels are those of `progress` alone; still, it is marked
`learner_copy` (pytest -m "not learner_copy" leaves it out; plain pytest, as in
CI, runs it). The rules of update's merge, one by one, are in tests/test_merge.py.
"""

import contextlib
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests
from nbformat.v4 import new_output

import lessons
from helpers import (
    COURSE,
    EXERCISES,
    ROOT,
    Process,
    copy_project,
    free_port,
    has_tag,
    make_venv,
    solutions,
    wait_until_listening,
)
from tools import guard
from verdicts import CORRECT, NOT_ATTEMPTED, NOT_YET

pytestmark = pytest.mark.learner_copy

LESSON_1 = "notebooks/01_hello_world.ipynb"
LESSON_2 = "notebooks/02_good_evening.ipynb"
LESSON_3 = "notebooks/03_run_the_server.ipynb"
RIGHT = solutions("01_hello_world")[0]
WRONG = """from flask import Flask

practice = Flask(__name__)


@practice.route("/about")
def about():
    return "About this server"


@practice.route("/morning")
def morning():
    return "Good evening"
"""
NOTE = "My note: a route is an address plus a function."
EXPERIMENT = "1 / 0"
NEW_TITLE = "# 1. Hello world: your very first web server"
NEW_STARTER_2 = "# Your turn: add a route for /morning; it answers Good morning."
NEW_STARTER_3 = "# Your turn: stop practice_server, then wait for practice_thread."
NEW_TEXT_3 = "# 3. Run the server for real"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
CONFLICT_MARKERS = re.compile(r"^(<<<<<<<|=======|>>>>>>>)", re.MULTILINE)


def git(cwd, *args):
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=30,
        encoding="utf-8",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def said(command, *args):
    """What lessons.command(*args) prints (run here, to save starting Python)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        command(*args)
    return printed.getvalue()


def make_command(cwd, *args):
    """`make ...` in `cwd` with the .venv running these tests as the learner's
    (CI's .venv-3.10... too), installed: make installs nothing."""
    venv = make_venv(cwd)
    installed = [f"--old-file={venv[5:]}/bin/{name}" for name in MARKS]
    return ["make", "--no-print-directory", *args, venv, *installed]


def make(cwd, *args):
    """`make ...` in the learner's copy, run to its end (see make_command)."""
    return subprocess.run(
        make_command(cwd, *args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
    )


def bare_repository(tmp):
    """A bare repository holding this project's files as a copy without git
    history (a ZIP download) has them: nothing here asks git about ROOT."""
    project = copy_project(tmp / "project")
    assert not (project / ".git").exists()
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "The lessons")
    git(tmp, "clone", "--quiet", "--bare", "project", "upstream.git")
    return tmp / "upstream.git"


def edit(path, changes):
    """Change cells of a notebook: {cell id: new source}, and save it."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.id in changes:
            cell.source = changes[cell.id]
    nbformat.write(notebook, path)


def type_answers_and_run(learner):
    """Lesson 1 right, lesson 2 wrong plus a note and an experiment, with the
    outputs saved as JupyterLab would have them after running those cells (the
    check's line, the experiment's error); no kernel needed. The other lessons
    stay untouched; `progress` runs them all for real."""
    edit(learner / LESSON_1, {"01-15": RIGHT})
    edit(learner / LESSON_2, {"02-14": WRONG})
    for name, check_id, line in [
        (LESSON_1, "01-16", f"{CORRECT} GET /about answers 'About this server'."),
        (LESSON_2, "02-15", f"{NOT_YET} GET /morning answers 'Good evening'."),
    ]:
        notebook = nbformat.read(learner / name, as_version=4)
        for cell in notebook.cells:
            if cell.id == check_id:
                cell.outputs = [new_output("stream", name="stdout", text=line + "\n")]
        if name == LESSON_2:
            after_check = [cell.id for cell in notebook.cells].index(check_id) + 1
            experiment = nbformat.v4.new_code_cell(EXPERIMENT)
            experiment.outputs = [
                new_output(
                    "error", ename="ZeroDivisionError", evalue="division by zero"
                )
            ]
            notebook.cells[after_check:after_check] = [
                nbformat.v4.new_markdown_cell(NOTE),
                experiment,
            ]
        nbformat.write(notebook, learner / name)


def publish(maintainer, changes, message):
    """The maintainer changes cells of lessons, commits and pushes."""
    for name, cells in changes.items():
        edit(maintainer / name, cells)
    git(maintainer, "commit", "--quiet", "--all", "--message", message)
    git(maintainer, "push", "--quiet")


def first_change(maintainer):
    """New text in lesson 1, new starters for an exercise the learner answered
    (lesson 2) and one left untouched (lesson 3), and a line more in app.py."""
    lesson_2 = nbformat.read(maintainer / LESSON_2, as_version=4)
    (writes_app,) = [cell for cell in lesson_2.cells if cell.id == "02-04"]
    source = writes_app.source.replace("\n\n", "\n\n# Two routes now.\n", 1)
    (maintainer / "server" / "app.py").write_text(
        source.split("\n", 1)[1] + "\n", encoding="utf-8"
    )
    title = nbformat.read(maintainer / LESSON_1, as_version=4).cells[1].source
    publish(
        maintainer,
        {
            LESSON_1: {"01-01": NEW_TITLE + title.split("\n", 1)[1]},
            LESSON_2: {"02-14": NEW_STARTER_2, "02-04": source},
            LESSON_3: {"03-29": NEW_STARTER_3},
        },
        "New text and starters",
    )


def tree_hash(folder):
    """One hash of every file under `folder` (.git included): its path, its
    bytes and when it was last written."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
        digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def notebooks_in(folder):
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.glob("notebooks/*.ipynb")
    }


def server_in(folder):
    return {path.name: path.read_bytes() for path in folder.glob("server/*.py")}


def backup_named(output, learner):
    (folder,) = re.findall(
        r"^Your notebooks are copied to (\S+)/notebooks/ \(and server/ beside it\)\.$",
        output,
        re.M,
    )
    return learner / folder


def cells_of(notebooks, name):
    """The cells of notebook `name` in a {path: bytes} snapshot."""
    return nbformat.reads(notebooks[name].decode(), as_version=4).cells


def source_of(notebooks, name, cell_id):
    (cell,) = [cell for cell in cells_of(notebooks, name) if cell.id == cell_id]
    return cell.source


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learner-copy")
    upstream = bare_repository(tmp)
    git(tmp, "clone", "--quiet", str(upstream), "learner")
    git(tmp, "clone", "--quiet", str(upstream), "maintainer")
    learner, maintainer = tmp / "learner", tmp / "maintainer"
    seen = {"learner": learner, "maintainer": maintainer}

    type_answers_and_run(learner)
    seen["answered"] = notebooks_in(learner)
    before = tree_hash(learner)
    hangs = progress_with_a_cell_that_hangs(tmp / "hangs")  # side by side
    seen["progress"] = said(lessons.progress, learner)
    seen["hangs"] = hangs.communicate(timeout=120)[0]
    seen["hangs exit"] = hangs.returncode
    seen["progress changed files"] = tree_hash(learner) != before
    seen["make test"] = make(learner, "test")

    first_change(maintainer)
    # An empty __main__.py, as a broken run leaves it:
    (learner / "server" / "__main__.py").write_text("", encoding="utf-8")
    seen["update"] = said(lessons.update, learner)
    seen["after update"] = notebooks_in(learner)
    seen["server after update"] = server_in(learner)
    seen["status after update"] = git(learner, "status", "--porcelain")
    seen["HEAD after update"] = git(learner, "rev-parse", "HEAD", "origin/main")
    seen["update again"] = make(learner, "update").stdout

    title = nbformat.read(maintainer / LESSON_3, as_version=4).cells[1].source
    new_title = NEW_TEXT_3 + "\n" + title.split("\n", 1)[1]
    publish(maintainer, {LESSON_3: {"03-01": new_title}}, "New text in lesson 3")
    seen["second update"] = said(lessons.update, learner)
    seen["after second update"] = notebooks_in(learner)

    seen["reset 2"] = make(learner, "reset", "LESSON=2").stdout
    seen["after reset 2"] = notebooks_in(learner)
    seen["reset"] = make(learner, "reset").stdout
    seen["status after reset"] = git(learner, "status", "--porcelain")
    seen["published"] = notebooks_in(maintainer)
    return seen


MARKS = [".installed", ".installed-dev"]


ANSWERED = {"01-15": CORRECT, "02-14": NOT_YET}  # the rest: not attempted


def test_progress_prints_each_exercise_verdict_and_the_total(story):
    lines = story["progress"].splitlines()
    verdicts = [line for line in lines if line.startswith("  Exercise")]
    assert [line.split(": ")[:2] for line in verdicts] == [
        [f"  Exercise {number}", ANSWERED.get(cell_id, NOT_ATTEMPTED)[:-1]]
        for lesson in COURSE
        for number, cell_id in enumerate(lesson.exercises, start=1)
    ]
    assert f"1 of {EXERCISES} exercises correct." in lines
    assert lines[-1] == (
        "Next: open 02_good_evening.ipynb in JupyterLab (make lab) and try its"
        " exercises."
    )


def code_cell_number(notebook, source, cell_id=None):
    """The number JupyterLab shows, after Run All, beside the cell with `source`
    (or with the id `cell_id`)."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [c.id if cell_id else c.source for c in cells].index(cell_id or source) + 1


def test_progress_names_a_cell_that_raises_outside_the_exercises(story):
    lesson_2 = nbformat.reads(story["answered"][LESSON_2].decode(), as_version=4)
    number = code_cell_number(lesson_2, EXPERIMENT)
    assert (
        f"  Code cell {number} ('1 / 0') raised ZeroDivisionError: division by zero:"
        " fix that cell, or put the lesson back with: make reset LESSON=2"
    ) in story["progress"].splitlines()


def test_progress_changes_no_file(story):
    assert story["progress changed files"] is False


def test_make_test_on_changed_lessons_says_so_in_one_line_first(story):
    result = story["make test"]
    assert result.returncode != 0
    assert result.stdout == ""
    # make's one line, the learner's sentence last: no make Error line under it
    assert stopped_with(guard.CHANGED).fullmatch(result.stderr), result.stderr
    assert "would be reformatted" not in result.stdout + result.stderr


def test_update_brings_in_the_new_text_and_starters(story):
    after = story["after update"]
    assert cells_of(after, LESSON_1)[1].source.startswith(NEW_TITLE + "\n")
    assert source_of(after, LESSON_3, "03-29") == NEW_STARTER_3


def test_update_keeps_every_answer(story):
    after = story["after update"]
    assert source_of(after, LESSON_1, "01-15") == RIGHT
    assert source_of(after, LESSON_2, "02-14") == WRONG


def test_update_keeps_the_note_and_experiment_in_their_place(story):
    ids_and_sources = [
        (cell.id, cell.source) for cell in cells_of(story["after update"], LESSON_2)
    ]
    at = [cell_id for cell_id, _ in ids_and_sources].index("02-15")
    assert [source for _, source in ids_and_sources[at + 1 : at + 3]] == [
        NOTE,
        EXPERIMENT,
    ]


def test_update_says_the_learners_code_won_where_both_changed(story):
    assert (
        "02_good_evening.ipynb, exercise 1: the lesson changed this exercise too,"
        " and your code was kept: run the lesson to check it."
    ) in story["update"].splitlines()


def test_update_leaves_valid_notebooks_without_conflict_markers(story):
    for name, content in story["after update"].items():
        nbformat.validate(nbformat.reads(content.decode(), as_version=4))
        assert not CONFLICT_MARKERS.search(content.decode()), name


def test_update_keeps_a_copy_of_the_notebooks_first(story):
    folder = backup_named(story["update"], story["learner"])
    assert folder.parent.name == "lesson-backups"
    assert notebooks_in(folder) == story["answered"]


def test_update_writes_server_as_the_new_lessons_export_it(story):
    assert story["server after update"] == server_in(story["maintainer"])


def test_update_moves_head_and_leaves_the_answers_uncommitted(story):
    head, upstream = story["HEAD after update"].split()
    assert head == upstream
    assert story["status after update"] == f" M {LESSON_1}\n M {LESSON_2}\n"


def test_update_when_up_to_date_says_so(story):
    assert story["update again"].splitlines()[-1] == (
        "You have the newest lessons already: carry on where you were."
    )


def test_a_second_update_brings_new_text_and_keeps_the_answers(story):
    after = story["after second update"]
    assert cells_of(after, LESSON_3)[1].source.startswith(NEW_TEXT_3 + "\n")
    assert after[LESSON_1] == story["after update"][LESSON_1]
    assert after[LESSON_2] == story["after update"][LESSON_2]


def test_reset_of_one_lesson_puts_only_it_back(story):
    after, published = story["after reset 2"], story["published"]
    assert after[LESSON_2] == published[LESSON_2]
    assert after[LESSON_1] == story["after second update"][LESSON_1]


def test_reset_of_one_lesson_keeps_a_copy_and_names_it(story):
    folder = backup_named(story["reset 2"], story["learner"])
    assert notebooks_in(folder)[LESSON_2] == story["after second update"][LESSON_2]
    assert (
        f"Your work is in {folder.relative_to(story['learner'])}/" in (story["reset 2"])
    )


def test_reset_leaves_a_clean_copy(story):
    assert story["status after reset"] == ""


HANGS = "import time\n\ntime.sleep(60)"
# How long a cell may run in that copy before it is stopped: far less than
# HANGS waits, and long enough for lesson 1's first imports in a fresh venv (no
# bytecode cached yet) on a busy machine, which took more than 1 s in CI.
HANG_SECONDS = 5


def progress_with_a_cell_that_hangs(tmp):
    """Start `make progress` in a copy without git history (see archive_copy)
    of lesson 1 alone, its exercise cell waiting forever and the copy's
    lessons.py stopping cells after HANG_SECONDS, so that it runs beside the story's
    progress; the process, printing what make prints."""
    archive = archive_copy(tmp)
    for lesson in COURSE[1:]:
        (archive / "notebooks" / lesson.path.name).unlink()
    edit(archive / LESSON_1, {"01-15": HANGS})
    script = archive / "lessons.py"
    source = script.read_text(encoding="utf-8")
    assert "\nCELL_SECONDS = 30 " in source, "lessons.py's CELL_SECONDS moved"
    stopping = f"\nCELL_SECONDS = {HANG_SECONDS} "
    script.write_text(
        source.replace("\nCELL_SECONDS = 30 ", stopping), encoding="utf-8"
    )
    return subprocess.Popen(
        make_command(archive, "progress"),
        cwd=archive,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )


def test_make_progress_without_git_reports_the_verdicts(story):
    assert story["hangs exit"] == 0, story["hangs"]
    assert story["hangs"].splitlines()[-2:] == [
        f"0 of {len(COURSE[0].exercises)} exercises correct.",
        "Next: open 01_hello_world.ipynb in JupyterLab (make lab) and try its"
        " exercises.",
    ]


def test_progress_stops_a_cell_that_hangs(story):
    printed = story["hangs"].splitlines()
    assert f"0 of {len(COURSE[0].exercises)} exercises correct." in printed
    number = list(COURSE[0].exercises).index("01-15") + 1  # as its verdict line says
    assert (
        f"  Exercise {number}'s cell was still running after {HANG_SECONDS} s, so it"
        " was stopped: fix it in JupyterLab and run it again."
    ) in printed


def test_every_exercise_cell_has_an_id_that_update_can_match(story):
    for name, content in story["published"].items():
        notebook = nbformat.reads(content.decode(), as_version=4)
        assert notebook.nbformat_minor >= 5, name
        for cell in notebook.cells:
            if has_tag(cell, "exercise"):
                assert re.fullmatch(r"\d\d-\d\d[a-z]*", cell.id), name  # 02-22a: new


def test_update_after_the_learner_committed_keeps_their_commits_on_a_branch(
    tmp_path,
):
    upstream = bare_repository(tmp_path)
    git(tmp_path, "clone", "--quiet", str(upstream), "learner")
    git(tmp_path, "clone", "--quiet", str(upstream), "maintainer")
    learner = tmp_path / "learner"
    edit(learner / LESSON_1, {"01-15": RIGHT})
    git(learner, "commit", "--quiet", "--all", "--message", "My answer")
    mine = git(learner, "rev-parse", "HEAD")
    first_change(tmp_path / "maintainer")

    printed = said(lessons.update, learner)

    (line,) = [line for line in printed.splitlines() if "branch" in line]
    branch = line.removeprefix("Your commits are kept on the branch ").rstrip(".")
    assert git(learner, "rev-parse", branch) == mine
    assert git(learner, "rev-parse", "HEAD") == git(learner, "rev-parse", "@{u}")
    assert source_of(notebooks_in(learner), LESSON_1, "01-15") == RIGHT
    assert git(learner, "status", "--porcelain") == f" M {LESSON_1}\n"


def test_update_without_an_upstream_branch_says_what_to_do(tmp_path):
    git(tmp_path, "init", "--quiet")
    with pytest.raises(lessons.Problem) as problem:
        lessons.update(tmp_path)
    assert str(problem.value) == (
        "Your branch has no upstream branch to get the lessons from: run"
        " git branch --set-upstream-to=origin/main (or check out main), then run"
        " this again."
    )


def test_make_reset_of_a_lesson_that_does_not_exist_names_those_that_do(tmp_path):
    git(tmp_path, "clone", "--quiet", str(bare_repository(tmp_path)), "learner")
    result = make(tmp_path / "learner", "reset", "LESSON=9")
    numbers = ", ".join(str(int(lesson.path.name[:2])) for lesson in COURSE)
    assert (result.returncode, result.stdout) == (2, "")
    assert stopped_with(
        f"There is no lesson 9: choose one of {numbers}, as in make reset LESSON=1."
    ).fullmatch(result.stderr), result.stderr


# A copy without git history, as GitHub's Download ZIP gives (git archive).

NOT_A_CLONE = (
    "This folder is not a git clone, so there is no published version to go back"
    " to or update from: get the project with git clone (see the README), then"
    " copy your notebooks into it."
)


def archive_copy(tmp_path):
    """The project's files as `git archive HEAD` would give them: no .git; in
    a folder whose path holds a space and a non-ASCII letter, as a download
    unpacked into "My Lessons é" is."""
    ignore = shutil.ignore_patterns(  # what .gitignore keeps out of git
        ".git",
        ".venv*",
        ".uv",
        "*cache*",
        "__pycache__",
        "test-artifacts",
        "_site",
        "lesson-backups",
        "node_modules",
    )
    folder = tmp_path / "My Lessons é" / "archive"
    return Path(shutil.copytree(ROOT, folder, ignore=ignore))


def test_lint_passes_in_a_copy_without_git_beside_makes_own_folders(tmp_path):
    """ruff honours .gitignore only in a git repository: pyproject.toml itself
    keeps make's folders (.uv, .venv-3.1N) out of `make lint`."""
    archive = archive_copy(tmp_path)
    for folder in (".uv/lib", ".venv-3.10/lib"):
        (archive / folder).mkdir(parents=True)
        (archive / folder / "installed.py").write_text(
            "import os,sys\nx=1;y = 2\n", encoding="utf-8"
        )
    ruff = Path(sys.executable).parent / "ruff"
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [ruff, *command, "--no-cache"],
            cwd=archive,
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        assert result.returncode == 0, result.stdout + result.stderr


def stopped_with(sentence):
    """What make prints, and only that, when tools/guard.py stops it."""
    return re.compile(rf"Makefile:\d+: \*\*\* {re.escape(sentence[:-1])}\.  Stop\.\n")


@pytest.mark.parametrize("goal", [["update"], ["reset"], ["reset", "LESSON=2"]])
def test_update_and_reset_without_git_say_how_to_get_a_clone_last(tmp_path, goal):
    result = make(archive_copy(tmp_path), *goal)
    assert (result.returncode, result.stdout) == (2, "")
    # the sentence last, on make's own line: no "*** [...] Error 1" under it
    assert stopped_with(NOT_A_CLONE).fullmatch(result.stderr), result.stderr


def test_make_tests_guard_lets_a_copy_without_git_through(tmp_path):
    assert guard.not_ready("test", root=archive_copy(tmp_path)) is None


def test_make_test_in_a_copy_without_git_with_an_answer_says_so_first(tmp_path):
    """No git to compare with: an exercise cell that is not its starter is an
    answer (the line the learner ended with Enter included, which ruff's format
    check would have failed on)."""
    archive = archive_copy(tmp_path)
    edit(archive / LESSON_2, {"02-14": WRONG + "\n"})
    assert guard.changed_lessons(archive) == ["02_good_evening.ipynb"]
    result = make(archive, "test")
    assert (result.returncode, result.stdout) == (2, "")
    assert stopped_with(guard.CHANGED).fullmatch(result.stderr), result.stderr


# What JupyterLab prints for `make lab`: lesson 1's address, with the token.
LAB_URL = re.compile(
    r"http://127\.0\.0\.1:\d+/lab/tree/notebooks/01_hello_world\.ipynb\?token=(\w+)"
)
LAB_SECONDS = 60  # for JupyterLab to start, and to stop, on a busy machine


def printed_lab_url(process, timeout=LAB_SECONDS):
    """The first address LAB_URL matches in what `process` printed on stderr
    (JupyterLab's log), within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := LAB_URL.search(process.stderr)):
        if process.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no lesson 1 address printed: {process.stderr}")
        time.sleep(0.1)  # polling, bounded by the deadline
    return found


def test_make_lab_without_git_serves_lesson_1_at_the_address_it_prints(tmp_path):
    archive = archive_copy(tmp_path)
    port = free_port()
    options = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port}"
    process = Process(
        make_command(
            archive, "lab", f"LAB_OPTIONS={options} --ServerApp.port_retries=0"
        ),
        env={  # JupyterLab's own files in tmp_path, not in the home folder
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        },
        cwd=archive,
    )
    try:
        printed = printed_lab_url(process)
        # JupyterLab prints its address, then starts listening there.
        wait_until_listening(process, port, timeout=LAB_SECONDS)
        server, token = printed[0].split("/lab/")[0], printed[1]
        page = requests.get(printed[0], timeout=10)
        lesson = requests.get(
            f"{server}/api/contents/{LESSON_1}",
            params={"content": "0"},
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        # Ctrl-C, to make and everything it started, as a terminal sends it
        # (without a terminal, JupyterLab asks nothing: once is enough)
        os.killpg(process.proc.pid, signal.SIGINT)
        code, _ = process.wait(timeout=LAB_SECONDS)
    finally:
        process.stop()
    assert page.status_code == 200
    assert "jupyter-config-data" in page.text  # JupyterLab's page, not an error
    assert lesson.status_code == 200, lesson.text
    assert code == -signal.SIGINT  # make ends as Ctrl-C ends a command...
    assert "make: ***" not in process.stderr  # ...with no "Interrupt" line of its own
