"""`make slides`: offline reveal.js decks, checked in a real browser (skipped without Chromium or npm's packages)."""

from pathlib import Path

import pytest

from gpuguide_suite.slides import build_slides, deck
from gpuguide_suite.notebooks import read_notebook

from . import browser

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "build" / "vendor" / "node_modules"


@pytest.fixture(scope="module")
def decks(suite_run, tmp_path_factory) -> Path:
    if not (NODE_MODULES / "reveal.js").is_dir():
        pytest.skip("reveal.js is not installed in build/vendor (make slides installs it with npm)")
    build = tmp_path_factory.mktemp("run")
    for lang in ("en", "ar"):
        (build / "executed" / lang).mkdir(parents=True)
        source = ROOT / "build" / "executed" / lang / "00_measuring.ipynb"
        (build / "executed" / lang / source.name).write_bytes(source.read_bytes())
    out = tmp_path_factory.mktemp("slides")
    build_slides(build, out, NODE_MODULES)
    return out


def test_a_deck_has_a_slide_per_heading_notes_and_no_set_up_or_solutions():
    executed = ROOT / "notebooks" / "en" / "00_measuring.ipynb"
    html = deck(executed, "en")
    headings = [c for c in read_notebook(executed).cells if c.cell_type == "markdown" and c.source.startswith(("# ", "## "))]
    assert html.count("<section") >= len(headings)
    assert '<aside class="notes">' in html, "instructor notes become speaker notes"
    assert "<summary>Solution</summary>" not in html and 'profile = "auto"' not in html
    assert "unpkg.com" not in html and "cdnjs" not in html and "cdn.jsdelivr" not in html


def test_a_deck_with_a_widget_shows_a_note_and_loads_no_widget_manager_from_a_cdn(suite_run):
    executed = ROOT / "build" / "executed" / "en" / "06_combining.ipynb"
    assert "widgets" in read_notebook(executed).metadata, "06's explorer should leave widget state to test with"
    html = deck(executed, "en")
    assert "unpkg.com" not in html and "widget-view+json" not in html
    assert "An interactive widget was here" in html and 'class="gg-widget-preview"' in html  # the explorer's picture


def test_decks_load_offline_in_a_browser_and_arabic_runs_right_to_left(decks, chromium):
    with browser.serve(decks) as base:
        for lang in ("en", "ar"):
            visit = browser.Visit(f"{base}{lang}/00_measuring.slides.html")
            page = chromium.open(visit.url, visit)
            # require.js loads reveal.js as a module, so there is no window.Reveal: it marks .reveal "ready" instead.
            page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
            chromium.settle(page, visit)
            facts = page.evaluate("""() => ({
                slides: document.querySelectorAll('.reveal .slides section').length,
                align: [...new Set([...document.querySelectorAll('.reveal .jp-RenderedHTMLCommon p')].map(
                    e => getComputedStyle(e).textAlign))],
                direction: getComputedStyle(document.querySelector('.reveal .slides')).direction,
                code: [...document.querySelectorAll('.reveal pre')].map(e => getComputedStyle(e).direction),
            })""")
            page.close()
            assert not visit.external, visit.external
            assert not visit.failed and not visit.console_errors, (visit.failed, visit.console_errors)
            assert facts["slides"] > 10
            assert facts["direction"] == ("rtl" if lang == "ar" else "ltr")
            assert facts["align"] and set(facts["align"]) <= {"start", "left" if lang == "en" else "right"}
            assert facts["code"] and set(facts["code"]) == {"ltr"}
