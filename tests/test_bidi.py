"""Arabic text keeps every left-to-right run in order: the rule (bidi.py), and Chromium's rendering of every Arabic
cell, the Arabic instructor page and the Arabic site strings, checked isolate by isolate."""

from __future__ import annotations

import html as html_lib
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from gpuguide_suite import i18n, site_strings
from gpuguide_suite.bidi import (LRI, PARAGRAPH_CLOSE, PARAGRAPH_OPEN, PDI, isolate_ltr, right_to_left, rtl_paragraphs,
                                 strip_isolates)
from gpuguide_suite.mdtext import mask, segments
from gpuguide_suite.notebooks import Notebook, discover
from gpuguide_suite.pages import discover_pages

from . import browser

ROOT = Path(__file__).resolve().parents[1]
L, R = '<span dir="ltr">', "</span>"
P, Q = PARAGRAPH_OPEN, PARAGRAPH_CLOSE
CSS = ROOT / "docs" / "site" / "assets" / "gpuguide.css"


# --- the rule ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # The review's 17 spans (translation-ar.md 3.2): a Latin run that ends or starts with a neutral, or holds one.
    ("وحدة GPU من فئة sm80+ مع `flash_attn`", f"وحدة {L}GPU{R} من فئة {L}sm80+{R} مع {L}`flash_attn`{R}"),
    ("بشيفرة C++ محسَّنة، أو C#.", f"بشيفرة {L}C++{R} محسَّنة، أو {L}C#{R}."),
    ("تحذيرًا («Flash Attention 2 only supports torch.float16 and torch.bfloat16 dtypes…»)، ثم",
     f"تحذيرًا {L}(«Flash Attention 2 only supports torch.float16 and torch.bfloat16 dtypes…»){R}، ثم"),
    ("نحو 137 GFLOP لكل طبقة، و4.4 TFLOP لجميع الطبقات",
     f"نحو {L}137 GFLOP{R} لكل طبقة، و{L}4.4 TFLOP{R} لجميع الطبقات"),
    ("أي +12.5% من حجم قيم 4 بت (−5% هنا)", f"أي {L}+12.5%{R} من حجم قيم 4 بت ({L}−5%{R} هنا)"),
    ("في Colab: Runtime → Change runtime type → وحدة GPU، قبل تشغيل أي شيء.",
     f"في {L}Colab: Runtime → Change runtime type → وحدة GPU{R}، قبل تشغيل أي شيء."),
    # Code, versions, names and numbers with units, as before.
    ("يستبعد `benchmark()` الاستدعاءات", f"يستبعد {L}`benchmark()`{R} الاستدعاءات"),
    ('واستخدم `attn_implementation="sdpa"`.', f'واستخدم {L}`attn_implementation="sdpa"`{R}.'),
    ("التالي: `02_sdpa`، و``a ` b``", f"التالي: {L}`02_sdpa`{R}، و{L}``a ` b``{R}"),
    ("دعم الإصدارات 5.x.", f"دعم الإصدارات {L}5.x{R}."),
    ("الدفتر 02_sdpa التالي", f"الدفتر {L}02_sdpa{R} التالي"),
    ("بذاكرة 16 GB، أو ≥ 40 GB", f"بذاكرة {L}16 GB{R}، أو {L}≥ 40 GB{R}"),
    ("و5.x", f"و{L}5.x{R}"),
    ("($S = QK^T$) و$$x_1$$", f"{L}($S = QK^T$){R} و$$x_1$$"),
    # A Latin phrase is one run, whatever it holds: versions, operators, brackets, code, soft line breaks.
    ("يحتاج transformers 5.x وRTX 30xx/40xx وGPU ≥ 40 GB",
     f"يحتاج {L}transformers 5.x{R} و{L}RTX 30xx/40xx{R} و{L}GPU ≥ 40 GB{R}"),
    ("أي CPU (bitsandbytes >= 0.48)؛ وT4 (sm75)", f"أي {L}CPU (bitsandbytes >= 0.48){R}؛ و{L}T4 (sm75){R}"),
    ("نواة Jupyter `gpuguide-ort`، ثم", f"نواة {L}Jupyter `gpuguide-ort`{R}، ثم"),
    ("تسجّل («only supports\ntorch.float16»)، ثم", f"تسجّل {L}(«only supports\ntorch.float16»){R}، ثم"),
    ("ناتج 32 × 8192 × 8192 تقريبًا", f"ناتج {L}32 × 8192 × 8192{R} تقريبًا"),
    ("NVIDIA's GPU و2×", f"{L}NVIDIA's GPU{R} و{L}2×{R}"),
])
def test_isolates_every_left_to_right_run(text, expected):
    assert isolate_ltr(text) == expected


