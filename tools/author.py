"""`make lessons`: after you write an exercise's cells or a new lesson, the rest.

    python tools/author.py          (the project's Python, from the project folder)

What a maintainer used to do by hand (CONTRIBUTING.md, "Add an exercise"):

1. Refuses lessons with answers in them: a published exercise cell (one the last
   commit has) whose code is not the starter its metadata keeps, as `make test`'s
   guard does. A learner's answer never becomes a starter. To change a published
   starter, delete the cell's "starter" metadata too. Without git, every exercise
   cell with a starter counts as published.
2. Writes each lesson's navigation line, from the order of the lessons: the
   lesson before, the contents, the next (for the last lesson, the README's
   "Serving it for real"), as the first cell and at the end of the last
   Markdown cell. A new lesson needs no navigation of its own, nor an edit of
   the lesson before.
3. Gives each cell without an id of its lesson's form (`02-14`, `03-06a`) a new
   one, the lesson's next number, which no cell has ever had: ids are `make
   update`'s merge key. Every committed version of the lessons is read from git;
   without git (a ZIP download) only the lessons as they are now, and it says so.
   A new exercise's line in checks.py may leave the id empty,
   `check_night = Route("", "/night", "Good night")`: it is filled in here.
4. Writes the `starter` metadata of each exercise cell that has none, or is not
   yet committed (edit a new exercise freely), from its code.
5. Drops what varies from run to run: execution timings, and how the kernel
   split a cell's printing into pieces.
6. Runs every lesson in order, from notebooks/, each in a fresh kernel, as
   `make test` does, and saves it with its real outputs (a file is rewritten
   only if it changed). It stops at a cell that raises or writes to stderr,
   naming it; exercise cells keep their starters, and each check cell must
   show `Not attempted`.
7. Says what else needs a word (a README line, a picture, what ruff says
   of the lessons...), if anything.

Run on lessons that need none of this, it changes nothing.
"""

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # lessons.py and notebooks/, from any folder

import lessons  # noqa: E402 (the runner make progress and the tests use)
from notebooks import course  # noqa: E402
from notebooks.verdicts import NOT_ATTEMPTED  # noqa: E402

VARIES = ("execution", "ExecuteTime")  # cell metadata that changes at every run
CELL_SECONDS = 60  # a lesson cell still running after this long is an error
CONTENTS = "[Contents](../README.md)"  # the middle of every navigation line
# Where the last lesson's navigation line leads.
AFTER_LAST = "[Serving it for real](../README.md#serving-it-for-real) >"


class Stop(Exception):
    """Why the lessons cannot be saved; the message says what to do."""


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def starter(cell):
    return "".join(cell.metadata.get("starter", ""))


def cell_ids(text):
    """The cell ids of a notebook's JSON text (none if it cannot be read)."""
    try:
        return {cell.get("id") for cell in json.loads(text)["cells"]} - {None}
    except (ValueError, KeyError, TypeError):
        return set()


def published_ids(root):
    """(every id a committed version of a lesson ever had, the ids of the last
    commit's lessons); None where there is no git history."""
    try:
        log = lessons.git_text(
            root, "log", "--format=%H", "--name-only", "--", "notebooks/*.ipynb"
        )
        head = lessons.git_text(root, "ls-tree", "--name-only", "HEAD", "notebooks/")
    except (lessons.GitFailed, lessons.Problem):
        return None
    wanted, commit = [], None
    for line in filter(None, log.splitlines()):
        if re.fullmatch(r"[0-9a-f]{40}", line):
            commit = line
        elif line.endswith(".ipynb"):
            wanted.append(f"{commit}:{line}")
    last = [f"HEAD:{path}" for path in head.splitlines() if path.endswith(".ipynb")]
    if not wanted:
        return None
    batch = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="".join(f"{name}\n" for name in wanted + last).encode(),
        capture_output=True,
        check=True,
    ).stdout
    ever, now = set(), set()
    for name in wanted + last:
        header, batch = batch.split(b"\n", 1)
        if header.endswith(b" missing"):
            continue
        size = int(header.split()[2])
        ids = cell_ids(batch[:size].decode("utf-8", errors="replace"))
        (now if name.startswith("HEAD:") else ever).update(ids)
        batch = batch[size + 1 :]
    return ever | now, now


