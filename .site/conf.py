"""Sphinx settings for `make site`: the README and the lessons as a static website.

`.site/build.py` lays the README, the LICENSE and the notebooks out in a
temporary folder and runs Sphinx there with this file. Why Sphinx with myst-nb
(the engine of Jupyter Book 1) and the Furo theme: see "Why this generator" in
.site/build.py.
"""

from pathlib import Path

from docutils import nodes

project = "Your first web server"
root_doc = "README"  # build.py also copies README.html to index.html
# githubpages writes .nojekyll: GitHub Pages would otherwise drop _static/.
extensions = ["myst_nb", "sphinx.ext.githubpages"]

# The pages: the README, CONTRIBUTING, the License and each lesson (build.py lays
# them out).
include_patterns = [
    "README.md",
    "CONTRIBUTING.md",
    "LICENSE.md",
    "notebooks/[0-9][0-9]_*.ipynb",
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
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_extra_path = ["_extra"]  # the notebooks beside their pages, to download


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


def setup(app):
    app.connect("doctree-read", add_download_link)
