"""Navigation: the README indexes the lessons, the lessons link like a book,
and every relative link resolves."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from helpers import LESSONS, ROOT, markdown_cells

README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
TEACHING = sorted((ROOT / "teaching").glob("*.md"))  # the teacher's pages
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def markdown_of(path):
    """The Markdown of a README, or of a notebook's Markdown cells."""
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    return markdown_cells(path)


def links(text):
    """Link targets in Markdown, leaving out fenced code blocks."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return LINK.findall(prose)


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    text = "\n".join(markdown_of(path))
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def relative_links():
    for source in [README, CONTRIBUTING, ROOT / "MEASUREMENTS.md", *TEACHING, *LESSONS]:
        for text in markdown_of(source):
            for target in links(text):
                if not re.match(r"[a-z]+:", target):
                    yield source, target


@pytest.mark.parametrize(
    ("source", "target"),
    list(relative_links()),
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_relative_link_resolves(source, target):
    path, _, anchor = unquote(target).partition("#")
    resolved = (source.parent / path).resolve() if path else source
    assert resolved.exists(), f"{source.name} links to a missing {target}"
    if anchor:
        assert anchor in anchors(resolved), f"{source.name}: no heading for #{anchor}"


def test_readme_indexes_every_lesson():
    targets = links(README.read_text(encoding="utf-8"))
    for lesson in LESSONS:
        assert f"notebooks/{lesson.name}" in targets, (
            f"README does not list {lesson.name}"
        )


@pytest.mark.parametrize("index", range(len(LESSONS)), ids=[p.name for p in LESSONS])
def test_lesson_opens_with_contents_and_closes_with_its_neighbours(index):
    cells = markdown_of(LESSONS[index])
    assert "../README.md" in links(cells[0]), "the first line should link the contents"
    closing = links(cells[-1])
    if index > 0:
        assert LESSONS[index - 1].name in closing, "no link to the previous lesson"
    if index + 1 < len(LESSONS):
        assert LESSONS[index + 1].name in closing, "no link to the next lesson"
    assert "../README.md" in closing
