"""The three labels a check's line starts with, each written here once.

Correct:        your code does what the exercise asks;
Not yet:        something is not right yet; the line says what to try;
Not attempted:  the exercise cell is still as it was, or has not run yet.
"""

CORRECT = "Correct:"
NOT_YET = "Not yet:"
NOT_ATTEMPTED = "Not attempted:"
LABELS = (CORRECT, NOT_YET, NOT_ATTEMPTED)