def refuse_answers(notebooks, published):
    """Stop if a published exercise cell (in the last commit; without git, any
    with a starter) is not the starter its metadata keeps."""
    answered = [
        (path, f"{path.name}, cell {cell.get('id')}")
        for path, notebook in notebooks.items()
        for cell in notebook.cells
        if "exercise" in tags(cell)
        and "starter" in cell.metadata
        and (published is None or cell.get("id") in published[1])
        and cell.source.split() != starter(cell).split()
    ]
    if answered:
        lesson = int(answered[0][0].name[:2])
        raise Stop(
            f"{'; '.join(cell for _, cell in answered)}: the exercise cell is not the"
            " starter its metadata keeps (an answer, or a changed starter). Put the"
            f" starter back (make reset LESSON={lesson}), or, to change the starter,"
            ' delete the cell\'s "starter" metadata too; then run make lessons again.'
        )


def give_ids(notebooks, published, say):
    """Give every cell without a proper id a new one; {old id: new id}."""
    ever, last = published if published else (set(), set())
    if published is None:
        say(
            "No git history here: new ids avoid the ids of the lessons as they are"
            " now, not those of cells removed before (run this in a git clone)."
        )
    taken = ever | {c.get("id") for nb in notebooks.values() for c in nb.cells}
    renamed, kept = {}, set()
    for path, notebook in notebooks.items():
        prefix = path.name[:2]
        form = re.compile(rf"{prefix}-(\d+)[a-z]?")
        numbers = [int(m[1]) for i in taken if i and (m := form.fullmatch(i))]
        following = max(numbers, default=-1) + 1
        notebook.nbformat, notebook.nbformat_minor = (
            4,
            max(5, notebook.get("nbformat_minor", 0)),
        )
        given = []
        for cell in notebook.cells:
            old = cell.get("id")
            reused = old in ever and old not in last  # a removed cell's id
            if old and form.fullmatch(old) and old not in kept and not reused:
                kept.add(old)
                continue
            cell["id"] = f"{prefix}-{following:02d}"
            following += 1
            kept.add(cell.id)
            given.append(cell.id if old is None else f"{cell.id} (was {old})")
            if old:
                renamed[old] = cell.id
        if given:
            say(f"{path.name}: new cell ids {', '.join(given)}")
    return renamed


def write_starters(notebooks, published, say):
    """The starter of each exercise cell that has none, or that is not yet
    published (not in the last commit): its code, which you may still change."""
    last = published[1] if published else set()
    for path, notebook in notebooks.items():
        for cell in notebook.cells:
            if "exercise" not in tags(cell) or starter(cell) == cell.source:
                continue
            if "starter" not in cell.metadata or (published and cell.id not in last):
                cell.metadata["starter"] = cell.source.splitlines(keepends=True)
                say(f"{path.name}: cell {cell.id}'s code is now its starter")


def navigation(before, after):
    """A lesson's navigation line: the lesson before, the contents, the next."""
    back = f"< [{before.number}. {before.title}]({before.path.name})" if before else ""
    ahead = f"[{after.number}. {after.title}]({after.path.name}) >" if after else ""
    return " | ".join(filter(None, [back, CONTENTS, ahead or AFTER_LAST]))


def navigate(found, notebooks, say):
    """Write each lesson's navigation line, from the order of the lessons
    (`found`): its first cell (a Markdown cell of its own, added if there is
    none) and the end of its last Markdown cell (after a `---` line)."""
    import nbformat

    neighbours = zip([None, *found[:-1]], found, [*found[1:], None], strict=True)
    for before, lesson, after in neighbours:
        notebook, line = notebooks[lesson.path], navigation(before, after)
        cells = notebook.cells
        top = cells[0] if cells else None
        if not (top and top.cell_type == "markdown" and is_navigation(top.source)):
            cells.insert(0, nbformat.v4.new_markdown_cell(line))
            del cells[0]["id"]  # give_ids gives it one of the lesson's form
        first = cells[0]
        last = [cell for cell in cells if cell.cell_type == "markdown"][-1]
        lines = last.source.rstrip().splitlines()
        if last is not first and lines and is_navigation(lines[-1]):
            lines = lines[:-1]
            while lines and lines[-1].strip() in ("", "---"):
                lines.pop()
        ending = "\n".join(lines) + "\n\n---\n" + line if last is not first else line
        if (first.source, last.source) != (line, ending):
            first.source, last.source = line, ending
            say(f"{lesson.path.name}: its navigation lines written")


def is_navigation(text):
    return CONTENTS in text and len(text.strip().splitlines()) == 1