@pytest.mark.parametrize("text, expected", [
    # A pair whose other half lies outside a run stays outside it, so the pairs around stay matched.
    ("الواجهة الخلفية (backend) flash في SDPA", f"الواجهة الخلفية {L}(backend) flash{R} في {L}SDPA{R}"),
    ("(`x`، مع الحزمة `kernels`)؛ و", f"({L}`x`{R}، مع الحزمة {L}`kernels`{R})؛ و"),
    ("(+12.5% من حجم 4 بت)", f"({L}+12.5%{R} من حجم 4 بت)"),
    ("«GPU و CPU»", f"«{L}GPU{R} و {L}CPU{R}»"),
    # Emphasis: inside a run when it opens and closes there, outside when it does not.
    ("و**Flash** Attention", f"و{L}**Flash** Attention{R}"),
    ("**5.x**", f"{L}**5.x**{R}"),
    ("**GPU وCPU**", f"**{L}GPU{R} و{L}CPU{R}**"),
    ("**الأهداف.** بعد", "**الأهداف.** بعد"),
])
def test_pairs_and_emphasis_stay_whole(text, expected):
    assert isolate_ltr(text) == expected


@pytest.mark.parametrize("text", [
    "بنحو 0.37 بت، والإصدار 4.48.3، و55%، و0–75%، والتمارين 1–3 في 0:00–0:10",  # numbers read the Arabic way
    "[الدفتر](../en/02_sdpa.ipynb) و<https://example.com/5.x>",  # link destinations and autolinks
    "المخصَّصة ≤ المحجوزة، و8 بت/4 بت",  # no Latin letter: the bidi algorithm mirrors and orders these itself
    "نص <!-- expected-run-times --> آخر",  # an HTML comment is not prose
    "<details>\n<summary>الحل</summary>",
])
def test_leaves_what_displays_correctly_alone(text):
    assert isolate_ltr(text) == text


def test_markdown_structure_is_never_inside_a_run():
    text = "- T4 أو\n1. GPU\n## A100 فقط\n> H100 هنا\n\n| القسم | sm80+ |\n|---|---|\n| a | b |"
    assert isolate_ltr(text) == (f"- {L}T4{R} أو\n1. {L}GPU{R}\n## {L}A100{R} فقط\n> {L}H100{R} هنا\n\n"
                                 f"| القسم | {L}sm80+{R} |\n|---|---|\n| {L}a{R} | {L}b{R} |")


def test_plain_strings_get_unicode_isolates_and_keep_placeholders():
    text = "بُني من {date} على {device} (`{profile}`) في [نتائج GPU]({results})"
    assert isolate_ltr(text, marks=True) == (f"بُني من {LRI}{{date}}{PDI} على {LRI}{{device}} (`{{profile}}`){PDI}"
                                             f" في [نتائج {LRI}GPU{PDI}]({{results}})")
    assert isolate_ltr("gg API", marks=True) == "gg API", "no right-to-left letter: not right-to-left prose"
    already = f"نص {LRI}`sdpa` C++{PDI} و C#"
    assert isolate_ltr(already) == f"نص {LRI}`sdpa` C++{PDI} و {L}C#{R}", "isolated text stays as it is"
    assert strip_isolates(isolate_ltr(text, marks=True)) == text


