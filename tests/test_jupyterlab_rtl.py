"""Arabic notebooks in JupyterLab itself: right-to-left, right-aligned, and every left-to-right run in order.

JupyterLab's stylesheet sets `.jp-RenderedHTMLCommon p { text-align: left }`, and its sanitizer (always applied to
Markdown cells) drops `<style>` elements and keeps only listed inline styles: `dir` and `lang` on every element,
`style` with `display: block` and `text-align: right` (not `start`). The generated cells rely on exactly that
(bidi.rtl_paragraphs); this test opens a generated notebook in the real JupyterLab and looks at what it draws.
Skips with the reason where Chromium, Playwright or JupyterLab is missing.
"""

from __future__ import annotations

from pathlib import Path

from . import browser
from .jupyterlab import jupyterlab  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "ar/01_flash_attention_2.ipynb"
CELLS = '.jp-MarkdownCell .jp-RenderedMarkdown div[dir="rtl"]'


def test_arabic_cells_are_right_to_left_and_right_aligned_in_jupyterlab(jupyterlab, chromium, tmp_path):  # noqa: F811
    page = chromium.context.new_page()
    try:
        jupyterlab.open_notebook(page, NOTEBOOK)
        kept = page.evaluate(f"""() => ({{
            cells: document.querySelectorAll('{CELLS}').length,
            blocks: document.querySelectorAll('{CELLS} p > span[style*="text-align"]').length,
            isolates: document.querySelectorAll('{CELLS} span[dir="ltr"]').length,
            lang: document.querySelectorAll('{CELLS}[lang="ar"]').length }})""")
        rows = browser.rtl_blocks(page, CELLS)
        order = browser.isolate_order(page, CELLS)
        page.screenshot(path=str(tmp_path / "ar-jupyterlab.png"))
    finally:
        page.close()
    print(f"JupyterLab kept: {kept}; {len(rows)} right-to-left blocks; {order['isolates']} isolates checked; "
          f"screenshot {tmp_path / 'ar-jupyterlab.png'}")
    # What the sanitizer kept: the right-to-left containers, their language, the isolates and the paragraph blocks.
    assert kept["cells"] > 20 and kept["lang"] == kept["cells"] and kept["isolates"] > 100 and kept["blocks"] > 20
    paragraphs = [r for r in rows if r["tag"] == "p"]
    assert len(paragraphs) > 20
    assert [r for r in rows if r["direction"] != "rtl"] == []
    assert [r for r in paragraphs if r["align"] != "right"] == [], "paragraph text laid out from the left"
    assert [r for r in rows if r["rightGap"] > 2] == [], "lines that do not end at the right edge"
    assert order["disorder"] == [] and order["bare"] == []
