"""How long `python lessons.py class` takes for a class: a benchmark, not a test.

    sudo .venv/bin/python tests/class_bench.py [LEARNERS]     (default 30)

As root: makes LEARNERS system users (tests/learners.py), each with a copy of
the lessons in their home, every exercise solved; a venv every user can run;
then times the command for one learner, for all of them (as many side by side
as its default, twice the cores), and for one learner again, and prints the figures and
the goal: all of them within 1.2 x (one learner's time x LEARNERS / cores).
With each time, the CPU time the whole machine spent meanwhile (Linux: from
/proc/stat, so the kernels the learners' runs start count too): per learner,
what a teacher plans the table's run with.
The users and their homes are removed afterwards. Say whether the machine was
busy when you quote it: the load average is printed.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path[:0] = [str(ROOT), str(TESTS), str(ROOT / "notebooks")]

from teaching.classroom import JOBS  # noqa: E402

import learners  # noqa: E402
import lessons  # noqa: E402
from helpers import answer_with_solutions  # noqa: E402


def solved_copy(user):
    folder = Path(user.pw_dir) / "first-web-server"
    folder.mkdir()
    lessons.copy_project(ROOT, folder)
    for path in sorted((folder / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        answer_with_solutions(path)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    return folder


def busy_seconds():
    """CPU time every core of this machine has spent busy since it started
    (Linux; None elsewhere): user, nice, system, irq, softirq, steal."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def timed(python, folders):
    """Seconds the command took for `folders`, and the CPU-s the machine spent."""
    started, busy = time.monotonic(), busy_seconds()
    result = subprocess.run(
        [str(python), str(ROOT / "lessons.py"), "class", "--csv", *map(str, folders)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.monotonic() - started
    cpu = busy_seconds() - busy if busy is not None else float("nan")
    rows = result.stdout.splitlines()[1:-1]
    if result.returncode or len(rows) != len(folders):
        sys.exit(f"the class command failed:\n{result.stdout}\n{result.stderr}")
    wrong = [row for row in rows if "5 of 5" not in row]
    if wrong:
        sys.exit("not every learner got 5 of 5:\n" + "\n".join(wrong))
    return seconds, cpu


def main():
    count = int(sys.argv[1]) if sys.argv[1:] else 30
    reason = learners.missing_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")
    cores = len(os.sched_getaffinity(0))
    shared = learners.shared_folder("class-bench-")
    try:
        python = learners.shared_venv(shared / "venv", ROOT / "requirements.txt")
        names = [learners.unique(f"l{number:02}") for number in range(count)]
        with learners.system_users(*names) as users:
            folders = [solved_copy(user) for user in users]
            print(f"load average before: {os.getloadavg()}", flush=True)
            one = [timed(python, folders[:1])]
            print(f"one learner: {one[0][0]:.1f} s, {one[0][1]:.1f} CPU-s", flush=True)
            everyone, cpu = timed(python, folders)
            print(
                f"{count} learners, {JOBS} at a time: {everyone:.1f} s,"
                f" {cpu:.1f} CPU-s ({cpu / count:.1f} per learner)",
                flush=True,
            )
            one.append(timed(python, folders[:1]))
            print(f"one learner again: {one[1][0]:.1f} s, {one[1][1]:.1f} CPU-s")
            print(f"load average after: {os.getloadavg()}")
        single = statistics.mean(seconds for seconds, _ in one)
        goal = 1.2 * single * count / cores
        print(
            f"goal: at most 1.2 x {single:.1f} s x {count} / {cores} = {goal:.0f} s;"
            f" took {everyone:.0f} s ({everyone / (single * count / cores):.2f} x"
            f" one learner's time x {count} / {cores})"
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    main()
