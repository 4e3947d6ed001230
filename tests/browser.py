"""Headless Chromium for tests: the system browser (Debian package `chromium`) driven by Playwright, offline.

Playwright's own browser download is not used (`executable_path` points at the system Chromium); Playwright starts
each browser with a fresh temporary profile. Every request other than file:, data: and about: is aborted, so a page
that names a CDN (nbconvert's MathJax and require.js) renders from what it carries. Tests call `skip_reason()` and
skip with it, or use the `page()` context manager, which skips by itself.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Iterator

import pytest

#: Flags for a headless Chromium on a machine with no network beyond localhost (no sandbox: tests run as root).
CHROMIUM_FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """$CHROMIUM, else the first Chromium on PATH."""
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", *(shutil.which(n) for n in
                                                                     ("chromium", "chromium-browser", "google-chrome"))]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements/test.txt)"
    if chromium_path() is None:
        return "no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
    return None


@contextmanager
def page() -> Iterator["playwright.sync_api.Page"]:  # noqa: F821
    """A blank page in a fresh headless Chromium that can reach nothing but local files and data: URLs.

    `page.context.browser.version` is the Chromium version, for a test to report.
    """
    reason = skip_reason()
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

