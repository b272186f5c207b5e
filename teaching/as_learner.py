"""One learner's lessons, run as that learner: what `python lessons.py class`
(teaching/classroom.py) starts for each learner's folder, already switched to
the folder's owner, their groups dropped.

    python -I as_learner.py FOLDER PROJECT CELL_SECONDS DEADLINE

FOLDER is the learner's copy of the lessons, read here with the learner's own
rights only. PROJECT is a scratch folder the learner owns; its notebooks/ is
the teacher's (the published lessons and checks, which the learner cannot
change). Each of the learner's lessons runs there (Restart & Run All, in a
kernel of its own) with the published check cells in place of whatever the
learner's copy has, a cell still running after CELL_SECONDS is stopped, and
all of it ends by DEADLINE seconds. Prints one line of JSON:
{lesson file: {"checks": {check cell id: verdict line}, "errors": [...]}
or {"not run": why, in a few words}}.
"""

import asyncio
import copy
import json
import os
import shutil
import sys
import time
from pathlib import Path

MACHINERY = Path(__file__).resolve().parent.parent  # the teacher's copy
sys.path.insert(0, str(MACHINERY))

import lessons  # noqa: E402
from notebooks import course  # noqa: E402


def with_published_checks(mine, published):
    """`mine` (a notebook) with each check cell as `published` has it: a cell
    with a published check's id becomes that check, a check cell the learner
    added counts for nothing, and a check they deleted comes back after the
    cell it followed."""
    checks = {c.id: c for c in published.cells if "check" in lessons.tags(c)}
    cells = []
    for cell in mine.cells:
        if cell.get("id") in checks:
            cell = copy.deepcopy(checks[cell.id])
        elif "check" in lessons.tags(cell):
            cell.metadata["tags"] = [t for t in lessons.tags(cell) if t != "check"]
        cells.append(cell)
    ids = [cell.get("id") for cell in published.cells]
    for check_id, check in checks.items():
        if check_id in [cell.get("id") for cell in cells]:
            continue
        before = ids[ids.index(check_id) - 1]
        at = [cell.get("id") for cell in cells]
        place = at.index(before) + 1 if before in at else len(cells)
        cells.insert(place, copy.deepcopy(check))
    mine.cells = cells
    return mine


def read_lesson(path):
    """The learner's notebook at `path`, or why it cannot be run."""
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "no notebook"
    except PermissionError:
        return None, "notebook unreadable"
    except (OSError, UnicodeError):
        return None, "notebook unreadable"
    try:
        return nbformat.reads(text, as_version=4), None
    except nbformat.reader.NotJSONError:
        return None, "not JSON"
    except Exception:
        return None, "not a notebook"


async def run_lessons(folder, project, cell_seconds, deadline, results):
    for lesson in course.lessons(project / "notebooks"):
        name = lesson.path.name
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            results[name] = {"not run": "out of time"}
            continue
        mine, why = read_lesson(folder / "notebooks" / name)
        if why:
            results[name] = {"not run": why}
            continue
        import nbformat

        published = nbformat.read(lesson.path, as_version=4)
        notebook = with_published_checks(mine, published)
        run = lessons.run_notebook(notebook, project, cell_seconds, local=True)
        try:
            await asyncio.wait_for(run, remaining)
        except Exception as error:  # out of time, or the kernel died
            # (nbclient turns the cancelling of a cell by wait_for into its
            # DeadKernelError: the clock tells the two apart)
            late = isinstance(error, asyncio.TimeoutError)
            late = late or time.monotonic() >= deadline
            why = "out of time" if late else f"run failed ({type(error).__name__})"
            results[name] = {"not run": why}
            continue
        lines, errors = lessons.verdicts(notebook, name[:2], cell_seconds)
        ids = [c.get("id") for c in notebook.cells if "check" in lessons.tags(c)]
        results[name] = {"checks": dict(zip(ids, lines, strict=True)), "errors": errors}


def main(folder, project, cell_seconds, seconds):
    deadline = time.monotonic() + float(seconds)
    folder, project = Path(folder), Path(project)
    # The verdicts go out on the stdout we were given; every kernel, and what
    # the learner's code starts, writes to /dev/null instead.
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    if (folder / "server").is_dir():  # as the learner saved it (lessons rewrite it)
        try:
            shutil.copytree(folder / "server", project / "server", ignore=ignore)
        except OSError:
            pass  # the lessons write it again; what they need says so
    results = {}
    cell = float(cell_seconds)
    cell = int(cell) if cell.is_integer() else cell  # "30 s" in a message, not "30.0 s"
    asyncio.run(run_lessons(folder, project, cell, deadline, results))
    out.write(json.dumps(results) + "\n")
    out.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
