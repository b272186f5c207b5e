"""Sphinx settings for `make site`: the README and the lessons as a static website.

`.site/build.py` lays the landing page (`.site/index.md`), the README, the
CONTRIBUTING guide and MEASUREMENTS (when there are), the LICENSE and the notebooks
out in a temporary folder and runs Sphinx there with this file. Why Sphinx with myst-nb
(the engine of Jupyter Book 1) and the Furo theme: see "Why this generator" in
.site/build.py.
"""

import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

sys.path.insert(0, str(Path(__file__).parent / "notebooks"))  # the lessons' course.py
import course  # noqa: E402

project = "Your first web server"
root_doc = "index"  # the landing page, .site/index.md
# githubpages writes .nojekyll: GitHub Pages would otherwise drop _static/.
extensions = ["myst_nb", "sphinx.ext.githubpages"]

# The pages (build.py lays them out).
include_patterns = [
    "index.md",
    "README.md",
    "CONTRIBUTING.md",
    "MEASUREMENTS.md",
    "LICENSE.md",
    "teaching/*.md",
    f"notebooks/{course.GLOB}",
]
# The committed notebooks, outputs and all: never executed again here.
nb_execution_mode = "off"
# Every heading gets the anchor GitHub gives it, so `README.md#serving-it-for-real`
# works on the site as it does on GitHub and in JupyterLab.
myst_heading_anchors = 6
# No `$...$` maths: the lessons have none, and MathJax would come from a CDN.
myst_enable_extensions = []
# Fenced blocks without a language (terminal sessions) stay plain text.
highlight_language = "none"

html_theme = "furo"
html_title = project
html_copy_source = False  # no raw .md or .ipynb reachable from a page
html_show_sourcelink = False
html_show_copyright = False  # the License page says it
html_use_index = False  # no API to index: the index page would be empty
# Without an icon named in every page, browsers ask for /favicon.ico, a 404 that
# Lighthouse counts as a console error.
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["site.css"]
# site.js: code blocks that scroll sideways take the keyboard focus; the search
# page's snippets skip the lesson navigation line (see the file).
html_js_files = ["site.js"]
html_extra_path = ["_extra"]  # the notebooks beside their pages, to download

# A lesson's navigation line, in its first and last Markdown cells:
# "< [1. Hello world](01_hello_world.ipynb) | [Contents](../README.md) | ... >".
NAV_TEXT = re.compile(r"^(<\s*)?[^|<>]+(\s*\|\s*[^|<>]+)+(\s*>)?$")
DESCRIPTION_CHARACTERS = 155  # what search engines show of a description


def add_download_link(app, doctree):
    """A "Download this notebook" link, with the HTML `download` attribute, at the
    top of each lesson: the notebook itself is copied beside its page."""
    source = Path(app.env.doc2path(app.env.docname))
    if source.suffix != ".ipynb":
        return
    link = (
        f'<p class="download-notebook"><a href="{source.name}" download>'
        f"Download this notebook ({source.name})</a></p>"
    )
    doctree.insert(0, nodes.raw("", link, format="html"))


def is_lesson_nav(paragraph):
    """Whether a paragraph is a lesson's navigation line: links and separators only."""
    if not NAV_TEXT.match(paragraph.astext().strip()):
        return False
    # At doctree-read a link to another page is still a pending_xref.
    return all(
        isinstance(child, (nodes.reference, addnodes.pending_xref))
        or (isinstance(child, nodes.Text) and not child.strip("<>| \n"))
        for child in paragraph.children
    )


def mark_lesson_nav(app, doctree):
    """Give each lesson's navigation line the class `lesson-nav`, so that the
    search snippets (site.js) and the page's description leave it out."""
    for paragraph in doctree.findall(nodes.paragraph):
        if is_lesson_nav(paragraph):
            paragraph["classes"].append("lesson-nav")


def describe(doctree, title):
    """The page's first paragraph of text, cut at a word to fit a search result."""
    for paragraph in doctree.findall(nodes.paragraph) if doctree else ():
        if "lesson-nav" in paragraph["classes"]:
            continue
        text = " ".join(paragraph.astext().split())
        if len(text) < 40:  # a label such as "Run this cell:", not a summary
            continue
        if len(text) > DESCRIPTION_CHARACTERS:
            text = text[: DESCRIPTION_CHARACTERS - 1].rsplit(" ", 1)[0] + "…"
        return text
    about = f"{project}: a beginner's Python lesson, one Jupyter notebook at a time."
    return about if title == project else f"{title}. {about}"


def add_description(app, pagename, templatename, context, doctree):
    """A <meta name="description"> on every page: search engines show it, and
    Lighthouse's SEO score asks for it."""
    title = re.sub(r"<[^>]+>", "", context.get("title") or project)
    description = describe(doctree, title)
    escaped = description.replace("&", "&amp;").replace('"', "&quot;")
    escaped = escaped.replace("<", "&lt;")
    meta = f'<meta name="description" content="{escaped}">\n'
    context["metatags"] = context.get("metatags", "") + meta


def setup(app):
    app.connect("doctree-read", add_download_link)
    app.connect("doctree-read", mark_lesson_nav)
    app.connect("html-page-context", add_description)
