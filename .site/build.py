"""Build the lessons, with a landing page and the README, into a static website:
`make site`.

    python .site/build.py [OUTPUT]      (OUTPUT defaults to _site)

The committed notebooks are rendered as they are, with their saved outputs:
nothing is executed. The site needs no network to build or to read: every
script, style sheet and font is in OUTPUT, so the folder can be published on
any static host as it is.

Why this generator: we tried each candidate on these lessons, with a picture
and a <details> solution added, on the 2-core machine we develop on, with no
network (Python 3.11; times are the whole command, wall clock):

- Sphinx + myst-nb, the engine of Jupyter Book 1, with the Furo theme (chosen):
  2.7 s (4.9 s before it skipped an import: tools/fast_nbformat.py). Links
  between the README and the notebooks (`02_good_evening.ipynb`,
  `../README.md#serving-it-for-real`, `LICENSE`) become links between pages,
  with GitHub's heading anchors, and a link or anchor that points nowhere
  fails the build. Raw HTML in Markdown cells
  passes through, a fenced block inside `<details>` is highlighted as code,
  pictures keep their alt text, and the search runs in the browser from a local
  index. Nothing comes from a CDN: MathJax would be added only to a page with
  maths, and maths is off.
- Jupyter Book 1 (`jupyter-book<2`, the same engine behind a command of its
  own): 5.7 s, and links work the same once heading anchors are on, but it
  pins older releases (Sphinx 7.4, myst-parser 3) and brings 16 more packages
  (LaTeX, BibTeX, Thebe, ...) that the lessons do not use; its theme's download
  button links the raw `.md` and `.ipynb` sources.
- Jupyter Book 2 (mystmd): builds nothing offline. It downloads its theme at
  build time (it asks api.mystmd.org for book-theme), and that theme is not an
  npm package (only its source libraries, @myst-theme/*, are).
- mkdocs-jupyter 0.26 with Material for MkDocs 9.8 (`theme.font: false`): 8 s
  without its cache. Links inside notebooks are left as they are, so
  `02_good_evening.ipynb` from a lesson page is a 404; each lesson page carries
  an empty `<script src="">` for MathJax and a Mermaid loader that would fetch
  from a CDN, and inlines 650 kB of CSS. Material prints at each build that it
  reaches its end of life on May 5, 2027, with Zensical as its successor.
  Zensical (0.0.72, the newest this registry can install: later ones need a
  zensical-ui it does not have) copies `.ipynb` files as they are: it does not
  render notebooks.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from notebooks import course  # noqa: E402
from tools import fast_nbformat  # noqa: E402, F401 (before nbformat: 2 s less)

LESSONS = [lesson.path for lesson in course.lessons(ROOT / "notebooks")]
# Sphinx writes this file into every HTML build: an OUTPUT holding it is ours to
# replace; any other non-empty folder is left alone.
MARKER = ".buildinfo"


def stage(source):
    """Lay out what the site is made of in `source`, a fresh folder."""
    lessons = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.py[cod]")
    shutil.copytree(ROOT / "notebooks", source / "notebooks", ignore=lessons)
    # The landing page, with the site's navigation in the sidebar: the lessons
    # (also the page order for previous/next), then the README, the maintainers'
    # guide when there is one, the License, and the guide's measurements page.
    toctree = "\n".join(f"notebooks/{lesson.stem}" for lesson in LESSONS)
    more = ["Set-up and reference (README) <README>"]
    if (ROOT / "CONTRIBUTING.md").exists():
        shutil.copy2(ROOT / "CONTRIBUTING.md", source / "CONTRIBUTING.md")
        more.append("CONTRIBUTING")
    # The teacher's guide and the pages beside it (teaching/), when there are;
    # the instructor notes are staged below, in no navigation.
    teaching = ROOT / "teaching"
    if (teaching / "README.md").exists():
        shutil.copytree(
            teaching, source / "teaching", ignore=shutil.ignore_patterns("hub")
        )
        pages = sorted(teaching.glob("*.md"), key=lambda page: page.name != "README.md")
        more += [
            f"teaching/{page.stem}"
            for page in pages
            if page.name != "instructor-notes.md"
        ]
    more.append("LICENSE")
    if (ROOT / "MEASUREMENTS.md").exists():
        shutil.copy2(ROOT / "MEASUREMENTS.md", source / "MEASUREMENTS.md")
        more.append("MEASUREMENTS")
    landing = (HERE / "index.md").read_text(encoding="utf-8")
    (source / "index.md").write_text(
        f"{landing}\n\n```{{toctree}}\n:hidden:\n:caption: Lessons\n\n{toctree}\n```\n"
        f"\n```{{toctree}}\n:hidden:\n:caption: More\n\n{chr(10).join(more)}\n```\n",
        encoding="utf-8",
    )
    shutil.copy2(ROOT / "README.md", source / "README.md")
    # The teacher's instructor notes, when there are some: a page of their own,
    # in no navigation (an orphan, which Sphinx builds without a warning) and
    # not in the search.
    notes = ROOT / "teaching" / "instructor-notes.md"
    if notes.exists():
        (source / "teaching").mkdir(exist_ok=True)
        (source / "teaching" / notes.name).write_text(
            "---\norphan: true\nnosearch: true\n---\n\n"
            + notes.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    # The README links to `LICENSE`, which becomes this page.
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    (source / "LICENSE.md").write_text(
        f"# License\n\n```text\n{license_text}```\n", encoding="utf-8"
    )
    # Copied into the site as they are: each notebook beside its page, for its
    # "Download this notebook" link, and the pictures, for any HTML <img> tag.
    shutil.copytree(ROOT / "notebooks", source / "_extra" / "notebooks", ignore=lessons)
    shutil.copy2(HERE / "conf.py", source / "conf.py")
    shutil.copytree(HERE / "_static", source / "_static")


# What the theme writes that we change in every built page, each with why.
FIXES = [
    # Sphinx marks the sidebar's "Lessons" caption role="heading" with no level:
    # an ARIA heading needs aria-level (axe's and Lighthouse's aria-required-attr).
    (
        '<p class="caption" role="heading">',
        '<p class="caption" role="heading" aria-level="2">',
    ),
    # Furo's two side panels are <aside> landmarks with no name: a screen reader
    # lists them as two identical "complementary" regions (axe: landmark-unique).
    (
        '<aside class="sidebar-drawer">',
        '<aside class="sidebar-drawer" aria-label="Site">',
    ),
    (
        '<aside class="toc-drawer">',
        '<aside class="toc-drawer" aria-label="On this page">',
    ),
    # Furo's search page has no <h1>, so nothing names the page for a screen
    # reader's list of headings (axe: page-has-heading-one). Sphinx's search
    # writes its "Search Results" <h2> inside #search-results, under this one.
    (
        '<div id="search-results"></div>',
        '<h1>Search</h1>\n<div id="search-results"></div>',
    ),
]


def fix_pages(html):
    """Apply FIXES to every page Sphinx wrote in `html`."""
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for old, new in FIXES:
            text = text.replace(old, new)
        page.write_text(text, encoding="utf-8")


def build(output):
    from sphinx.cmd.build import build_main

    output = Path(output).resolve()
    if output.exists() and any(output.iterdir()) and not (output / MARKER).exists():
        sys.exit(f"{output} holds files but no site we built: left as it is")
    with tempfile.TemporaryDirectory(prefix="site-") as work:
        work = Path(work)
        stage(work / "source")
        # Built in `work`, then moved: myst-nb writes a jupyter_execute/ folder
        # beside the HTML folder, and a failed build leaves the last site as it was.
        code = build_main(
            [
                "--builder=html",
                "--fail-on-warning",  # a broken link or anchor fails the build
                "--quiet",
                f"--doctree-dir={work / 'doctrees'}",
                str(work / "source"),
                str(work / "html"),
            ]
        )
        if code:
            sys.exit(code)
        html = work / "html"
        fix_pages(html)
        # Sphinx leaves an empty _sources/ when told not to copy the sources.
        sources = html / "_sources"
        if sources.is_dir() and not any(sources.iterdir()):
            sources.rmdir()
        if output.exists():
            shutil.rmtree(output)
        shutil.move(html, output)
    return output


def main():
    started = time.monotonic()
    output = build(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_site")
    seconds = time.monotonic() - started
    print(f"Site built in {seconds:.1f}s: {output}")
    print(
        f"Look at it: python -m http.server --bind 127.0.0.1 --directory {output} 8000"
    )
    print("then open http://127.0.0.1:8000/")


if __name__ == "__main__":
    main()
