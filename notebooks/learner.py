"""What the learner has done, as IPython (which runs a notebook's cells) keeps
it: their names in user_ns, and the code of each cell they ran in its history
(the same as In[1:]). And how a check cell prints its line."""

import linecache
import re
import sys
import traceback

from IPython import get_ipython  # the notebook's shell, or None outside one

from course import lessons
from verdicts import CORRECT, NOT_YET, NotAttempted, NotYet, describe


class Exercise:
    """An exercise: its cell's id, and check(names, cells), which returns the Correct
    text or raises NotYet or NotAttempted. A check cell calls it (checks.check_about())
    and sees one line, in which a message's line breaks and indents read as spaces."""

    def __init__(self, cell):
        self.cell = cell

    @property
    def starter(self):
        """The code the exercise cell starts with, kept in the cell's metadata,
        which the learner's edits leave alone (course.py); "" if no lesson has it."""
        starters = [lesson.exercises for lesson in lessons()]  # each {id: starter}
        return next((s[self.cell] for s in starters if self.cell in s), "")

    def __call__(self, *_older_notebooks):  # which passed practice and such
        try:
            line = f"{CORRECT} {self.check(*ran())}"
        except (NotYet, NotAttempted) as verdict:
            line = f"{verdict.label} {verdict}"
        except Exception as error:  # a check never stops the notebook
            line = f"{NOT_YET} checking your code raised {describe(error)}."
        print(re.sub(r"\s*\n\s*", " ", line))

    def untouched(self, code):
        """Whether a cell's code is the starter, give or take blank space."""
        return code.split() == self.starter.split()


def ran():
    """The learner's names and the code of the cells they ran, oldest first,
    but for the running check cell."""
    shell = get_ipython()
    if shell is None:  # not in a notebook
        return {}, []
    return shell.user_ns, list(shell.history_manager.input_hist_raw[1:-1])


def raised(code):
    """The error that the cell `code` raised when it last ran, or None. A syntax
    error shows in the code itself; IPython's last_execution_result tells how the
    cell run just before this check went; for an earlier cell, the error IPython
    keeps (sys.last_value) is its error if its traceback runs through that cell's
    code (IPython keeps each cell's code in linecache)."""
    shell = get_ipython()
    if shell is None or code not in shell.history_manager.input_hist_raw:
        return None
    python = shell.transform_cell(code)
    try:
        compile(python, "your cell", "exec")
    except SyntaxError as error:
        return error
    last = shell.last_execution_result
    if last is not None and last.info.raw_cell.rstrip("\n") == code:
        return last.error_before_exec or last.error_in_exec
    for frame, _ in traceback.walk_tb(getattr(sys, "last_traceback", None)):
        lines = linecache.getlines(frame.f_code.co_filename)
        if "".join(lines).rstrip("\n") == python.rstrip("\n"):
            return sys.last_value
    return None


def last_cell_that_sets(name, cells):
    """The code of the last cell run that sets `name` (name = ...), or ""."""
    sets = re.compile(rf"^\s*{name}\s*=(?!=)", re.MULTILINE)
    return next((code for code in reversed(cells) if sets.search(code)), "")


def only_checks(code):
    """Whether a cell only runs checks, as the check cells do."""
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    return all(line == "import checks" or line.startswith("checks.") for line in lines)


def cells_after(code, cells):
    """The cells run after the last one whose code is `code` (none if none is)."""
    return cells[len(cells) - cells[::-1].index(code) :] if code in cells else []
