"""A real browser for the site tests: Debian's Chromium driven by Playwright, and the built site served on loopback."""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import shutil
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Flags this machine's closed network needs: no background connections, a fresh profile per run (see README).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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

    def close(self) -> None:
        self.context.close()
        self._playwright.stop()

    def open(self, url: str, visit: Visit):
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
        page.on("response", lambda r: visit.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
        page.goto(url, wait_until="load")
        return page

    def visit(self, url: str) -> Visit:
        visit = Visit(url)
        page = self.open(url, visit)
        facts = page.evaluate(_PAGE_FACTS)
        page.wait_for_load_state("networkidle")  # fonts and scripts the page asked for after it loaded
        visit.links, visit.switcher = facts["links"], facts["switcher"]
        visit.broken_images, visit.images = facts["broken"], facts["images"]
        visit.direction, visit.rtl_code, visit.rtl_prose_left = facts["direction"], facts["rtlCode"], facts["rtlProseLeft"]
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
        page.wait_for_load_state("networkidle")
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
