"""The lessons as a static website (`make site`), read in a real browser.

Builds the site once for this module into a temporary folder, serves it with
`python -m http.server` on 127.0.0.1, and walks it in headless Chromium from the
home page: every page and every link on it, the lessons' outputs, pictures and
collapsed solutions, and the search. Any request to another host fails the test.
axe-core (bundled by axe-playwright-python) checks every page for accessibility
at Furo's widest and narrowest layouts, light and dark, with hints and
solutions closed and open.
"""

import importlib.util
import os
import re
import shutil
import sys
import time
from urllib.parse import unquote, urldefrag

import nbformat
import pytest

from helpers import (
    LESSONS,
    ROOT,
    Process,
    busy_factor,
    free_port,
    markdown_cells,
    wait_until_listening,
    within,
)
from test_browser import CHROMIUM, CHROMIUM_FLAGS, browser_missing_reason

pytestmark = pytest.mark.browser

BUILD = ROOT / ".site" / "build.py"
BUILD_SECONDS = 15  # what `make site` may take on the 2-core machine we develop on
PAGE_MS = 10_000  # for one page to load, or the search to answer
LAPTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
LANDING_HEIGHT = 3_000  # px at 1280 wide: the whole landing page
RAW_SOURCES = (".ipynb", ".md")


def site_missing_reason():
    for module in ("sphinx", "myst_nb", "furo", "axe_playwright_python"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -r requirements/dev.txt)"
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
    busy = busy_factor()
    process = Process([sys.executable, str(BUILD), str(output)])
    code, seconds = process.wait(timeout=60)
    assert code == 0, f"the build failed: {''.join(process.stdout_log)}{process.stderr}"
    assert within(seconds, BUILD_SECONDS, busy), f"the build took {seconds:.1f}s"
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
                # Without the icon every page names, Chromium would ask for
                # /favicon.ico: a 404 here, and a console error in Lighthouse.
                if response.status != 200:
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
            "description": browser.evaluate(
                "document.querySelector('meta[name=description]')?.content"
            ),
            "icon": browser.evaluate("document.querySelector('link[rel~=icon]')?.href"),
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


def test_home_page_is_a_landing_page(walk, browser, origin):
    """What you will build, a line for each lesson and a start button, all on
    the first screen of a laptop; the start button also on a phone's."""
    pages, _ = walk
    assert pages[f"{origin}/"]["title"] == "Build your first web server"
    browser.set_viewport_size(LAPTOP)
    try:
        browser.goto(f"{origin}/", wait_until="load")
        article = browser.locator("article")
        assert "What you will build" in article.inner_text()
        lessons = article.locator("ol > li")
        assert lessons.count() == len(LESSONS)
        for item, lesson in zip(lessons.all(), LESSONS, strict=True):
            link = item.locator("a").first.get_attribute("href")
            assert link == f"notebooks/{lesson.stem}.html"
            assert (
                item.bounding_box()["y"] + item.bounding_box()["height"]
                <= LAPTOP["height"]
            ), f"the line for {lesson.name} is below the fold"
        height = browser.evaluate("document.documentElement.scrollHeight")
        assert height <= LANDING_HEIGHT, f"the landing page is {height} px tall"
        for viewport in (LAPTOP, PHONE):
            browser.set_viewport_size(viewport)
            start = browser.get_by_role("link", name="Start lesson 1")
            assert start.get_attribute("href") == f"notebooks/{LESSONS[0].stem}.html"
            box = start.bounding_box()
            assert box["y"] + box["height"] <= viewport["height"], (
                f"the start button is below the fold at {viewport['width']} px"
            )
    finally:
        browser.set_viewport_size(LAPTOP)


def test_readme_is_a_page(walk, origin):
    pages, _ = walk
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert title_of(readme) in pages[f"{origin}/README.html"]["title"]


