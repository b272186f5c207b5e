"""The teacher's class table (`python lessons.py class`, teaching/classroom.py),
with real system users as learners.

Three learners, each with a home of their own (mode 0700) and a copy of the
lessons, as on a hub: ann has solved everything; bob has some wrong answers
and a cell that never ends; cat's answers try to write a file only the teacher
may write and to read ann's lessons, her own check cell prints a verdict of her
making, and her lesson 3 is not JSON. A fourth folder does not exist. The table
is made once, by the command itself, run as root with a Python every user can
read (a venv from Debian's), cells stopped after CELL_SECONDS.
"""

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from teaching import classroom
from teaching.classroom import MACHINERY

import learners
import lessons
from helpers import COURSE, LESSON, ROOT, busy_factor, has_tag, solutions

# bob's cell that never ends is stopped after this; every other cell of the
# lessons takes under a second on a quiet machine.
CELL_SECONDS = round(4 * busy_factor())
LEARNER_SECONDS = 120
# The table's columns, "1.1", "2.1", ...: one per exercise of the lessons, so
# that a new exercise or lesson is a new column here too. Each learner's row
# below names the columns its story sets; every other column of theirs is as
# the lessons publish it: Not attempted.
COLUMNS = [str(column) for column in classroom.columns()]
N = len(COLUMNS)


def cells(given, rest="Not attempted"):
    """A row's verdicts: `given` ({column: verdict}), `rest` for the others."""
    return [given.get(column, rest) for column in COLUMNS]


ROWS = {  # each learner's verdicts, as their story below makes them
    "ann": cells({}, rest="Correct"),  # every exercise solved
    "bob": cells(
        {"2.1": "Not yet", "2.2": "Not yet", "3.1": "Correct", "3.2": "Not yet"}
    ),
    "cat": cells(
        {"1.1": "Correct", "2.2": "Not yet"}
        | {column: "Not JSON" for column in COLUMNS if column.startswith("3.")}
    ),
    "nowhere": cells({}, rest="Not run"),
}
HANGS = "import time\n\nwhile True:\n    time.sleep(0.1)\n"
# A cell the stop button cannot stop: it catches the interrupt and goes on.
STUBBORN = (
    "import time\n\nwhile True:\n    try:\n        time.sleep(0.1)\n"
    "    except KeyboardInterrupt:\n        pass\n"
)
DAN_SECONDS = 6  # dan's whole run, stopped by then (his row is the same if sooner)
FAKE_CHECK = 'print("Correct: trust me")'

pytestmark = [
    pytest.mark.learners,
    pytest.mark.timeout(600),  # the users, a venv, three learners' lessons
]


def answered(lesson, answers, check=None):
    """The published `lesson` (a name) with exercise cells replaced by
    `answers` ({exercise number from 1: code}; solution: "solution"), and with
    check cell `check` ({number: code}) replaced too."""
    notebook = nbformat.read(LESSON[lesson], as_version=4)
    solved = solutions(lesson)
    exercise = checked = 0
    for cell in notebook.cells:
        if has_tag(cell, "exercise"):
            exercise += 1
            answer = answers.get(exercise)
            if answer is not None:
                cell.source = solved[exercise - 1] if answer == "solution" else answer
        if has_tag(cell, "check"):
            checked += 1
            if check and checked in check:
                cell.source = check[checked]
    return nbformat.writes(notebook)


