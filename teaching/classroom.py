"""The teacher's view of a class: every learner's exercises in one table.

    python lessons.py class [--csv] FOLDER...

Each FOLDER is a learner's copy of the lessons (on a hub: /home/*/first-web-server).
Their lessons run as they saved them, each learner AS THE OWNER OF THEIR FOLDER
(never with the teacher's rights: user and groups are switched before anything
of theirs runs, so this must start as root to run anyone else's), in a scratch
folder the learner owns, with the teacher's checks; learners side by side, as
many as there are cores. The table has a row per learner, a column per exercise
(as course.py finds them in the lessons) and the totals; progress goes to
stderr. What runs as each learner is teaching/as_learner.py.
"""

import argparse
import csv
import functools
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import NamedTuple

import lessons
from notebooks import course
from notebooks.verdicts import CORRECT, NOT_ATTEMPTED, NOT_YET

ROOT = Path(__file__).resolve().parent.parent
CELL_SECONDS = lessons.CELL_SECONDS  # a cell still running after this is stopped
LEARNER_SECONDS = 180  # a learner's whole run (every lesson) ends by then
# Learners side by side: twice the cores, as each learner's run waits for its
# kernels about a third of the time (30 learners on 2 cores: 40 s, against 74 s
# with as many as the cores; tests/class_bench.py).
JOBS = 2 * len(os.sched_getaffinity(0))
GRACE_SECONDS = 15  # past that, the learner's runner itself is killed
LABEL = {CORRECT: "Correct", NOT_YET: "Not yet", NOT_ATTEMPTED: "Not attempted"}
# The teacher's files each learner's run uses, copied where every learner can
# read them and none can change them.
MACHINERY = ["lessons.py", "tools/fast_nbformat.py", "teaching/as_learner.py"]
CAN_RUN = "import nbclient, ipykernel, flask, requests"


class Column(NamedTuple):
    lesson: course.Lesson
    number: int  # of the exercise in its lesson, from 1
    check: str  # the id of its check cell

    def __str__(self):
        return f"{self.lesson.number}.{self.number}"


class Row(NamedTuple):
    learner: str
    cells: list  # one per column: a verdict's label, or why it did not run
    notes: list  # what else went wrong, in a few words each
    seconds: float

    @property
    def correct(self):
        return self.cells.count("Correct")


@functools.cache
def columns(root=ROOT):
    """A column per exercise, in the lessons' order: each exercise and the
    check cell that follows it (the lessons pair them in order)."""
    import nbformat

    found = []
    for lesson in course.lessons(root / "notebooks"):
        cells = nbformat.read(lesson.path, as_version=4).cells
        checks = [cell.id for cell in cells if "check" in lessons.tags(cell)]
        for number, check in enumerate(checks[: len(lesson.exercises)], start=1):
            found.append(Column(lesson, number, check))
    return found


def owner(folder):
    """The user name and pwd entry (None if unknown) of who owns `folder`."""
    uid = folder.stat().st_uid
    try:
        entry = pwd.getpwuid(uid)
        return entry.pw_name, entry
    except KeyError:
        return str(uid), None