def test_contributing_is_a_page_when_there_is_one(tmp_path, monkeypatch):
    """The build lists CONTRIBUTING.md among the pages when the project has one,
    and builds without it when it has none (checked on the staged sources)."""
    spec = importlib.util.spec_from_file_location("site_build", BUILD)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    project = tmp_path / "project"
    for name in ("notebooks", ".site"):
        shutil.copytree(ROOT / name, project / name)
    for name in ("README.md", "LICENSE"):
        shutil.copy2(ROOT / name, project / name)
    monkeypatch.setattr(build, "ROOT", project)
    build.stage(tmp_path / "without")
    assert not (tmp_path / "without" / "CONTRIBUTING.md").exists()
    assert "CONTRIBUTING" not in (tmp_path / "without" / "index.md").read_text(
        encoding="utf-8"
    )
    (project / "CONTRIBUTING.md").write_text("# Contributing\n", encoding="utf-8")
    build.stage(tmp_path / "with")
    assert (tmp_path / "with" / "CONTRIBUTING.md").exists()
    assert "\nCONTRIBUTING\n" in (tmp_path / "with" / "index.md").read_text(
        encoding="utf-8"
    )


def test_every_page_has_a_description_and_an_icon(walk):
    pages, _ = walk
    for url, page in pages.items():
        description = page["description"] or ""
        assert len(description) >= 40, f"{url}: description {description!r}"
        assert not description.startswith("<"), f"{url}: {description!r}"
        assert page["icon"], f"{url} names no icon"


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
    """The search lists lesson 2 for "evening", and each snippet under it is the
    lesson's own text, not its download link or its navigation line."""
    browser.goto(f"{origin}/", wait_until="load")
    browser.fill("form[role=search] input[name=q]", "evening")
    browser.press("form[role=search] input[name=q]", "Enter")
    lesson = LESSONS[1]
    snippets = browser.wait_for_function(
        """(path) => {
             const results = [...document.querySelectorAll("#search-results li")]
               .filter((li) => new URL(li.querySelector("a").href).pathname === path);
             const texts = results.map((li) => li.querySelector("p.context"))
               .map((p) => p?.innerText);
             return results.length && texts.every(Boolean) && texts;
           }""",
        arg=f"/notebooks/{lesson.stem}.html",
    ).json_value()
    for snippet in snippets:
        assert "evening" in snippet.lower()
        assert "Download this notebook" not in snippet
        assert "| Contents |" not in snippet, f"the navigation line: {snippet!r}"
    assert browser.elsewhere == []
    assert browser.broken == []


# Each picture's every text, its size in CSS px as shown, its colour and the
# colour of the shape behind it; each line or outline, its colour and the
# colours it touches (its own fill and any shape drawn before it). Measured on
# a copy of the picture drawn inline at the width the page shows it.
MEASURE_PICTURES = """
async () => {
  const luminance = (color) => {
    const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [light, dark] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (light + 0.05) / (dark + 0.05);
  };
  const pictures = [];
  for (const img of document.querySelectorAll("article img[src$='.svg']")) {
    const width = img.getBoundingClientRect().width;
    const holder = document.createElement("div");
    holder.style.cssText = `position: absolute; left: 0; top: 0; width: ${width}px`;
    holder.innerHTML = await (await fetch(img.src)).text();
    document.body.append(holder);
    const svg = holder.querySelector("svg");
    svg.setAttribute("width", width);
    svg.removeAttribute("height");
    const shapes = [...svg.querySelectorAll("rect, path, line, circle, polygon")]
      .filter((shape) => !shape.closest("defs"));
    const fill = (e) => (e.tagName === "line" ? "none" : getComputedStyle(e).fill);
    const filled = shapes.filter((shape) => fill(shape) !== "none");
    const box = (e) => e.getBoundingClientRect();
    const before = (a, b) =>
      a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING;
    const holds = (outer, inner) =>
      inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 &&
      inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
    const touches = (a, b) =>
      a.left <= b.right && b.left <= a.right && a.top <= b.bottom && b.top <= a.bottom;
    const texts = [...svg.querySelectorAll("text")].map((text) => {
      const behind = filled
        .filter((s) => before(s, text) && holds(box(s), box(text))).pop();
      return {
        text: text.textContent,
        px: parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a,
        contrast: behind ? contrast(fill(text), fill(behind)) : 0,
      };
    });
    const stroked = shapes.filter((s) => getComputedStyle(s).stroke !== "none");
    const lines = stroked.map((s) => {
      const stroke = getComputedStyle(s).stroke;
      const around = filled
        .filter((o) => o === s || (before(o, s) && touches(box(s), box(o))));
      return {
        shape: s.outerHTML.slice(0, 70),
        contrast: Math.min(...around.map((o) => contrast(stroke, fill(o)))),
      };
    });
    holder.remove();
    pictures.push({ src: img.src.split("/").pop(), width, texts, lines });
  }
  return pictures;
}
"""
SMALLEST_TEXT_PX = 11  # on a 390-px-wide phone
TEXT_CONTRAST = 4.5  # WCAG 1.4.3
GRAPHICS_CONTRAST = 3  # WCAG 1.4.11


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pictures_read_on_a_phone(walk, browser, origin, scheme):
    """On a 390-px-wide phone every picture's smallest text is at least 11 px,
    its text stands out 4.5:1 from what is behind it and its lines 3:1."""
    measured = []
    browser.set_viewport_size(PHONE)
    browser.emulate_media(color_scheme=scheme)
    try:
        for lesson in LESSONS:
            browser.goto(page_of(lesson, origin), wait_until="load")
            measured += browser.evaluate(MEASURE_PICTURES)
    finally:
        browser.set_viewport_size(LAPTOP)
        browser.emulate_media(color_scheme="no-preference")
    assert len(measured) == len(list((ROOT / "notebooks" / "images").glob("*.svg")))
    for picture in measured:
        where = f"{picture['src']} at {picture['width']:.0f} px"
        for text in picture["texts"]:
            assert text["px"] >= SMALLEST_TEXT_PX, f"{where}: {text}"
            assert text["contrast"] >= TEXT_CONTRAST, f"{where}: {text}"
        for line in picture["lines"]:
            assert line["contrast"] >= GRAPHICS_CONTRAST, f"{where}: {line}"


