"""The lessons, as their notebooks say, and the check in their first cell.

A lesson is a notebook NN_name.ipynb in this folder: its number NN, its title
from its "# N. Title: ..." heading, its exercises the cells tagged `exercise`
(by id, with the starter their metadata keeps), and the files its `%%writefile
../server/...` cells write. It needs the files earlier lessons write and it does not."""

import json
import re
import runpy
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
GLOB = "[0-9][0-9]_*.ipynb"


class Lesson(NamedTuple):
    number: int
    path: Path
    title: str  # such as "Hello world"
    exercises: dict  # {id of each exercise cell, in order: its starter}
    writes: dict  # {file in server/: the code its last cell for it writes}

    def __str__(self):
        return f"lesson {self.number} ({self.path.name})"


def lessons(folder=HERE):
    """Every lesson in `folder`, in order."""
    found = []
    for path in sorted(Path(folder).glob(GLOB)):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = ["".join(cell["source"]) for cell in cells]
        title = re.search(r"^# \d+\. ([^:\n]+)", "\n".join(text), re.M)[1]
        tagged = [c for c in cells if "exercise" in c["metadata"].get("tags", [])]
        starters = {
            c.get("id"): "".join(c["metadata"].get("starter", "")) for c in tagged
        }  # an id only once make lessons gave one
        wrote = [(re.match(r"%%writefile \.\./server/(\S+)\n", s), s) for s in text]
        writes = {m[1]: s[m.end() :] for m, s in wrote if m}
        found.append(Lesson(int(path.name[:2]), path, title, starters, writes))
    return found


class LessonSkipped(Exception):
    """Stops a lesson whose earlier lessons have not run; Jupyter shows one line."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [str(self)]


def ready_for_lesson(number, folder=HERE):
    """Stop the lesson with one sentence unless the earlier lessons wrote server/."""
    course = [lesson for lesson in lessons(folder) if lesson.number <= number]
    if not course or course[-1].number != number:
        raise ValueError(f"there is no lesson {number}")
    needs = {}  # {file: the lessons before this one that write it}
    for lesson in course[:-1]:
        for name in lesson.writes.keys() - course[-1].writes.keys():
            needs.setdefault(name, []).append(lesson)
    for name, wrote in sorted(needs.items(), key=lambda item: item[1][-1].number):
        versions = [lesson.writes[name] for lesson in wrote]
        problem, when = _problem(folder.parent / "server" / name, *versions[-2:])
        if problem:
            raise LessonSkipped(f"server/{name} {problem}: run {wrote[-1]} {when}.")
    numbers = sorted({wrote[-1].number for wrote in needs.values()})
    listed = " and ".join(", ".join(map(str, numbers)).rsplit(", ", 1))
    verb = "lessons {} have" if len(numbers) > 1 else "lesson {} has"
    print(f"Ready: {verb.format(listed)} written server/.")


def _problem(path, *published):
    """What is wrong with a file a lesson needs, and "first" or "again"; or
    (None, None). `published`: the last two versions lessons wrote into it. An
    app in it runs on its own, not imported, and must answer every page as the
    last version does; a page the version before lacked is not there "yet"."""
    from flask import Flask  # here: lessons.py reads the lessons without it

    from verdicts import describe  # beside this file, as lessons' kernels find it

    apps = re.findall(r"^(\w+) = Flask\(", published[-1], re.M)
    try:
        source = path.read_text(encoding="utf-8")
        if not apps:  # such as __init__.py: there, and Python
            compile(source, path.name, "exec")
            return (None, None) if source.strip() else ("is missing or broken", "first")
        mine, theirs = runpy.run_path(str(path)), {"__name__": "published"}
        exec(published[-1], theirs)
    except Exception as error:
        if not apps or isinstance(error, OSError):
            return "is missing or broken", "first"
        return f"is empty or broken ({describe(error)})", "first"
    known = re.findall(r'\.route\("([^"]*)"\)', published[0]) if published[1:] else []
    for name in apps:
        if not isinstance(mine.get(name), Flask):
            return f"is empty or broken (it defines no {name})", "first"
        mine[name].testing = True  # an error in a page is raised here, not logged
        for rule in theirs[name].url_map.iter_rules():
            if rule.arguments or "GET" not in rule.methods:
                continue  # such as /static/<filename>
            want = theirs[name].test_client().get(rule.rule)
            got = mine[name].test_client().get(rule.rule)
            if got.status_code == 404 and rule.rule not in known:
                return f"has no {rule.rule} route yet", "first"
            if (got.status_code, got.data) != (want.status_code, want.data):
                return f"does not answer GET {rule.rule} with {want.text!r}", "again"
    return None, None