def strip(notebook):
    """Drop what varies from run to run: timings, and how a kernel happened to
    split what a cell printed (one output per stream, as JupyterLab saves it)."""
    for cell in notebook.cells:
        for key in VARIES:
            cell.metadata.pop(key, None)
        merged = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else {}
            if output.output_type == "stream" == last.get("output_type") and (
                output.name == last.name
            ):
                last.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def declare(root, notebooks, renamed, say):
    """Fill in checks.py's empty (or renamed) id of each exercise's line; the
    lines that are missing or name another cell, as things to do."""
    path = root / "notebooks" / "checks.py"
    text = original = path.read_text(encoding="utf-8")
    todo, exercise_ids = [], set()
    for lesson, notebook in notebooks.items():
        cells = notebook.cells
        for index, cell in enumerate(cells):
            if "exercise" not in tags(cell):
                continue
            exercise_ids.add(cell.id)
            check = next((c for c in cells[index + 1 :] if "check" in tags(c)), None)
            called = re.search(r"checks\.(\w+)\(", check.source) if check else None
            if not called:
                todo.append(f"{lesson.name}: exercise {cell.id} has no check cell")
                continue
            line = re.compile(rf'^({called[1]} = \w+\(\s*")([^"]*)"', re.M)
            found = line.search(text)
            if not found:
                todo.append(
                    f"checks.py has no line for {called[1]} (exercise {cell.id}):"
                    f' add one, such as {called[1]} = Route("{cell.id}", "/path",'
                    ' "Text")'
                )
            elif found[2] in ("", *[o for o, new in renamed.items() if new == cell.id]):
                text = text[: found.start(2)] + cell.id + text[found.end(2) :]
                say(f"checks.py: {called[1]} checks cell {cell.id}")
            elif found[2] != cell.id:
                todo.append(
                    f"checks.py: {called[1]} names cell {found[2]}, but its"
                    f" exercise cell is {cell.id}"
                )
    if text != original:
        path.write_text(text, encoding="utf-8")
    return todo


def save(notebook, path):
    """Write `notebook` as JupyterLab does, if that changes the file."""
    import nbformat

    text = nbformat.writes(notebook) + "\n"
    if path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        return True
    return False


def first_line(cell):
    return (cell.source.strip().splitlines() or [""])[0]


def run(root, path, say):
    """Run one lesson in a fresh kernel and save it; Stop at a cell that raised."""
    notebook = lessons.run_lesson(path, root, CELL_SECONDS)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                what = f"raised {output.ename}: {output.evalue}"
            elif output.get("name") == "stderr":  # red text below the cell
                what = f"printed to stderr: {output.text.strip()[-300:]}"
            else:
                continue
            raise Stop(
                f"{path.name}, cell {cell.id} ({first_line(cell)!r}) {what}. Fix"
                f" it, then run make lessons again ({path.name} was not saved)."
            )
        printed = "".join(o.get("text", "") for o in cell.outputs)
        if "check" in tags(cell) and not printed.startswith(NOT_ATTEMPTED):
            raise Stop(
                f"{path.name}, check cell {cell.id} printed {printed.strip()!r}, not"
                f" its {NOT_ATTEMPTED!r} line: the exercise cell above it must hold"
                " its starter, and checks.py its line."
            )
    strip(notebook)
    if save(notebook, path):
        say(f"{path.name}: saved with this run's outputs")


def needs_a_word(root, found):
    """What else a maintainer may have to change, derived from the lessons."""
    todo = []
    for listing in ("README.md", ".site/index.md"):
        text = text_of(root, listing)
        for lesson in found:
            if text is not None and f"notebooks/{lesson.path.name}" not in text:
                todo.append(
                    f"{listing}: no line for {lesson} in its list of lessons (a link"
                    f" to notebooks/{lesson.path.name})"
                )
    in_git = tracked(root, "notebooks", "server")
    new = [lesson for lesson in found if f"notebooks/{lesson.path.name}" not in in_git]
    for lesson, after in zip(found, [*found[1:], None], strict=True):
        markdown = [c for c in read(lesson.path) if c["cell_type"] == "markdown"]
        prose = "\n".join("".join(c["source"]) for c in markdown)
        if "images/" not in prose:
            todo.append(
                f"{lesson.path.name}: no picture from notebooks/images/ (with alt text)"
            )
        last = re.search(r"\b(?:last|final) lesson\b", prose, re.IGNORECASE)
        if last and after and new and lesson not in new:
            todo.append(
                f"{lesson.path.name} says {last[0]!r}, and {new[0].path.name} is new:"
                " say which lesson"
            )
    guide, exports = text_of(root, "CONTRIBUTING.md"), text_of(root, EXPORTS_TEST)
    for name in sorted({name for lesson in found for name in lesson.writes}):
        if in_git and f"server/{name}" not in in_git:
            todo.append(f"server/{name} is new: git add it")
        named = guide is None or f"server/{name}" in guide or f"`{name}`" in guide
        if not named:
            todo.append(f"server/{name}: say what it is in CONTRIBUTING.md's layout")
        if exports is not None and f'"{name}"' not in exports:
            todo.append(f"server/{name}: its name in {EXPORTS_TEST}'s whole package")
    return todo + counts_in_prose(root) + lint(root)