# axe-core, as the issue measured it: WCAG 2.0, 2.1, 2.2 A and AA, and best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# The rules whose answer depends on the colours: the only ones that light or
# dark can change.
AXE_COLOUR_RULES = ["color-contrast", "link-in-text-block"]
# Furo's layouts: both side panels (1400), no panel (390). The one between
# (1280: no contents panel) shows nothing these two do not: its contents button
# is the narrow layout's button, moved.
WIDTHS = [1400, 390]
# 7.9 s measured on the 2-core machine we develop on, shared with other work
# (load average 3); 12 variants of 9 pages.
AXE_SECONDS = 20

# Beside each hint and solution (<details>, opened), the same one closed: a copy
# without its ids. So each check sees the hints and solutions closed and open.
SHOW_DETAILS_BOTH_WAYS = """() => {
  for (const details of document.querySelectorAll("article details")) {
    details.open = true;
    const closed = details.cloneNode(true);
    closed.open = false;
    for (const e of [closed, ...closed.querySelectorAll("[id]")]) {
      e.removeAttribute("id");
    }
    details.after(closed);
  }
}"""

# Runs axe-core with the `rules` (null: every rule of `tags`) but those in
# `skip`. Returns the critical and serious violations, and the looks of text it
# checked (below).
#
# For the colour rules only: a part of the page whose every piece of text looks
# exactly like a piece already checked in this theme, on this page or another,
# at this width or another (`checked`), or seen whole on screen here, is left
# out: the colour rules would give it the same answer. The look of a text: its
# colour, size, weight, opacity and shadow, the colour or image behind it, and
# the colour of the text around it. So each word of highlighted code, each
# paragraph after the first, each page's side panel after the first is left
# out, and where nothing is new axe-core is not even started.
#
# After the page changed width (`settle`), it first waits two frames, for
# site.js to see the code blocks' new sizes.
RUN_AXE = """
async ([rules, skip, settle, tags, checked]) => {
  if (settle) {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
  const context = { include: [document], exclude: [] };
  const looks = [];
  if (rules) {
    const backdrop = (e) => {
      for (; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.backgroundImage !== "none") return s.backgroundImage;
        if (s.backgroundColor !== "rgba(0, 0, 0, 0)") return s.backgroundColor;
      }
      return "";
    };
    // Whole on screen: not cut by the window's sides or a block that scrolls.
    const shown = (e) => {
      const box = e.getBoundingClientRect();
      if (!box.width || box.left < 0 || box.right > innerWidth) return false;
      for (let up = e.parentElement; up; up = up.parentElement) {
        if (getComputedStyle(up).overflowX === "visible") continue;
        const frame = up.getBoundingClientRect();
        if (box.left < frame.left || box.right > frame.right) return false;
      }
      return e.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    };
    const seen = new Set(checked), needed = new Set([document.body]);
    for (const e of document.body.querySelectorAll("*")) {
      // Text axe-core checks: with a letter or a digit, not only punctuation.
      const text = [...e.childNodes].some(
        (n) => n.nodeType === 3 && /[\\p{L}\\p{N}]/u.test(n.data));
      if (!text || !shown(e)) continue;
      const s = getComputedStyle(e);
      const around = [e.parentElement, e.parentElement.parentElement];
      const look = [s.color, s.fontSize, s.fontWeight, s.opacity, s.textShadow,
                    backdrop(e), ...around.map((up) => getComputedStyle(up).color)]
        .join(" ");
      if (seen.has(look)) continue;
      seen.add(look);
      looks.push(look);
      for (let up = e; up && !needed.has(up); up = up.parentElement) needed.add(up);
    }
    const prune = (parent) => {
      for (const child of parent.children) {
        if (needed.has(child)) prune(child);
        else context.exclude.push(child);
      }
    };
    prune(document.body);
    if (!looks.length) return { found: [], looks };
  }
  const { violations } = await axe.run(context, {
    resultTypes: ["violations"],
    runOnly: rules ? { type: "rule", values: rules } : { type: "tag", values: tags },
    rules: Object.fromEntries((skip || []).map((id) => [id, { enabled: false }])),
  });
  const found = violations
    // Critical and serious, and one moderate rule we hold to: each page has an h1.
    .filter((v) => v.impact === "critical" || v.impact === "serious"
      || v.id === "page-has-heading-one")
    .map((v) => ({
      rule: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.html.slice(0, 100)}`),
    }));
  return { found, looks };
}
"""