def test_fenced_blocks_get_an_ltr_container_and_stay_markdown():
    text = "لديك:\n```bash\n# NVIDIA (compiles)\npip install x\n```\nثم تابع."
    out = isolate_ltr(text)
    assert out == ('لديك:\n\n<div dir="ltr">\n\n```bash\n# NVIDIA (compiles)\npip install x\n```\n\n</div>\n\n'
                   "ثم تابع.")
    listed = "- خطوة:\n\n  ```bash\n  make venv\n  ```\n"
    assert isolate_ltr(listed) == '- خطوة:\n\n  <div dir="ltr">\n\n  ```bash\n  make venv\n  ```\n\n  </div>\n\n'
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    html = markdown2html_mistune(f'<div dir="rtl" lang="ar">\n\n{right_to_left(text)}\n\n</div>')
    assert re.search(r'<div dir="ltr">\s*(<div class="highlight">)?<pre>.*# NVIDIA', html), html
    assert f"<p>{P}ثم تابع.{Q}</p>" in html


def test_nothing_inside_protected_parts_changes():
    text = "انظر `5.x 02_sdpa` و$2.x_1$ و[5.x](https://h/02_sdpa)\n```\n02_sdpa 5.x\n```\n"
    out = isolate_ltr(text)
    for seg in segments(text):
        if seg.kind != "prose":
            assert seg.text in out
    assert len(mask(text)) == len(text) and "5.x" not in mask(text).replace("[5.x]", "")


def test_paragraphs_get_a_right_aligned_block_and_other_blocks_do_not():
    text = ("# عنوان\n\nفقرة أولى\nتكملة.\n\n- بند\n- بند ثان\n  تكملة\n\n| أ | ب |\n|---|---|\n| 1 | 2 |\n\n"
            "<details>\n<summary>الحل</summary>\n\nفقرة الحل\n\n```python\nx = 1\n```\n\n</details>\n\n"
            "> اقتباس\n>\n> ثان\n\nعنوان آخر\n---\n\nنص:\n- بند")
    assert rtl_paragraphs(text) == (
        f"# عنوان\n\n{P}فقرة أولى\nتكملة.{Q}\n\n- بند\n- بند ثان\n  تكملة\n\n| أ | ب |\n|---|---|\n| 1 | 2 |\n\n"
        f"<details>\n<summary>الحل</summary>\n\n{P}فقرة الحل{Q}\n\n```python\nx = 1\n```\n\n</details>\n\n"
        f"> {P}اقتباس{Q}\n>\n> {P}ثان{Q}\n\nعنوان آخر\n---\n\n{P}نص:{Q}\n- بند")
    loose = "- أ\n\n- ب\n\n  فقرة داخل البند"
    assert rtl_paragraphs(loose) == f"- {P}أ{Q}\n\n- {P}ب{Q}\n\n  {P}فقرة داخل البند{Q}"


def _arabic_cells() -> list[tuple[str, str]]:
    out = []
    for notebook in discover(ROOT):
        for cell in notebook.read("ar").cells:
            if cell.cell_type == "markdown" and 'dir="rtl"' in cell.source:
                out.append((f"ar/{notebook.name} {cell.id}", cell.source))
    return out


