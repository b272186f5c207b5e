"""Learners as real system users, for the tests of a class on one machine.

On a teacher's JupyterHub every learner is a user of the machine, with a home
folder of their own, and runs a Python every user can read (the hub image's).
These helpers make that here: `system_users` creates users for a test and
removes them (their homes and processes too) afterwards, even when the test
fails; `shared_venv` makes a virtual environment that any user can run, from
Debian's /usr/bin/python3 (pyenv's Pythons live under /root, which other users
cannot read), holding exactly the locks given, installed by the project's uv.
`class_venv` is the one the class tests share. Both need root:
`missing_reason()` says why they cannot run, for a skip.
"""

import contextlib
import hashlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's: readable by every user
UV = ROOT / ".uv" / "bin" / "uv"  # make installs it (requirements/uv.txt)
# The class's environment (JupyterHub's lock over the lessons', as a hub's
# image has both), made once per content of the locks and kept here, where
# every user can read it: the class table's test and the hub's share it, side
# by side or one run after another. /tmp empties at boot.
CLASS_LOCKS = [ROOT / "requirements.txt", ROOT / "requirements" / "hub.txt"]
CLASS_VENVS = Path(tempfile.gettempdir()) / "first-web-server-class-venvs"


def missing_reason():
    """Why these helpers cannot run here, or None."""
    if os.geteuid() != 0:
        return "creating system users needs root"
    for command in ("useradd", "userdel"):
        if shutil.which(command) is None:
            return f"{command} is not installed"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing: learners need a Python every user can read"
    if not UV.exists():
        return f"{UV} is missing: run make .venv/bin/.installed first"
    return None


def unique(name):
    """`name` with a random ending, so that tests side by side never share a user."""
    return f"{name}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def system_users(*names, home_mode="0700"):
    """Create each user of `names`, with a group and a home folder of their own
    (mode `home_mode`: 0700, so no learner reads another's); yield their pwd
    entries, in order. Afterwards their processes are killed and the users,
    groups and homes removed."""
    made = []
    try:
        for name in names:
            subprocess.run(
                ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash"]
                + ["--key", f"HOME_MODE={home_mode}", name],
                check=True,
                capture_output=True,
                timeout=30,
            )
            made.append(name)
        yield [pwd.getpwnam(name) for name in names]
    finally:
        for name in made:
            subprocess.run(["pkill", "--signal", "KILL", "-u", name], timeout=30)
            subprocess.run(
                ["userdel", "--force", "--remove", name],
                capture_output=True,
                timeout=30,
            )


def shared_folder(prefix):
    """A new folder under the system's temporary folder that every user can
    enter and read (pytest's own tmp_path is readable by root alone)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def shared_venv(folder, *locks):
    """A virtual environment at `folder` (inside a shared_folder), from
    Debian's Python, holding exactly the hashed `locks` (paths); its python.
    Compiled to bytecode, as a hub image's Python is: users cannot write
    __pycache__ here, and without it every start compiles every import."""
    subprocess.run(
        [str(UV), "venv", "--quiet", "--python", str(SYSTEM_PYTHON), str(folder)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    python = folder / "bin" / "python"
    subprocess.run(
        [str(UV), "pip", "sync", "--quiet", "--python", str(python)]
        + ["--require-hashes", "--link-mode", "hardlink", "--compile-bytecode"]
        + list(map(str, locks)),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return python


def class_venv(cache=CLASS_VENVS):
    """The python of the class's environment (CLASS_LOCKS), made by
    shared_venv the first time and kept in `cache` under the locks' digest; a
    test beside that is making it waits for it."""
    import fcntl  # POSIX: like system users, these tests run on Linux

    digest = hashlib.sha256(SYSTEM_PYTHON.resolve().as_posix().encode())
    for lock in [*CLASS_LOCKS, ROOT / "requirements" / "uv.txt"]:  # uv's too
        digest.update(lock.read_bytes())
    cache.mkdir(mode=0o755, exist_ok=True)
    info = cache.lstat()  # not a link someone else made, for one
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if info.st_uid != 0 or not stat.S_ISDIR(info.st_mode) or writable:
        raise PermissionError(
            f"{cache} must be a folder only root can write: remove it (a cache)"
        )
    folder = cache / digest.hexdigest()[:16]
    with open(cache / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time; the rest wait
        if not (folder / "complete").exists():  # none, or a run stopped midway
            shutil.rmtree(folder, ignore_errors=True)
            shared_venv(folder, *CLASS_LOCKS)
            (folder / "complete").touch()
    return folder / "bin" / "python"