EXPORTS_TEST = "tests/test_exports.py"


def text_of(root, name):
    """A file's text, or None where this copy has no such file."""
    path = root / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


# tests/test_prose.py's rule, run in `root` as the suite runs it there.
PROSE = """
import test_prose
for where, text in test_prose.prose():
    for words in test_prose.untrue(where, text):
        print(f"{where}: {words}")
"""


def counts_in_prose(root):
    """Each count in the prose people read that the lessons now make untrue."""
    if not (root / "tests" / "test_prose.py").exists():
        return []
    paths = [root / "tests", root / "notebooks", root]
    result = subprocess.run(
        [sys.executable, "-c", PROSE],
        cwd=root,
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, paths))},
    )
    return [
        f"{line}: a count the lessons no longer make true (rephrase it without a"
        " number, or make it right)"
        for line in result.stdout.splitlines()
    ]


def lint(root):
    """What ruff (make lint) says of the lessons, a line each; none without ruff."""
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        return []
    said = []
    concise = ["--output-format", "concise"]  # a line each
    for command in (["check", *concise], ["format", "--check", *concise]):
        result = subprocess.run(
            [str(ruff), *command, "notebooks"],
            cwd=root,
            capture_output=True,
            encoding="utf-8",
        )
        said += [line for line in result.stdout.splitlines() if "notebooks/" in line]

    def by_id(line):  # ruff counts cells from 1; JupyterLab shows ids, no numbers
        lesson = re.search(r"notebooks/(\S+?\.ipynb):", line)
        if lesson:
            ids = [cell.get("id") for cell in read(root / "notebooks" / lesson[1])]
            line = re.sub(r"\bcell (\d+)", lambda n: f"cell {ids[int(n[1]) - 1]}", line)
        return line

    return [f"ruff (make lint): {by_id(line)}" for line in said]


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def tracked(root, *folders):
    """The files git tracks in `folders`; none without git."""
    try:
        return set(lessons.git_text(root, "ls-files", *folders).splitlines())
    except (lessons.GitFailed, lessons.Problem):
        return set()


def author(root=ROOT, say=print):
    """Everything above, on the project at `root`; the list of things to do
    (empty when nothing else needs a word). Raises Stop."""
    paths = prepare(root, say)
    say(f"Running the lessons in order, each in a fresh kernel: {len(paths)} lessons.")
    for path in paths:
        run(root, path, say)
    return needs_a_word(root, course.lessons(root / "notebooks"))


def prepare(root, say):
    """Steps 1 to 5, which change the lessons' files without running them (and
    checks.py's ids); the lessons' paths, in order. Raises Stop."""
    import nbformat
    from nbformat.warnings import MissingIDFieldWarning

    found = course.lessons(root / "notebooks")
    paths = [lesson.path for lesson in found]
    with warnings.catch_warnings():  # a cell without an id: give_ids gives one
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        notebooks = {path: nbformat.read(path, as_version=4) for path in paths}
    published = published_ids(root)
    refuse_answers(notebooks, published)
    navigate(found, notebooks, say)
    renamed = give_ids(notebooks, published, say)
    write_starters(notebooks, published, say)
    for path, notebook in notebooks.items():
        strip(notebook)
        nbformat.validate(notebook)
        save(notebook, path)
    todo = declare(root, notebooks, renamed, say)
    if todo:
        raise Stop("Before the lessons can run: " + "; ".join(todo) + ".")
    return paths


def main():
    try:
        todo = author()
    except Stop as stop:
        print(stop)
        return 1
    if todo:
        print("What else needs a word:")
        for line in todo:
            print(f"- {line}")
    else:
        print("The lessons are saved; nothing else needs a word.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