def test_every_paragraph_of_every_arabic_cell_is_right_aligned_markdown():
    """Rendered as nbconvert (and so the site) renders it: every <p> holds exactly one right-aligned block."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    cells = _arabic_cells()
    assert len(cells) > 150
    bad, paragraphs = [], 0
    for where, source in cells:
        for p in re.findall(r"<p>(.*?)</p>", markdown2html_mistune(source), re.S):
            paragraphs += 1
            if not (p.startswith(P) and p.endswith(Q)):
                bad.append(f"{where}: {p[:80]}")
    assert bad == [] and paragraphs > 150


def _bare_latin(text: str, marks: bool) -> list[str]:
    """Latin words of generated text that are in no isolate (a Python mirror of the browser's check)."""
    if marks:
        text = re.sub(f"{LRI}[^{PDI}]*{PDI}", "", text)
    else:
        text = re.sub(r'<span dir="ltr">.*?</span>', "", text, flags=re.S)
        text = re.sub(r'<div dir="ltr">.*?</div>', "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->|\$\$.*?\$\$|<[^>]+>|\]\([^)]*\)", "", text, flags=re.S)
    return re.findall(r"\S*[A-Za-z]\S*", text)


def test_every_latin_word_of_every_arabic_text_is_isolated():
    found = {where: _bare_latin(source, False) for where, source in _arabic_cells()}
    for page in discover_pages(ROOT):
        found[f"docs/pages/ar/{page.name}.md"] = _bare_latin(page.path("ar").read_text(encoding="utf-8"), False)
    for key, text in site_strings.strings(ROOT, "ar").items():
        if text != site_strings.STRINGS[key]:  # an untranslated string is English, not right-to-left prose
            found[f"site.po {key}"] = _bare_latin(text, True)
    assert {k: v for k, v in found.items() if v} == {}


def test_generated_arabic_cells_are_isolated_and_catalogs_are_not():
    notebook = Notebook("00_measuring", ROOT)
    cells = {c.id: c.source for c in notebook.read("ar").cells}
    assert f"{L}`gpuguide_utils.benchmark()`{R}" in cells["timing-discussion"]
    po = i18n.load_catalog(notebook, "ar")
    assert all('dir="ltr"' not in e.msgstr and LRI not in e.msgstr for e in po)
    # The index shows titles without the isolates (they only matter inside the right-to-left cell).
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    assert 'dir="ltr"' not in readme and "display: block" not in readme


# --- rendered in Chromium -------------------------------------------------------------------------------------------

#: Placeholder values for the site strings' page: left-to-right text that starts and ends with neutrals, as a device
#: name or a failure reason may ("(sm80+)", "C++").
SAMPLE = "(sm80+) C++ 1.5x"


@pytest.fixture(scope="module")
def arabic_pages(tmp_path_factory) -> dict[str, Path]:
    """Every Arabic text as Chromium sees it, one HTML page each: the notebooks' markdown cells as nbconvert's lab
    template renders them (JupyterLab's own markup and CSS), the instructor page and the site strings as the site's
    Markdown renders them, inside a right-to-left page with the site's stylesheet."""
    import markdown
    from nbconvert import HTMLExporter

    out = tmp_path_factory.mktemp("arabic")
    exporter = HTMLExporter(template_name="lab")
    pages = {}
    for notebook in discover(ROOT):
        nb = notebook.read("ar")
        nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]  # (code cells are not translated)
        path = out / f"{notebook.name}.html"
        path.write_text(exporter.from_notebook_node(nb)[0], encoding="utf-8")
        pages[notebook.name] = path
    extensions = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.details", "pymdownx.superfences"]

    def page(name: str, body: str) -> Path:
        path = out / f"{name}.html"
        path.write_text(f'<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
                        f'<link rel="stylesheet" href="{CSS.as_uri()}"></head><body>'
                        f'<article class="md-typeset gg-arabic" dir="rtl" lang="ar">{body}</article></body></html>',
                        encoding="utf-8")
        return path

    for guide in discover_pages(ROOT):
        pages[f"page:{guide.name}"] = page(guide.name, markdown.markdown(
            guide.path("ar").read_text(encoding="utf-8"), extensions=extensions))
    english = site_strings.STRINGS
    shown = {k: v for k, v in site_strings.strings(ROOT, "ar").items() if v != english[k]}
    body = "".join(f'<section data-cell-id="{html_lib.escape(k)}">'
                   f'{markdown.markdown(re.sub(r"{[a-z_]+}", SAMPLE, v), extensions=extensions)}</section>'
                   for k, v in shown.items())
    pages["site strings"] = page("site-strings", body)
    return pages