def make_copy(user, notebooks):
    """A copy of the lessons in `user`'s home, theirs, with `notebooks`
    ({lesson name: text}) saved over the published ones."""
    folder = Path(user.pw_dir) / "first-web-server"
    folder.mkdir()
    lessons.copy_project(ROOT, folder)
    for name, text in notebooks.items():
        (folder / "notebooks" / f"{name}.ipynb").write_text(text, encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    return folder


def snapshot(folder):
    """Every file under `folder`: its bytes and modification time."""
    return {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def class_run():
    if learners.missing_reason():
        pytest.skip(f"learners as system users: {learners.missing_reason()}")
    shared = learners.shared_folder("class-test-")
    try:
        yield from classroom_story(shared)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def classroom_story(shared):
    """The users, their copies, and what the command made of them."""
    python = learners.class_venv()
    marks = shared / "marks.txt"  # the teacher's: every user reads, none writes
    marks.write_text("the teacher's marks\n")
    names = [learners.unique(name) for name in ("ann", "bob", "cat", "dan")]
    with learners.system_users(*names) as (ann, bob, cat, dan):
        ann_s = f"{ann.pw_dir}/first-web-server/notebooks/01_hello_world.ipynb"
        folders = [
            make_copy(
                ann,
                {
                    lesson.path.stem: answered(
                        lesson.path.stem,
                        dict.fromkeys(range(1, len(lesson.exercises) + 1), "solution"),
                    )
                    for lesson in COURSE
                },
            ),
            make_copy(
                bob,
                {
                    "02_good_evening": answered(
                        "02_good_evening",
                        {
                            1: solutions("02_good_evening")[0].replace(
                                '"Good morning"', '"good morning"'
                            ),
                            2: "prediction = 200\n",
                        },
                    ),
                    "03_run_the_server": answered(
                        "03_run_the_server", {1: "solution", 2: HANGS}
                    ),
                },
            ),
            make_copy(
                cat,
                {
                    "01_hello_world": answered(
                        "01_hello_world",
                        {
                            1: solutions("01_hello_world")[0]
                            + f'\nopen("{marks}", "a").write("cat was here")\n'
                        },
                    ),
                    "02_good_evening": answered(
                        "02_good_evening",
                        {2: f'prediction = 404\nprint(open("{ann_s}").read())\n'},
                        check={1: FAKE_CHECK},
                    ),
                    "03_run_the_server": "{ not JSON",
                },
            ),
        ]
        nowhere = shared / "nobody" / "first-web-server"
        before = [snapshot(folder) for folder in folders]
        # dan's first cell cannot be stopped: his run is, at its deadline. It
        # runs beside the others' (it only waits), in a command of its own.
        stubborn = make_copy(
            dan, {"01_hello_world": answered("01_hello_world", {1: STUBBORN})}
        )
        dans_run = subprocess.Popen(
            [str(python), str(ROOT / "lessons.py"), "class", "--csv"]
            + ["--cell-seconds", "2", "--learner-seconds", str(DAN_SECONDS)]
            + [str(stubborn)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd="/",
        )
        # A teacher who is no root, cat, cannot read ann's or bob's folders. She
        # runs a copy of the command she can read (this project's folder may
        # not be readable by others: a temporary folder is 0700), beside the rest.
        teacher_files = [*MACHINERY, "teaching/classroom.py"]
        mine = lessons.copy_project(ROOT, shared / "cat's copy", teacher_files)
        for path in [mine, *mine.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        cats_run = subprocess.Popen(
            [str(python), str(mine / "lessons.py"), "class", "--csv"]
            + [str(folder) for folder in folders[:2]],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd="/",
            env={"HOME": cat.pw_dir, "PATH": "/usr/bin:/bin"},
            user=cat.pw_uid,
            group=cat.pw_gid,
            extra_groups=[],
        )
        result = subprocess.run(
            [str(python), str(ROOT / "lessons.py"), "class", "--csv"]
            + ["--cell-seconds", str(CELL_SECONDS)]
            + ["--learner-seconds", str(LEARNER_SECONDS)]
            + [str(folder) for folder in [*folders, nowhere]],
            capture_output=True,
            text=True,
            timeout=400,
            cwd="/",
        )
        after = [snapshot(folder) for folder in folders]
        tables = []
        for run in (dans_run, cats_run):
            try:
                tables.append(run.communicate(timeout=120)[0])
            finally:
                run.kill()
        dans_table, cats_table = tables
        yield {
            "dan": list(csv.reader(io.StringIO(dans_table))),
            "as cat": list(csv.reader(io.StringIO(cats_table))),
            "result": result,
            "rows": list(csv.reader(io.StringIO(result.stdout))),
            "names": names,
            "nowhere": str(nowhere),
            "unchanged": [a == b for a, b in zip(before, after, strict=True)],
            "marks": marks.read_text(),
            "ann's folder": folders[0],
            "folders": folders,
        }


def row_of(class_run, learner):
    name = class_run["names"][["ann", "bob", "cat"].index(learner)]
    (row,) = [row for row in class_run["rows"] if row[0] == name]
    return row[1:]


def test_the_command_ends_well(class_run):
    assert class_run["result"].returncode == 0, class_run["result"].stderr


def test_the_header_has_a_column_per_exercise_of_the_lessons(class_run):
    assert class_run["rows"][0] == ["Learner", *COLUMNS, "Correct", "Notes"]
    exercises = [len(lesson.exercises) for lesson in COURSE]
    assert len(COLUMNS) == sum(exercises)
    assert COLUMNS[:2] == ["1.1", f"{COURSE[1].number}.1"]


def test_a_learner_who_solved_everything(class_run):
    assert row_of(class_run, "ann") == [*ROWS["ann"], f"{N} of {N}", ""]


def test_wrong_answers_and_a_cell_that_never_ends(class_run):
    assert row_of(class_run, "bob") == [
        *ROWS["bob"],
        f"1 of {N}",
        f"lesson 3: exercise 2's cell was stopped after {CELL_SECONDS} s",
    ]


def test_an_answer_that_reaches_for_others_files_fails_as_for_that_learner(
    class_run,
):
    """cat's cells raise PermissionError: the teacher's file and ann's lessons
    are not hers; her own check cell counts for nothing (the published check
    runs: her exercise 2.1 is still the starter); her lesson 3 is not JSON."""
    assert row_of(class_run, "cat") == [
        *ROWS["cat"],
        f"1 of {N}",
        "lesson 1: exercise 1's cell raised PermissionError;"
        " lesson 2: exercise 2's cell raised PermissionError",
    ]
    assert class_run["marks"] == "the teacher's marks\n"


def test_a_learners_run_is_stopped_at_its_deadline(class_run):
    """dan's first cell catches every interrupt: the run ends at its deadline,
    and every lesson it did not finish says so."""
    name = class_run["names"][3]
    assert class_run["dan"][1] == [name, *["Out of time"] * N, f"0 of {N}", ""]


def test_a_folder_with_no_lessons_says_so(class_run):
    (row,) = [row for row in class_run["rows"] if row[0] == class_run["nowhere"]]
    assert row[1:] == [
        *ROWS["nowhere"],
        f"0 of {N}",
        "no lessons here (no notebooks/ folder)",
    ]


def test_a_folder_the_teacher_cannot_read_says_so(class_run):
    ann, bob = (str(folder) for folder in class_run["folders"][:2])
    unreadable = ["Not run"] * N + [f"0 of {N}", "the teacher cannot read this folder"]
    assert class_run["as cat"][1:3] == [[ann, *unreadable], [bob, *unreadable]]


def test_the_totals_count_each_exercise(class_run):
    rows = ROWS.values()
    per_exercise = [sum(row[i] == "Correct" for row in rows) for i in range(N)]
    assert class_run["rows"][-1] == [
        "Correct",
        *[f"{correct} of {len(rows)}" for correct in per_exercise],
        f"{sum(per_exercise)} of {N * len(rows)}",
        "",
    ]


def test_no_learner_file_changes(class_run):
    assert class_run["unchanged"] == [True, True, True]


def test_a_progress_line_per_learner_on_stderr(class_run):
    lines = class_run["result"].stderr.splitlines()
    assert lines[0].startswith("Running 4 learners' lessons, each as its owner")
    counted = [re.match(r"\[(\d)/4\] (.*) \([\d.]+ s\)$", line) for line in lines[1:]]
    assert [found[1] for found in counted] == ["1", "2", "3", "4"]
    assert sorted(found[2] for found in counted) == sorted(
        [f"{class_run['names'][0]}: {N} of {N} correct"]
        + [f"{class_run['names'][1]}: 1 of {N} correct"]
        + [f"{class_run['names'][2]}: 1 of {N} correct"]
        + [f"{class_run['nowhere']}: 0 of {N} correct"]
    )


def test_a_python_the_learner_cannot_run_is_named_in_one_line(class_run):
    """This process's Python is pyenv's, under /root: no learner can run it."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "lessons.py"), "class"]
        + [str(class_run["ann's folder"])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (1, "")
    said = result.stderr.splitlines()[1:]  # after the line saying what starts
    assert len(said) == 1, result.stderr
    assert said[0].startswith(f"{class_run['names'][0]} cannot run {sys.executable} (")
    assert "run this command with a Python every learner can read" in said[0]


def test_the_table_as_text_lines_up_with_a_legend(monkeypatch):
    """Laid out for five exercises of the first three lessons, whatever the
    lessons hold now."""
    first, second, third = COURSE[:3]
    five = [(first, 1), (second, 1), (second, 2), (third, 1), (third, 2)]
    fixed = [classroom.Column(lesson, n, f"{lesson.number}-{n}") for lesson, n in five]
    monkeypatch.setattr(classroom, "columns", lambda root=ROOT: fixed)
    rows = [
        classroom.Row("ann", ["Correct"] * 5, [], 1.0),
        classroom.Row("bob", ["Not yet"] * 4 + ["Not JSON"], ["lesson 3: x"], 1.0),
    ]
    assert classroom.show(classroom.table(rows)).splitlines() == [
        "Learner  1.1      2.1      2.2      3.1      3.2       Correct  Notes",
        "ann      Correct  Correct  Correct  Correct  Correct   5 of 5",
        "bob      Not yet  Not yet  Not yet  Not yet  Not JSON  0 of 5   lesson 3: x",
        "Correct  1 of 2   1 of 2   1 of 2   1 of 2   1 of 2    5 of 10",
    ]
    assert classroom.legend()[0] == "1.1: lesson 1 (Hello world), exercise 1"


def test_the_published_checks_replace_the_learners():
    """A check cell the learner deleted comes back after its exercise; a cell
    they tagged check counts for nothing; an edited check is the published one."""
    from teaching import as_learner

    published = nbformat.read(LESSON["02_good_evening"], as_version=4)
    mine = nbformat.read(LESSON["02_good_evening"], as_version=4)
    checks = [cell.id for cell in published.cells if has_tag(cell, "check")]
    mine.cells = [cell for cell in mine.cells if cell.id != checks[0]]
    second = next(cell for cell in mine.cells if cell.id == checks[1])
    second.source = FAKE_CHECK
    mine.cells.append(
        nbformat.v4.new_code_cell(FAKE_CHECK, metadata={"tags": ["check"]})
    )
    fixed = as_learner.with_published_checks(mine, published)
    ids = [cell.get("id") for cell in fixed.cells]
    exercises = [cell.id for cell in published.cells if has_tag(cell, "exercise")]
    assert ids.index(checks[0]) == ids.index(exercises[0]) + 1
    assert [cell.get("id") for cell in fixed.cells if has_tag(cell, "check")] == checks
    assert [cell.source for cell in fixed.cells if has_tag(cell, "check")] == [
        cell.source for cell in published.cells if has_tag(cell, "check")
    ]


@pytest.mark.skipif(os.name == "nt", reason="system users: Linux")
def test_the_class_environment_is_never_taken_from_a_folder_others_can_write(tmp_path):
    """A learner could have made it, in the shared /tmp, to run code as root."""
    cache = tmp_path / "venvs"
    cache.mkdir()
    cache.chmod(0o777)
    with pytest.raises(PermissionError, match="must be a folder only root can write"):
        learners.class_venv(cache)
    assert list(cache.iterdir()) == []
