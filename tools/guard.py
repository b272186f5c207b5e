"""make's guard: whether `make test`, `make update` or `make reset` can start here.

    python tools/guard.py test         prints why not, and exits 1; else nothing, 0
    python tools/guard.py reset 2      the same for `make reset LESSON=2`

make runs this while it reads the Makefile, before anything is installed, with
whatever Python it has: so this needs only the standard library and git.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: lessons.py is one folder up
    sys.path.insert(0, str(ROOT))

import lessons  # noqa: E402
from lessons import GitFailed, Problem, course, git, tags  # noqa: E402

CHANGED = (
    "Your lessons or server/ differ from the published ones, so the tests would"
    " judge your answers: run make progress to check your exercises (maintainers:"
    " commit or stash your changes first)."
)


def changed_lessons(root=ROOT):
    """Files in notebooks/ and server/ that differ from the last commit (new
    files included); where this is no git clone (a ZIP download), the lessons
    with an answered exercise."""
    try:
        status = git(root, "status", "--porcelain", "--", "notebooks", "server")
    except (GitFailed, Problem):
        paths = sorted((root / "notebooks").glob(course.GLOB))
        return [path.name for path in paths if has_answers(path)]
    return status.decode().splitlines()


def has_answers(path):
    """Whether an exercise cell of the lesson at `path` is not its starter (the
    code its metadata keeps, course.py) any more, blank space aside; or the
    lesson cannot be read."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return any(
            "".join(cell["source"]).split()
            != "".join(cell["metadata"].get("starter", "")).split()
            for cell in cells
            if "exercise" in tags(cell)
        )
    except (ValueError, KeyError, TypeError):
        return True


def not_ready(command, *args, root=ROOT):
    """The sentence saying why `command` ("test", "update", or "reset" and
    maybe a lesson) cannot start here, and what to do; None when it can."""
    try:
        if command == "test" and changed_lessons(root):
            return CHANGED
        if command == "update":
            lessons.upstream_name(root)
        if command == "reset":
            lessons.to_reset(root, *args)
    except Problem as problem:
        return str(problem)
    except GitFailed:
        return None  # no sentence for that here: the command itself fails on it
    return None


def main(argv):
    command, *rest = argv or ["help"]
    if command not in ("test", "update", "reset") or len(rest) > 1:
        print(__doc__)
        return 2
    sentence = not_ready(command, *rest)
    if sentence:
        print(sentence)  # make stops with it (see the Makefile)
    return 1 if sentence else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
