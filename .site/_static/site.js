// Two fixes to what the theme does, on every page of the site.

// 1. A code block (or a wide table) whose long lines scroll sideways takes the
// keyboard focus, so that a reader without a mouse can scroll it with the
// arrow keys (axe: scrollable-region-focusable). Only the blocks that scroll
// at the current width: the others stay out of the Tab order. Checked again
// when a block changes size: a window resized, a solution opened.
(() => {
  const scrollers = "pre, .table-wrapper";
  const update = (block) => {
    if (block.scrollWidth > block.clientWidth) {
      block.setAttribute("tabindex", "0");
    } else {
      block.removeAttribute("tabindex");
    }
  };
  const watch = () => {
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) update(entry.target);
    });
    for (const block of document.querySelectorAll(scrollers)) {
      update(block);
      observer.observe(block);
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();

// 2. The search page shows, under each result, the page's text around the
// first word found. Sphinx takes that text from the whole page, so a lesson's
// snippet began with its "Download this notebook" link and its navigation
// line ("< 1. Hello world | Contents | ..."). Those two are left out.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Search === "undefined" || !Search.htmlToText) return;
  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    for (const skip of page.querySelectorAll(".download-notebook, .lesson-nav")) {
      skip.remove();
    }
    return htmlToText(page.documentElement.outerHTML, anchor);
  };
});
