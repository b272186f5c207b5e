"""How fast a learner gets to JupyterLab: `make lab` on a fresh clone against a
plain `python -m venv` + `pip install -r requirements.txt` of the same tree,
timed back to back, warm package caches (MEASUREMENTS.md has the numbers).

    python3 .ci/measure_install.py [PYTHON] [ROUNDS]

Each round clones this repository's HEAD afresh (so no .venv, no .uv) and:
- make lab: seconds until JupyterLab prints its URL (make installs .uv/ and
  .venv first), then JupyterLab is stopped;
- pip: `python -m venv .venv` then `.venv/bin/python -m pip install -r
  requirements.txt`, then the second by-hand command (`-e .`), timed apart.
One warm-up round of each comes first and is not counted. Prints each time,
the ratio of the medians, and the size of make lab's .venv.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.argv[1] if len(sys.argv) > 1 else "python3"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
URL = re.compile(r"http://127\.0\.0\.1:\d+/lab")


def fresh_clone(folder):
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
    return folder


def make_lab(folder):
    """Seconds from `make lab` to JupyterLab's URL in its output."""
    options = "--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=0"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(folder / ".runtime"),
        "JUPYTER_CONFIG_DIR": str(folder / ".config"),
    }
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "lab", f"PYTHON={PYTHON}", f"LAB_OPTIONS={options}"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        encoding="utf-8",
    )
    try:
        for line in process.stdout:
            if URL.search(line):
                return time.monotonic() - started
        raise SystemExit(f"make lab ended without a URL (exit {process.wait()})")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def pip_by_hand(folder):
    """Seconds for venv + pip install -r requirements.txt."""
    python = str(folder / ".venv" / "bin" / "python")
    started = time.monotonic()
    subprocess.run([PYTHON, "-m", "venv", ".venv"], cwd=folder, check=True)
    install = [python, "-m", "pip", "install", "--quiet"]
    subprocess.run([*install, "-r", "requirements.txt"], cwd=folder, check=True)
    return time.monotonic() - started


def size(folder):
    return subprocess.run(
        ["du", "-sh", str(folder)], capture_output=True, text=True, encoding="utf-8"
    ).stdout.split()[0]


times = {"make lab": [], "pip": []}
with tempfile.TemporaryDirectory() as workspace:
    for round in range(ROUNDS + 1):
        lab = fresh_clone(Path(workspace) / f"lab-{round}")
        by_hand = fresh_clone(Path(workspace) / f"pip-{round}")
        lab_seconds = make_lab(lab)
        pip_seconds = pip_by_hand(by_hand)
        label = "warm-up" if round == 0 else f"round {round}"
        print(
            f"{label}: make lab {lab_seconds:.1f} s to its URL;"
            f" venv + pip install -r requirements.txt {pip_seconds:.1f} s",
            flush=True,
        )
        if round:
            times["make lab"].append(lab_seconds)
            times["pip"].append(pip_seconds)
    print(f"make lab's .venv: {size(lab / '.venv')}; pip's: {size(by_hand / '.venv')}")
medians = {key: statistics.median(values) for key, values in times.items()}
print(
    f"medians: make lab {medians['make lab']:.1f} s, pip {medians['pip']:.1f} s:"
    f" make lab takes {100 * medians['make lab'] / medians['pip']:.0f}%"
)
