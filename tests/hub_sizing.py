"""What a class costs on one JupyterHub: memory per learner, the hub's own, and
CPU to start a learner. A benchmark, not a test: `make hub-sizing` (as root),
or `.venv/bin/python tests/hub_sizing.py [LEARNERS]` (2 by default).

It starts the teacher's recipe, teaching/jupyterhub_config.py, as
tests/test_hub.py does (real system users, PAM logins, LocalProcessSpawner,
one shared environment), logs every learner in at once through the nbgitpuller
link, takes each through every lesson side by side (exercises answered
by their solutions, every kernel left running, as a learner leaves them), then
lesson 3's terminal step (`python -m server`, on a port of its own). Memory is
summed over each learner's processes (their JupyterLab, kernels, terminal,
server), as resident set size (RSS, which counts shared libraries in every
process) and as unique set size (USS, what ending them would free), with
psutil. CPU is user + system time of the learner's processes from login to
lesson 1 on screen (JupyterLab's start, nbgitpuller's clone), plus the hub's
and the proxy's during the logins, shared out. The browser (Chromium, one
context per learner) is the learners' laptop: not counted.
"""

import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[1:1] = [str(ROOT), str(ROOT / "notebooks")]  # as pyproject's pythonpath
import test_hub  # noqa: E402
from helpers import LESSONS  # noqa: E402

MB = 1024 * 1024


def processes_of(uid):
    found = []
    for process in psutil.process_iter(["uids"]):
        if process.info["uids"] and process.info["uids"].real == uid:
            found.append(process)
    return found


def memory(processes):
    """(RSS, USS) in MB, summed over `processes` that still run."""
    rss = uss = 0
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss += info.rss
        uss += info.uss
    return rss / MB, uss / MB


def cpu_seconds(processes):
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user
        total += times.children_system
    return total


def hub_and_proxy(hub):
    """The hub and its proxy: its processes that run as root (the learners'
    JupyterLabs, its children too, run as the learners)."""
    process = psutil.Process(hub.process.proc.pid)
    return [
        each
        for each in [process, *process.children(recursive=True)]
        if each.uids().real == 0
    ]


def main(count):
    names = [f"learner{number}" for number in range(1, count + 1)]
    with test_hub.class_hub(names) as hub, test_hub.chromium() as browser:
        hub.ready()
        own = hub_and_proxy(hub)
        hub_cpu = cpu_seconds(own)
        started = time.monotonic()
        pages = [test_hub.log_in(browser, hub, learner) for learner in hub.learners]
        for page, learner in zip(pages, hub.learners, strict=True):
            test_hub.arrived(page, learner)
        start_wall = time.monotonic() - started
        start_cpu = [cpu_seconds(processes_of(each.uid)) for each in hub.learners]
        hub_start_cpu = cpu_seconds(hub_and_proxy(hub)) - hub_cpu

        for lesson in LESSONS:
            runs = test_hub.run_side_by_side(
                pages, hub.learners, lesson, shut_down=False
            )
            assert all(run["finished"] for run in runs), (lesson.name, runs)
        after_lessons = [memory(processes_of(each.uid)) for each in hub.learners]

        # PORT=0: a port of its own, wherever `python -m server` runs.
        step = test_hub.TERMINAL_STEP.replace(
            "python -m server", "PORT=0 python -m server"
        )
        for page in pages:
            page.evaluate(test_hub.TYPE_IN_NEW_TERMINAL, step)
        for page in pages:
            test_hub.terminal_says(page, test_hub.STARTUP_LINE)
        peak = [memory(processes_of(each.uid)) for each in hub.learners]
        own_memory = memory(hub_and_proxy(hub))

    def spread(values, digits=0):
        low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
        return low if low == high else f"{low}-{high}"

    print(
        f"{count} learners, logged in at once, on {psutil.cpu_count()} cores and"
        f" {psutil.virtual_memory().total / MB / 1024:.0f} GiB; load average"
        f" {psutil.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"memory per learner after the lessons (a kernel per lesson running):"
        f" RSS {spread([m[0] for m in after_lessons])} MB,"
        f" USS {spread([m[1] for m in after_lessons])} MB"
    )
    print(
        f"memory per learner at peak (and `python -m server` running):"
        f" RSS {spread([m[0] for m in peak])} MB,"
        f" USS {spread([m[1] for m in peak])} MB"
    )
    print(
        f"the hub and its proxy: RSS {own_memory[0]:.0f} MB, USS {own_memory[1]:.0f} MB"
    )
    share = hub_start_cpu / count
    print(
        f"CPU to start a learner (login to lesson 1 on screen):"
        f" {spread(start_cpu, 1)} CPU-s of their own + {share:.1f} CPU-s of the hub's;"
        f" all {count} at once took {start_wall:.1f} s"
    )


if __name__ == "__main__":
    reason = test_hub.missing_reason()
    if reason:
        sys.exit(f"Cannot measure here: {reason}.")
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