def learner_env(entry, project):
    """A clean environment: the learner's HOME, and Jupyter's and IPython's
    folders in the scratch project, so their own settings and kernels do not
    change a verdict."""
    return {
        "HOME": entry.pw_dir,
        "USER": entry.pw_name,
        "LOGNAME": entry.pw_name,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": str(project / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(project / ".jupyter"),
        "JUPYTER_DATA_DIR": str(project / ".jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(project / ".jupyter-runtime"),
    }


def as_user(entry):
    """subprocess's arguments that drop to `entry`'s user, group and no other
    group, or none when this process is that user already."""
    if os.geteuid() == entry.pw_uid:
        return {}
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def why_not(folder, entry):
    """Why the lessons in `folder` cannot run as their owner, or None."""
    if entry is None:
        return "its owner is no user of this machine"
    if entry.pw_uid == 0:
        return "owned by root, and learners' lessons never run as root"
    if os.geteuid() not in (0, entry.pw_uid):
        return "another user's: run this as root to run it as them"
    return None


def lesson_scratch(base, index, entry):
    """A scratch project for one learner, which they own (mode 0700), whose
    notebooks/ is the teacher's copy of the lessons and checks, theirs to read
    but not to change."""
    project = base / str(index)
    project.mkdir(mode=0o700)
    notebooks = project / "notebooks"
    notebooks.mkdir(mode=0o755)
    for path in sorted((base / "machinery" / "notebooks").iterdir()):
        if path.is_file():
            shutil.copy2(path, notebooks / path.name)
    os.chown(project, entry.pw_uid, entry.pw_gid)
    return project


def run_learner(folder, base, index, cell_seconds, learner_seconds):
    """Run one learner's lessons as them; their Row."""
    started = time.monotonic()
    folder = Path(folder)

    def row(name, cells, notes=()):
        return Row(name, cells, list(notes), time.monotonic() - started)

    def not_run(name, why):  # the whole row: why, in the notes
        return row(name, ["Not run"] * len(columns()), [why])

    try:
        name, entry = owner(folder)
        if not (folder / "notebooks").is_dir():
            raise FileNotFoundError
    except FileNotFoundError:
        return not_run(str(folder), "no lessons here (no notebooks/ folder)")
    except PermissionError:
        return not_run(str(folder), "the teacher cannot read this folder")
    why = why_not(folder, entry)
    if why:
        return not_run(name, why)
    project = lesson_scratch(base, index, entry)
    runner = base / "machinery" / "teaching" / "as_learner.py"
    command = [sys.executable, "-I", str(runner), str(folder.resolve()), str(project)]
    process = subprocess.Popen(
        [*command, f"{cell_seconds:g}", f"{learner_seconds:g}"],
        cwd=project,
        env=learner_env(entry, project),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own group, to stop as one
        **as_user(entry),
    )
    RUNNING.add(process)
    try:
        out, err = process.communicate(timeout=learner_seconds + GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        kill(process)
        process.communicate()
        return not_run(name, f"stopped after {learner_seconds:g} s (out of time)")
    finally:
        RUNNING.discard(process)
    try:
        results = json.loads(out.decode().splitlines()[-1])
    except (ValueError, IndexError):
        last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        return not_run(name, f"the run failed: {last[:120]}")
    return row(name, *cells_and_notes(results))


RUNNING = set()  # the learners' runs going on now


def kill(process):
    """Kill a learner's runner and its process group (its own session). Only
    before it is reaped (by the thread that started it): until then its
    process id cannot be anyone else's."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cells_and_notes(results):
    """A row's cells and notes from what as_learner.py printed."""
    cells, notes = [], []
    for column in columns():
        lesson = results.get(column.lesson.path.name, {"not run": "no result"})
        if "not run" in lesson:
            why = lesson["not run"]
            cells.append(f"{why[0].upper()}{why[1:]}")
            continue
        line = lesson["checks"].get(column.check) or ""
        label = next((LABEL[key] for key in LABEL if line.startswith(key)), None)
        cells.append(label or "No verdict")
    for column in columns():
        if column.number == 1:
            lesson = results.get(column.lesson.path.name, {})
            for error in lesson.get("errors", []):
                notes.append(f"lesson {column.lesson.number}: {short(error)}")
    return cells, notes


def short(error):
    """A verdicts() error line in a few words, such as "exercise 2's cell was
    stopped after 30 s" or "code cell 1 raised LessonSkipped"."""
    found = re.match(
        r"(Exercise \d+'s cell|Code cell \d+) (?:\(.*?\) )?"
        r"(?:was still running after ([\d.]+ s)|raised (\w+))",
        error,
    )
    if not found:
        return error.split(": fix ")[0]
    where, seconds, name = found.groups()
    what = f"was stopped after {seconds}" if seconds else f"raised {name}"
    return f"{where[0].lower()}{where[1:]} {what}"


def can_run(entry):
    """None if `entry`'s user can run this Python with the lessons' packages,
    else what went wrong, in one line."""
    try:
        result = subprocess.run(
            [sys.executable, "-I", "-c", CAN_RUN],
            env={"HOME": entry.pw_dir, "PATH": "/usr/bin:/bin"},
            cwd="/",
            capture_output=True,
            timeout=60,
            **as_user(entry),
        )
    except PermissionError as error:
        return error.strerror
    if result.returncode:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        return (lines or [f"exit status {result.returncode}"])[-1]
    return None


def run_class(folders, jobs, cell_seconds, learner_seconds, say=print):
    """Every learner's Row, in the order of `folders`, `jobs` at a time; `say`
    gets a progress line as each learner ends."""
    if not folders:
        return []
    base = Path(tempfile.mkdtemp(prefix="lessons-class-"))
    try:
        base.chmod(0o711)  # learners reach their own scratch, list none
        machinery = base / "machinery"
        for name in MACHINERY:
            (machinery / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, machinery / name)
        shutil.copytree(
            ROOT / "notebooks",
            machinery / "notebooks",
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
        for path in [machinery, *machinery.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        check_python(folders)
        rows = [None] * len(folders)
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            running = {
                pool.submit(
                    run_learner, folder, base, index, cell_seconds, learner_seconds
                ): index
                for index, folder in enumerate(folders)
            }
            for done, future in enumerate(as_completed(running), start=1):
                row = rows[running[future]] = future.result()
                say(
                    f"[{done}/{len(folders)}] {row.learner}: {row.correct} of"
                    f" {len(columns())} correct ({row.seconds:.1f} s)"
                )
        except BaseException:  # such as Ctrl-C: stop every learner's run first
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list(RUNNING):
                kill(process)
            raise
        pool.shutdown()
        return rows
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Stop(Exception):
    """Nothing can run; the message says what to do, in one line."""


def check_python(folders):
    """Stop with one sentence if the first learner to run cannot run this Python."""
    for folder in folders:
        try:
            name, entry = owner(Path(folder))
        except OSError:
            continue
        if why_not(Path(folder), entry) is None:
            problem = can_run(entry)
            if problem:
                raise Stop(
                    f"{name} cannot run {sys.executable} ({problem}): run this"
                    " command with a Python every learner can read and that has"
                    " the lessons' packages (on a hub, the image's; see"
                    " teaching/README.md)."
                )
            return


def table(rows):
    """The class table as lists of strings: a header, a row per learner, the
    totals per exercise."""
    header = ["Learner", *map(str, columns()), "Correct", "Notes"]
    body = [
        [
            row.learner,
            *row.cells,
            f"{row.correct} of {len(columns())}",
            "; ".join(row.notes),
        ]
        for row in rows
    ]
    totals = [
        f"{sum(row.cells[i] == 'Correct' for row in rows)} of {len(rows)}"
        for i in range(len(columns()))
    ]
    everything = sum(row.correct for row in rows)
    footer = ["Correct", *totals, f"{everything} of {len(columns()) * len(rows)}", ""]
    return [header, *body, footer]


def legend():
    return [
        f"{column}: lesson {column.lesson.number} ({column.lesson.title}),"
        f" exercise {column.number}"
        for column in columns()
    ]


def show(lines):
    """The table as aligned text."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    padded = [map(str.ljust, line, widths) for line in lines]
    return "\n".join("  ".join(line).rstrip() for line in padded)


def whose(count):
    return "learner's" if count == 1 else "learners'"


def main(argv):
    parser = argparse.ArgumentParser(
        prog="python lessons.py class",
        description="Every learner's exercises in one table, each learner's"
        " lessons run as that learner (start it as root).",
    )
    parser.add_argument("folders", nargs="+", metavar="FOLDER")
    parser.add_argument(
        "--csv", action="store_true", help="write CSV, for a spreadsheet"
    )
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--cell-seconds", type=float, default=CELL_SECONDS)
    parser.add_argument("--learner-seconds", type=float, default=LEARNER_SECONDS)
    options = parser.parse_args(argv)
    try:
        import nbclient  # noqa: F401 (what each learner's run needs)
        import nbformat  # noqa: F401
    except ImportError as error:
        print(
            f"{sys.executable} lacks the lessons' packages ({error}): run this"
            " command with a Python that has requirements.txt installed and that"
            " every learner can read (on a hub, the image's).",
            file=sys.stderr,
        )
        return 1
    print(
        f"Running {len(options.folders)} {whose(len(options.folders))} lessons,"
        " each as its owner,"
        f" {options.jobs} at a time (a cell is stopped after"
        f" {options.cell_seconds:g} s, a learner after {options.learner_seconds:g} s).",
        file=sys.stderr,
    )
    try:
        rows = run_class(
            options.folders,
            options.jobs,
            options.cell_seconds,
            options.learner_seconds,
            say=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except Stop as stop:
        print(stop, file=sys.stderr)
        return 1
    if options.csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(table(rows))
    else:
        print(show(table(rows)))
        print()
        print("\n".join(legend()))
    return 0