@contextmanager
def _page(chromium):
    """A tab of the session's Chromium (Playwright's sync API allows one Chromium per session; see conftest) that
    loads local files only: the CDN scripts nbconvert's template names are not fetched."""
    page = chromium.context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:", "about:"))
               else route.abort())
    try:
        yield page
    finally:
        page.close()


def _selector(name: str) -> str:
    return '.jp-MarkdownCell div[dir="rtl"]' if not name.startswith(("page:", "site")) else "article.gg-arabic"


def test_chromium_draws_every_isolated_span_of_every_arabic_text_in_order(arabic_pages, chromium):
    """For each isolate of each Arabic cell, the instructor page and the site strings: its characters in logical
    order from left to right (or on the next line), and no Latin letter outside an isolate."""
    with _page(chromium) as page:
        counts, disorder, bare = {}, [], []
        for name, path in arabic_pages.items():
            page.goto(path.as_uri())
            found = browser.isolate_order(page, _selector(name))
            counts[name] = (found["roots"], found["isolates"])
            disorder += [f"{name}: {d}" for d in found["disorder"]]
            bare += [f"{name}: {b}" for b in found["bare"]]
        print(f"{page.evaluate('navigator.userAgent')}: isolates checked (containers, isolates): {counts}, "
              f"{sum(n for _, n in counts.values())} in all")
        assert disorder == [] and bare == []
        assert all(n > 20 for _, n in counts.values()), counts
        assert sum(n for _, n in counts.values()) > 1500


def test_chromium_checks_can_fail(tmp_path, chromium):
    """Controls: the same text without isolates draws `sm80+` as `+sm80` and leaves Latin bare; a span that is not an
    isolate (unicode-bidi: normal) is caught out of order."""
    text = "تحتاج وحدة من فئة sm80+ مع C++ هنا."
    fake = text.replace("sm80+", '<span dir="ltr" style="unicode-bidi: normal">sm80+</span>')
    with _page(chromium) as page:
        for source, expected_disorder, expected_bare in ((isolate_ltr(text), False, False), (text, False, True),
                                                         (fake, True, True)):
            path = tmp_path / "control.html"
            path.write_text(f'<!doctype html><meta charset="utf-8"><article class="gg-arabic" dir="rtl">{source}'
                            "</article>", encoding="utf-8")
            page.goto(path.as_uri())
            found = browser.isolate_order(page, "article.gg-arabic")
            assert (bool(found["disorder"]), bool(found["bare"])) == (expected_disorder, expected_bare), (source, found)


#: The review's examples (shared/reviews/translation-ar.md): each must display left-to-right inside the Arabic page,
#: as code (EXAMPLES) or as plain text (TEXT_EXAMPLES).
EXAMPLES = ["benchmark()", "torch.cuda.synchronize()", 'attn_implementation="sdpa"', 'device_map="auto"', "02_sdpa",
            "01_flash_attention_2", "03_bitsandbytes", "16 GB", "70 GB"]
TEXT_EXAMPLES = ["5.x", "16 GB", "70 GB"]

_TEXT_ORDER = """(needles) => {  // for each occurrence in a right-to-left cell: is its first character left of its last?
  const out = [];
  for (const rtl of document.querySelectorAll('.jp-MarkdownCell div[dir="rtl"]')) {
    const walker = document.createTreeWalker(rtl, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const needle of needles) {
        for (let i = node.data.indexOf(needle); i >= 0; i = node.data.indexOf(needle, i + 1)) {
          const at = (k) => { const r = document.createRange(); r.setStart(node, k); r.setEnd(node, k + 1);
                              return r.getBoundingClientRect(); };
          const first = at(i), last = at(i + needle.length - 1);
          if (Math.abs(first.top - last.top) <= 2) out.push([needle, first.left < last.left]);
        }
      }
    }
  }
  return out;
}"""

