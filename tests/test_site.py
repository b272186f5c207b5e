"""The lessons as a static website (`make site`), read in a real browser.

Builds the site once for this module into a temporary folder, serves it with
`python -m http.server` on 127.0.0.1, and walks it in headless Chromium from the
home page: every page and every link on it, the lessons' outputs, pictures and
collapsed solutions, and the search. Any request to another host fails the test.
"""

import importlib.util
import os
import re
import sys
from urllib.parse import unquote, urldefrag, urlsplit

import nbformat
import pytest

from conftest import (
    LESSONS,
    ROOT,
    Process,
    free_port,
    markdown_cells,
    wait_until_listening,
)
from test_browser import CHROMIUM, CHROMIUM_FLAGS, browser_missing_reason

pytestmark = pytest.mark.browser

BUILD = ROOT / ".site" / "build.py"
BUILD_SECONDS = 15  # what `make site` may take on the 2-core machine we develop on
PAGE_MS = 10_000  # for one page to load, or the search to answer
RAW_SOURCES = (".ipynb", ".md")


def site_missing_reason():
    for module in ("sphinx", "myst_nb", "furo"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -r requirements-dev.txt)"
    return browser_missing_reason()


def title_of(markdown):
    return re.search(r"^# (.+)$", markdown, flags=re.M)[1].strip()


def saved_outputs(lesson):
    """The text of every output saved in the notebook, as a reader should see it."""
    for cell in nbformat.read(lesson, as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                yield output.text
            elif "text/plain" in output.get("data", {}):
                yield output.data["text/plain"]


def words(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`.site/build.py` run once, into a temporary folder: what `make site` does."""
    reason = site_missing_reason()
    if reason:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set, but {reason}")
        pytest.skip(reason)
    output = tmp_path_factory.mktemp("site") / "_site"
    process = Process([sys.executable, str(BUILD), str(output)])
    code, seconds = process.wait(timeout=60)
    assert code == 0, f"the build failed: {''.join(process.stdout_log)}{process.stderr}"
    assert seconds <= BUILD_SECONDS, f"the build took {seconds:.1f}s"
    return output


@pytest.fixture(scope="module")
def origin(site):
    """The site served by `python -m http.server` on 127.0.0.1."""
    port = free_port()
    command = ["-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site)]
    process = Process([sys.executable, *command, str(port)])
    try:
        wait_until_listening(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser(origin):
    """A headless Chromium page that may only talk to the site's own server.

    `browser.elsewhere` lists every request for another host (each is refused),
    `browser.broken` every request to the site that did not answer 200.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            context = chromium.new_context()
            page = context.new_page()
            page.set_default_timeout(PAGE_MS)
            page.elsewhere = []
            page.broken = []

            def only_the_site(route):
                url = route.request.url
                if url.startswith(f"{origin}/"):
                    route.continue_()
                else:
                    page.elsewhere.append(url)
                    route.abort()

            def answered(response):
                # Chromium asks for /favicon.ico by itself; the site has none.
                path = urlsplit(response.url).path
                if response.status != 200 and path != "/favicon.ico":
                    page.broken.append(f"{response.status} {response.url}")

            context.route("**/*", only_the_site)
            page.on("response", answered)
            yield page
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def walk(browser, origin):
    """Every page reached by following links from the home page.

    Returns {url: what the page showed}, and the problems met on the way.
    """
    pages, problems, anchors = {}, [], []
    queue = [f"{origin}/"]
    while queue:
        url = queue.pop(0)
        if url in pages:
            continue
        response = browser.goto(url, wait_until="load")
        kind = response.headers.get("content-type", "")
        if response.status != 200 or not kind.startswith("text/html"):
            problems.append(f"{url}: {response.status} {kind}")
            pages[url] = None
            continue
        pages[url] = {
            "title": browser.locator("h1").first.inner_text(),
            "ids": set(browser.eval_on_selector_all("[id]", "es => es.map(e => e.id)")),
            "images": browser.eval_on_selector_all(
                "img",
                "es => es.map(e => ({src: e.src, alt: e.alt,"
                " width: e.complete ? e.naturalWidth : 0}))",
            ),
        }
        links = browser.eval_on_selector_all(
            "a[href]",
            "es => es.map(a => ({href: a.href, download: a.hasAttribute('download')}))",
        )
        for link in links:
            target, fragment = urldefrag(link["href"])
            if not target.startswith(f"{origin}/"):
                continue  # another site: a link to read, never fetched here
            if link["download"]:
                answer = browser.request.get(target)
                if answer.status != 200:
                    problems.append(f"{url}: download {target} answers {answer.status}")
                continue
            if target.endswith(RAW_SOURCES):
                problems.append(f"{url}: links to a raw file, {target}")
                continue
            if fragment:
                anchors.append((url, target, unquote(fragment)))
            queue.append(target)
    for source, target, fragment in anchors:
        if pages.get(target) and fragment not in pages[target]["ids"]:
            problems.append(f"{source}: no #{fragment} in {target}")
    return pages, problems


def page_of(lesson, origin):
    return f"{origin}/notebooks/{lesson.stem}.html"


def test_every_link_lands_on_a_page(walk, browser):
    pages, problems = walk
    assert problems == []
    assert browser.broken == []
    assert browser.elsewhere == [], "the site fetched from another host"


def test_home_page_is_the_readme(walk, origin):
    pages, _ = walk
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert title_of(readme) in pages[f"{origin}/"]["title"]


def test_every_picture_shows_with_its_alt_text(walk):
    pages, _ = walk
    for url, page in pages.items():
        for image in page["images"]:
            assert image["width"] > 0, f"{url}: {image['src']} does not show"
            assert image["alt"].strip(), f"{url}: {image['src']} has no alt text"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lesson_page(walk, browser, origin, lesson):
    """The lesson's page, reached by links, shows what the notebook saved."""
    pages, _ = walk
    url = page_of(lesson, origin)
    assert url in pages, f"no link leads to {url}"
    cells = markdown_cells(lesson)
    assert title_of("\n".join(cells)) in pages[url]["title"]
    pictures = sum(len(re.findall(r"!\[[^\]]*\]\(", cell)) for cell in cells)
    assert len(pages[url]["images"]) >= pictures, "a picture is missing"

    browser.goto(url, wait_until="load")
    shown = words(browser.locator("article").inner_text())
    outputs = [words(text) for text in saved_outputs(lesson)]
    assert outputs, "the notebook has no saved outputs"
    for output in outputs:
        assert output in shown, f"the saved output {output!r} is not shown"

    # Hints and solutions are <details>, closed; a fenced block in one is code.
    expected = [
        "```" in block
        for cell in cells
        for block in re.findall(r"<details\b.*?</details>", cell, flags=re.S)
    ]
    details = browser.eval_on_selector_all(
        "article details",
        "ds => ds.map(d => ({open: d.open, code: d.querySelector('pre') !== null}))",
    )
    assert [d["code"] for d in details] == expected
    assert not any(d["open"] for d in details), "a solution is shown open"
    assert browser.elsewhere == []


def test_search_finds_lesson_two(walk, browser, origin):
    browser.goto(f"{origin}/", wait_until="load")
    browser.fill("form[role=search] input[name=q]", "evening")
    browser.press("form[role=search] input[name=q]", "Enter")
    lesson = LESSONS[1]
    browser.wait_for_function(
        """(path) => [...document.querySelectorAll("#search-results li a")]
             .some((a) => new URL(a.href).pathname === path)""",
        arg=f"/notebooks/{lesson.stem}.html",
    )
    assert browser.elsewhere == []
    assert browser.broken == []