def site_pages(site, origin):
    """Every page of the built site, and the search page showing results."""
    urls = [
        f"{origin}/{page.relative_to(site).as_posix()}" for page in site.rglob("*.html")
    ]
    return sorted(urls) + [f"{origin}/search.html?q=evening"]


def test_no_serious_accessibility_violation(walk, browser, site, origin):
    """axe-core finds no critical or serious violation on any page, at each
    width, light and dark, with hints and solutions closed and open.

    Each variant is checked for what it can change. The width changes the
    layout: every rule. Light or dark changes only colours: the colour rules,
    for text that looks like no text checked before (see RUN_AXE). Hints and
    solutions are there both closed and open in every check.
    """
    from axe_playwright_python.sync_playwright import Axe

    page = browser.context.new_page()
    page.set_default_timeout(PAGE_MS)
    page.add_init_script(Axe().axe_script)
    found, started, busy = [], time.monotonic(), busy_factor()
    checked = {"light": [], "dark": []}  # the looks of text checked in each theme
    try:
        for url in site_pages(site, origin):
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            page.emulate_media(color_scheme="light")
            page.goto(url, wait_until="load")
            if "?q=" in url:
                page.wait_for_selector("#search-results li p.context")
            page.evaluate(SHOW_DETAILS_BOTH_WAYS)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                checks = [
                    ("light", None, AXE_COLOUR_RULES),  # the layout
                    ("light", AXE_COLOUR_RULES, None),
                    ("dark", AXE_COLOUR_RULES, None),
                ]
                for number, (scheme, rules, skip) in enumerate(checks):
                    page.emulate_media(color_scheme=scheme)
                    answer = page.evaluate(
                        RUN_AXE, [rules, skip, number == 0, AXE_TAGS, checked[scheme]]
                    )
                    checked[scheme] += answer["looks"]
                    for v in answer["found"]:
                        nodes = "".join(f"\n      {node}" for node in v["nodes"])
                        variant = f"{url} at {width} px, {scheme}"
                        found.append(
                            f"{variant}: {v['rule']} ({v['impact']}) {v['help']}{nodes}"
                        )
    finally:
        page.close()
    seconds = time.monotonic() - started
    note = "(a colour problem is listed once, where its look of text is first met)"
    assert found == [], "\n".join([*found, note])
    assert within(seconds, AXE_SECONDS, busy), f"axe took {seconds:.1f}s"