_PROBE = """() => {
  const order = (el) => {  // true when the first character is drawn left of the last (left-to-right order)
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const nodes = []; while (walker.nextNode()) nodes.push(walker.currentNode);
    const text = nodes.map(n => n.data).join('');
    if (text.trim().length < 2 || text.includes('\\n')) return null;
    const rect = (node, i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                                return r.getBoundingClientRect(); };
    const first = rect(nodes[0], 0), lastNode = nodes[nodes.length - 1];
    const last = rect(lastNode, lastNode.data.length - 1);
    if (Math.abs(first.top - last.top) > 2) return null;  // wrapped over two lines
    return first.left < last.left;
  };
  const rows = [];
  for (const rtl of document.querySelectorAll('.jp-MarkdownCell div[dir="rtl"]')) {
    // inline code, bare isolates (versions, names), code blocks and the comment lines inside them
    for (const el of rtl.querySelectorAll('code, span[dir="ltr"]:not(:has(code)), pre, pre span.c1')) {
      const pre = el.closest('pre');
      const iso = pre ? pre.parentElement.closest('[dir]') : (el.matches('code') ? el.closest('[dir]') : el);
      rows.push({kind: pre ? (el === pre ? 'pre' : 'pre-line') : el.localName, text: el.textContent,
                 direction: getComputedStyle(el).direction, isolate: iso.getAttribute('dir'),
                 bidi: getComputedStyle(iso).unicodeBidi, align: pre ? getComputedStyle(pre).textAlign : null,
                 outer: getComputedStyle(iso.parentElement.closest('[dir]') || document.documentElement).direction, ltrOrder: order(el)});
    }
  }
  return rows;
}"""


def test_chromium_shows_code_and_versions_left_to_right_in_arabic_cells(arabic_pages, chromium):
    with _page(chromium) as page:
        rows, texts, seen = [], [], set()
        for notebook in discover(ROOT):
            page.goto(arabic_pages[notebook.name].as_uri())
            found = page.evaluate(_PROBE)
            assert found, f"ar/{notebook.name}: no code inside right-to-left cells"
            rows += [dict(r, notebook=notebook.name) for r in found]
            texts += [(notebook.name, *hit) for hit in page.evaluate(_TEXT_ORDER, TEXT_EXAMPLES)]
        for row in rows:
            where = f"ar/{row['notebook']} {row['kind']} {row['text']!r}"
            assert row["direction"] == "ltr", where  # the code itself
            assert row["isolate"] == "ltr" and row["bidi"] == "isolate", where  # its span or block container
            assert row["outer"] == "rtl", where  # ...inside the right-to-left cell
            assert row["ltrOrder"] in (True, None), f"{where} is drawn right-to-left"
            seen.add(row["text"])
        assert [e for e in EXAMPLES if not any(e in s for s in seen)] == []
        assert {needle for _, needle, _ in texts} == set(TEXT_EXAMPLES)
        assert [t for t in texts if not t[2]] == [], "drawn right-to-left"
        bash = [r for r in rows if r["kind"] == "pre" and "pip install -r requirements/flash.txt" in r["text"]]
        assert [r["notebook"] for r in bash] == ["01_flash_attention_2"] and bash[0]["align"] in ("start", "left")
        comments = [r for r in rows if r["kind"] == "pre-line" and r["text"].startswith("# NVIDIA")]
        assert comments and comments[0]["ltrOrder"] is True  # the '#' is drawn at the left, where the line starts


def test_chromium_arabic_paragraphs_are_right_aligned_where_the_stylesheet_left_aligns_them(arabic_pages, chromium):
    """nbconvert's lab template carries JupyterLab's `p { text-align: left }`: every line of every right-to-left
    block still ends at the block's right edge."""
    with _page(chromium) as page:
        rows = []
        for notebook in discover(ROOT):
            page.goto(arabic_pages[notebook.name].as_uri())
            rows += [dict(r, notebook=notebook.name) for r in browser.rtl_blocks(page, _selector(notebook.name))]
        assert len([r for r in rows if r["tag"] == "p"]) > 150
        assert [r for r in rows if r["direction"] != "rtl" or r["rightGap"] > 2] == []
