"""A real browser for the site tests: Debian's Chromium driven by Playwright, and the built site served on loopback."""

from __future__ import annotations

import collections
import functools
import html.parser
import http.server
import os
import shutil
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Flags this machine's closed network needs: no background connections, a fresh profile per run (see README).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # tabs loading beside the one being read run their timers at full speed (MathJax chains them)
                  "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows"]


def chromium_path() -> str | None:
    """$GPUGUIDE_CHROMIUM, else Debian's chromium on the PATH."""
    return os.environ.get("GPUGUIDE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make venv installs requirements/test.txt)"
    if chromium_path() is None:
        return "no Chromium: install Debian's chromium package (.ci/run does, as root) or set GPUGUIDE_CHROMIUM"
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (a free port) for as long as the block runs; yields the base URL."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    """What one page load did: problems seen by the browser and what the page links to."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    switcher: list[dict] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    images: int = 0
    direction: str = ""
    rtl_code: list[str] = field(default_factory=list)
    rtl_prose_left: list[str] = field(default_factory=list)
    rtl_isolates: int = 0  # left-to-right isolates checked on a right-to-left page
    in_flight: set = field(default_factory=set, repr=False)  # requests sent and not yet answered
    unanswered: list[str] = field(default_factory=list)  # those still in flight when settle gave up waiting
    last_activity: float = field(default_factory=time.monotonic, repr=False)  # when one was last sent or answered

    def sent(self, request) -> None:
        self.in_flight.add(request)
        self.last_activity = time.monotonic()

    def answered(self, request) -> None:
        self.in_flight.discard(request)
        self.last_activity = time.monotonic()


_PAGE_FACTS = """async () => {
  for (const img of document.images) img.loading = "eager";
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  const content = document.querySelector(".md-content") || document.body;
  return {
    links: [...document.querySelectorAll("a[href]")].map(a => ({href: a.href, raw: a.getAttribute("href")})),
    switcher: [...document.querySelectorAll("a.md-select__link")].map(a => ({href: a.href, lang: a.hreflang})),
    broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    images: document.images.length,
    direction: getComputedStyle(content).direction,
    rtlCode: [...content.querySelectorAll("pre, code, .jp-CodeCell .jp-InputArea, .jp-OutputArea")]
      .filter(e => getComputedStyle(e).direction !== "ltr").map(e => e.tagName + "." + e.className),
    // Right-to-left prose must also be laid out from the right (start), not merely have direction: rtl.
    rtlProseLeft: [...content.querySelectorAll("p, h1, h2, h3, li")]
      .filter(e => getComputedStyle(e).direction === "rtl" && getComputedStyle(e).textAlign === "left")
      .map(e => e.tagName + ": " + e.textContent.trim().slice(0, 40)).slice(0, 5),
  };
}"""


class Browser:
    """One Chromium with a fresh profile; `visit` loads a page and records what went wrong."""

    def __init__(self, profile_dir: Path) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.context = self._playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(30_000)
        self.settle_timeout_s = 30.0  # how long settle waits for a page's last requests

    def close(self) -> None:
        self.context.close()
        self._playwright.stop()

    def open(self, url: str, visit: Visit, wait_until: str = "load"):
        """A new tab that records console errors, failed requests and any request leaving 127.0.0.1."""
        page = self.context.new_page()

        def route(request_route) -> None:
            host = urlsplit(request_route.request.url).hostname
            if host not in ("127.0.0.1", None):
                visit.external.append(request_route.request.url)
                request_route.abort()
            else:
                request_route.continue_()

        page.route("**/*", route)
        page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: visit.failed.append(f"{r.url} ({r.failure})"))
        page.on("request", visit.sent)
        page.on("requestfinished", visit.answered)
        page.on("requestfailed", visit.answered)
        page.on("response", lambda r: visit.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
        page.goto(url, wait_until=wait_until)
        return page

    def settle(self, page, visit: Visit, quiet_s: float = 0.5, timeout_s: float | None = None) -> None:
        """Wait until the page has had no request in flight for quiet_s (fonts and scripts asked for after it loaded).

        Counted from the page's own request events rather than Playwright's "networkidle", which once never came in CI
        with two tabs open and is known to hang at times (microsoft/playwright#19835). A request still unanswered after
        timeout_s (default: settle_timeout_s) is recorded as failed, with its URL, instead of ending the test run."""
        timeout_s = self.settle_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        while visit.in_flight or time.monotonic() - visit.last_activity < quiet_s:
            if time.monotonic() > deadline:
                visit.unanswered = [r.url for r in visit.in_flight]
                visit.failed += [f"{url} (no answer within {timeout_s:.0f} s)" for url in visit.unanswered]
                return
            page.wait_for_timeout(100)  # lets Playwright deliver the page's events meanwhile

    def visit(self, url: str) -> Visit:
        """Load one page and record what it did (see Visit)."""
        return self.visit_all([url])[0]

    def visit_all(self, urls: list[str], at_once: int = 2) -> list[Visit]:
        """Load pages two tabs at a time, so that one page's wait for a quiet network overlaps the next page's load;
        the visits come back in the order of urls. (82 pages here: 166 s one at a time, 110 s two at a time, and
        168 s against 224 s beside a busy core.)"""
        visits: list[Visit] = []
        loading: collections.deque = collections.deque()
        for url in urls:
            if len(loading) >= at_once:
                visits.append(self._record_or_reload(*loading.popleft()))
            visit = Visit(url)
            loading.append((visit, self.open(url, visit, wait_until="commit")))
        while loading:
            visits.append(self._record_or_reload(*loading.popleft()))
        return visits

    def _record_or_reload(self, visit: Visit, page) -> Visit:
        """_record; a page that left a request unanswered (beside another tab) is loaded once more, and that visit
        counts: a resource that never comes fails both times."""
        self._record(visit, page)
        if not visit.unanswered:
            return visit
        print(f"loading {visit.url} again: {visit.unanswered} went unanswered")
        again = Visit(visit.url)
        return self._record(again, self.open(visit.url, again))

    def _record(self, visit: Visit, page) -> Visit:
        """Wait for a page opened by visit_all to load and go quiet, read what it shows, then close it."""
        page.wait_for_load_state("load")
        facts = page.evaluate(_PAGE_FACTS)
        self.settle(page, visit)
        visit.links, visit.switcher = facts["links"], facts["switcher"]
        visit.broken_images, visit.images = facts["broken"], facts["images"]
        visit.direction, visit.rtl_code, visit.rtl_prose_left = facts["direction"], facts["rtlCode"], facts["rtlProseLeft"]
        if visit.direction == "rtl":  # every isolate drawn in order, every line of right-to-left prose from the right
            order = isolate_order(page, ".md-content")
            visit.rtl_isolates = order["isolates"]
            visit.rtl_code += [f"isolate drawn out of order: {d}" for d in order["disorder"]]
            visit.rtl_prose_left += [f"{r['tag']}: {r['text']} (a line ends {r['rightGap']} px before the right edge)"
                                     for r in rtl_blocks(page, ".md-content")
                                     if r["direction"] == "rtl" and r["rightGap"] > 2][:5]
        page.close()
        return visit

    def search(self, url: str, term: str) -> tuple[list[str], Visit]:
        """Type a term into the site's search box; returns the result links and what the page did meanwhile."""
        visit = Visit(url)
        page = self.open(url, visit)
        box = page.locator("input.md-search__input")
        box.click()
        box.fill(term)
        box.press("End")  # Material searches on key events; fill() alone sends none
        results = page.locator(".md-search-result__item > a")
        results.first.wait_for(state="attached")
        hrefs = [a.get_attribute("href") or "" for a in results.all()]
        self.settle(page, visit)
        page.close()
        return hrefs, visit


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset[str]:
    """Every id (and name) in an HTML file: the fragments a link to it may use."""
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def unresolved(href: str, base_url: str, root: Path) -> str | None:
    """Why an internal link does not resolve to a file (and an id in it) under root, or None when it does."""
    parts = urlsplit(href)
    if not href.startswith(base_url):
        return None  # external or another scheme: never requested, see Visit.external
    rel = unquote(parts.path[len(urlsplit(base_url).path):])
    target = root / rel
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"{href}: no file {target.relative_to(root) if target.is_relative_to(root) else target}"
    fragment = parts.fragment
    # As a browser does: the fragment as written, then percent-decoded; empty and "top" mean the top of the page.
    if (fragment and fragment != "top" and target.suffix == ".html"
            and not {fragment, unquote(fragment)} & anchors(target)):
        return f"{href}: no id {unquote(fragment)!r} in {target.relative_to(root)}"
    return None


def skip_reason() -> str | None:
    """Why a browser test cannot run here (the same as unavailable()), or None."""
    return unavailable()


@contextmanager
def page() -> Iterator["playwright.sync_api.Page"]:  # noqa: F821
    """A blank page in a fresh headless Chromium that can reach nothing but local files and data: URLs.

    Every request other than file:, data: and about: is aborted, so a page that names a CDN renders from what it
    carries. Skips the calling test (with the reason) where Chromium or Playwright is missing.
    `page.context.browser.version` is the Chromium version, for a test to report.
    """
    import pytest

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, chromium_sandbox=False,
                                    args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context()
            context.route("**/*", lambda route: route.continue_()
                          if route.request.url.startswith(("file:", "data:", "about:")) else route.abort())
            yield context.new_page()
        finally:
            browser.close()


# --- right-to-left text: the order of isolated left-to-right runs, and the alignment of right-to-left blocks ---------

#: For every left-to-right isolate inside the right-to-left containers matched by `selector` (a `span[dir=ltr]` or
#: `bdi[dir=ltr]` that is not inside another one, or text between U+2066 and U+2069), whether its characters are
#: drawn in their logical order: each next character right of the one before on the same line, or on a later line
#: (a run may wrap). A word of right-to-left letters inside a run (a menu item) counts as one unit: it is drawn
#: right to left within itself. Typeset math is left out (MathJax draws it with its own layout). Also lists every
#: Latin letter outside any isolate, code or left-to-right block (a run the generator missed).
ISOLATE_ORDER = r"""(selector) => {
  const SKIP = 'mjx-container, .MathJax, .MathJax_Preview, .MathJax_Display, .MathJax_SVG, .MJX_Assistive_MathML, '
             + 'script, style, .jp-InternalAnchorLink, .headerlink, a.anchor-link';
  const RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/, MARK = /\p{M}/u, LATIN = /\p{Script=Latin}/u;
  const IGNORED = /[\s\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/;
  const OPENERS = '\u2066\u2067\u2068', CLOSER = '\u2069';
  const out = {isolates: 0, units: 0, disorder: [], bare: [], roots: 0};
  const rectOf = (node, a, b) => {
    const r = document.createRange(); r.setStart(node, a); r.setEnd(node, b);
    const rs = [...r.getClientRects()].filter(x => x.width > 0 && x.height > 0);
    if (!rs.length) return null;
    const left = Math.min(...rs.map(x => x.left)), right = Math.max(...rs.map(x => x.right));
    const top = Math.min(...rs.map(x => x.top)), bottom = Math.max(...rs.map(x => x.bottom));
    return {left, right, top, bottom, cx: (left + right) / 2, cy: (top + bottom) / 2, h: bottom - top};
  };
  const check = (chars, label) => {  // chars: [{node, i, ch}] in logical order
    const units = [];
    for (const c of chars) {
      if (IGNORED.test(c.ch) || OPENERS.includes(c.ch) || c.ch === CLOSER) continue;
      const last = units[units.length - 1];
      const joins = last && last.node === c.node && last.end === c.i &&
                    ((RTL.test(c.ch) && last.rtl) || (MARK.test(c.ch)));
      if (joins) { last.end = c.i + 1; last.text += c.ch; continue; }
      units.push({node: c.node, start: c.i, end: c.i + 1, text: c.ch, rtl: RTL.test(c.ch)});
    }
    const placed = units.map(u => ({text: u.text, rect: rectOf(u.node, u.start, u.end)})).filter(u => u.rect);
    out.isolates += 1; out.units += placed.length;
    for (let k = 1; k < placed.length; k++) {
      const a = placed[k - 1].rect, b = placed[k].rect;
      const sameLine = Math.abs(a.cy - b.cy) < Math.min(a.h, b.h) / 2;
      if ((sameLine && b.cx <= a.cx) || (!sameLine && b.cy < a.cy)) {
        out.disorder.push(`${label}: ${JSON.stringify(chars.map(c => c.ch).join(''))} draws `
                          + `${JSON.stringify(placed[k].text)} before ${JSON.stringify(placed[k - 1].text)}`);
        break;
      }
    }
  };
  for (const root of document.querySelectorAll(selector)) {
    out.roots += 1;
    const cell = root.closest('[data-cell-id], .jp-Cell, [id]');
    const where = cell ? (cell.getAttribute('data-cell-id') || cell.id) : '';
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest(SKIP) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    const chars = [], byElement = new Map();
    const outermost = (node) => {  // the outermost inline isolate element around a text node, inside root
      let found = null;
      for (let e = node.parentElement; e && e !== root; e = e.parentElement)
        if (e.matches('span[dir="ltr"], bdi[dir="ltr"]')) found = e;
      return found;
    };
    while (walker.nextNode()) {
      const node = walker.currentNode, iso = outermost(node);
      // display math that MathJax has not typeset (a page without MathJax) is TeX source, not prose
      const tex = new Set();
      for (const m of node.data.matchAll(/\$\$[\s\S]*?\$\$|\\\[[\s\S]*?\\\]/g))
        for (let k = m.index; k < m.index + m[0].length; k++) tex.add(k);
      for (let i = 0; i < node.data.length; i++) {
        if (tex.has(i)) continue;
        const c = {node, i, ch: node.data[i], iso};
        chars.push(c);
        if (iso) { if (!byElement.has(iso)) byElement.set(iso, []); byElement.get(iso).push(c); }
      }
    }
    for (const [e, list] of byElement) check(list, `${where} <${e.localName}>`);
    // Unicode isolates
    let depth = 0, run = [];
    const marked = new Set();
    for (const c of chars) {
      if (OPENERS.includes(c.ch)) { depth += 1; if (depth === 1) run = []; continue; }
      if (c.ch === CLOSER && depth > 0) {
        depth -= 1;
        if (depth === 0) { check(run, `${where} U+2066`); run.forEach(x => marked.add(x)); }
        continue;
      }
      if (depth > 0) run.push(c);
    }
    // Latin letters outside every isolate
    for (const c of chars) {
      if (!LATIN.test(c.ch) || marked.has(c) || c.iso) continue;
      const ltr = c.node.parentElement.closest('code, pre, kbd, [dir="ltr"]');
      if (ltr && root.contains(ltr)) continue;
      out.bare.push(`${where}: ${JSON.stringify(c.node.data.slice(Math.max(0, c.i - 20), c.i + 20))}`);
    }
  }
  out.bare = [...new Set(out.bare)];
  return out;
}"""

#: For every block of right-to-left text inside the containers matched by `selector` (paragraphs, list items,
#: headings, table cells, summaries): its computed direction, the text-align of the block that lays out its lines
#: (the paragraph, or the block span a generated cell puts inside it), and whether every line of it ends at the
#: block's right edge (a left-aligned line does not).
RTL_BLOCKS = r"""(selector) => {
  const RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
  const NESTED = 'p, li, h1, h2, h3, h4, h5, h6, td, th, dd, dt, ul, ol, table, blockquote, pre, div, details, summary';
  const rows = [];
  for (const root of document.querySelectorAll(selector)) {
    // (th is centred and summary starts after its disclosure marker, in either direction: not checked)
    for (const el of root.querySelectorAll('p, li, h1, h2, h3, h4, h5, h6, td, dd')) {
      if (el.closest('pre, [dir="ltr"]') || !RTL.test(el.textContent)) continue;
      const first = el.firstElementChild;
      const inner = (first && el.children.length === 1 && getComputedStyle(first).display === 'block'
                     && el.textContent.trim() === first.textContent.trim()) ? first : el;
      const style = getComputedStyle(inner);
      const box = inner.getBoundingClientRect();
      const edge = box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
      const lineHeight = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
      const lines = [];  // [{cy, right}]: rects whose centres lie within half a line of each other share a line
      const rects = [];  // the block's own lines: not those of a list, paragraph or table nested in it
      for (const child of inner.childNodes) {
        if (child.nodeType === Node.ELEMENT_NODE && child.matches(NESTED)) continue;
        const range = document.createRange(); range.selectNode(child);
        rects.push(...range.getClientRects());
      }
      for (const r of rects.filter(r => r.width > 0 && r.height > 0)) {
        const cy = (r.top + r.bottom) / 2, line = lines.find(l => Math.abs(l.cy - cy) < lineHeight / 2);
        if (line) line.right = Math.max(line.right, r.right); else lines.push({cy, right: r.right});
      }
      const gaps = lines.map(l => Math.round(edge - l.right));
      rows.push({tag: el.localName, text: el.textContent.trim().slice(0, 50), direction: getComputedStyle(el).direction,
                 align: style.textAlign, lines: gaps.length, rightGap: gaps.length ? Math.max(...gaps) : 0});
    }
  }
  return rows;
}"""


def isolate_order(page, selector: str) -> dict:
    """ISOLATE_ORDER on the page: counts, the isolates drawn out of order, and Latin letters left bare."""
    return page.evaluate(ISOLATE_ORDER, selector)


def rtl_blocks(page, selector: str) -> list[dict]:
    """RTL_BLOCKS on the page: one row per right-to-left text block."""
    return page.evaluate(RTL_BLOCKS, selector)
