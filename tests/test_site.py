"""The executed-notebook site: built from the test session's own CPU run, then checked in a real browser.

Two builds: the real one (build/site, build/site-learner, every notebook and language, from `suite_run`) and a
small synthetic one in a temporary folder whose notebook carries every cell tag (injected-parameters, instructor,
solution, solution-run), math, an image and a widget, with a fake GPU results folder beside it.
Set GPUGUIDE_SITE_FROM_BUILD=1 to build from an existing build/ instead of running the notebooks first.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from gpuguide_suite import glossary, site_strings
from gpuguide_suite.index import colab_url
from gpuguide_suite.notebooks import LANGUAGES, TRANSLATED, Notebook, discover, dumps
from gpuguide_suite.site import EDITIONS, build_site
from gpuguide_suite.site_pages import (ALWAYS_HIDDEN, LEARNER_HIDDEN, filter_cells, meta_lines, rewrite_links,
                                       short_commit)
from tests import browser

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build"
NOTEBOOKS = [n.name for n in discover(ROOT)]
SYNTHETIC = "90_synthetic"
SYNTHETIC_LANGS = ["en", "ar"]
MARKERS = {"injected": "INJECTED-PARAMETERS-MARKER", "instructor": "INSTRUCTOR-NOTE-MARKER",
           "solution": "WORKED-SOLUTION-MARKER", "solution_run": "SOLUTION-RUN-MARKER"}
# A 4x4 red PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEklEQVR4nGP4z8CAB+GTG8HSALfKY52fTcuYAAAAAElFTkSuQmCC")
#: A term each language's search must find, and the notebook page it must lead to.
SEARCHES = {"en": ("quantization", "03_bitsandbytes"), "ar": ("التكميم", "03_bitsandbytes"),
            "ja": ("量子化", "03_bitsandbytes"), "zh": ("量化", "03_bitsandbytes")}


# ---------------------------------------------------------------------------------------------------- unit checks

def _tagged(source: str, tags: list[str], kind: str = "markdown", **fields) -> nbformat.NotebookNode:
    maker = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = maker(source, **fields)
    cell.metadata["tags"] = tags
    return cell


def test_editions_hide_the_right_cells():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# t"), _tagged("x = 1", ["injected-parameters"], "code"),
        _tagged("note", ["instructor"]), _tagged("<details>s</details>", ["solution"]),
        _tagged("run()", ["solution-run"], "code"), nbformat.v4.new_code_cell("y = 2")])
    full = filter_cells(nb, EDITIONS["full"].hidden)
    learner = filter_cells(nb, EDITIONS["learner"].hidden)
    assert [c.source for c in full.cells] == ["# t", "note", "<details>s</details>", "y = 2"]
    assert [c.source for c in learner.cells] == ["# t", "y = 2"]
    assert ALWAYS_HIDDEN <= EDITIONS["learner"].hidden and LEARNER_HIDDEN.isdisjoint(EDITIONS["full"].hidden)


def test_home_index_reads_any_metadata_and_tolerates_missing_keys():
    s = site_strings.strings(ROOT, "ja")
    lines = meta_lines({"title": "x", "profiles": {}, "hardware": "any CPU", "objectives": ["one thing", "another"],
                        "difficulty": {"en": "easy", "ja": "やさしい"}, "teaching_minutes": 5,
                        "duration_minutes": {"gpu-full": 3, "cpu": 1}, "requires": []}, "ja", s)
    text = "\n".join(lines)
    assert "ハードウェア" in text and "学習目標" in text and "やさしい" in text and "Teaching minutes" in text
    assert "`cpu` 1 · `gpu-full` ~3" in text, "profiles in their usual order, GPU minutes marked as estimates"
    measured = "\n".join(meta_lines({"duration_minutes": {"gpu-full": 3, "cpu": 1}}, "ja", s, {"gpu-full"}))
    assert "`cpu` 1 · `gpu-full` 3" in measured and "~" not in measured
    assert "profiles" not in text and "Requires" not in text and "必要なもの" not in text
    assert meta_lines({}, "en", site_strings.strings(ROOT, "en")) == []


def test_links_to_missing_files_keep_their_text():
    text = "![c](charts/a.png) [r](report.md) [gone](executed/en/x.ipynb) [web](https://example.org) [top](#x)"
    out = rewrite_links(text, lambda t: f"gpu/{t}" if not t.startswith("executed") else None)
    assert out == "![c](gpu/charts/a.png) [r](gpu/report.md) gone [web](https://example.org) [top](#x)"


def has_words(text: str) -> bool:
    """Whether text has words to translate once placeholders, markup, `gg` and acronyms are set aside."""
    words = re.sub(r"\{[^}]*\}|\bgg\b|\b[A-Z]{2,}\b", " ", text)
    return re.search(r"[A-Za-z]{2,}", words) is not None


@pytest.mark.parametrize("lang", TRANSLATED)
def test_site_strings_are_translated_in_one_catalog_per_language(lang):
    assert site_strings.problems(ROOT, lang) == []
    translated = site_strings.strings(ROOT, lang)
    assert set(translated) == set(site_strings.STRINGS)
    kept = {t.english.lower() for t in glossary.load(ROOT, lang).terms if t.sanctioned.lower() == t.english.lower()}
    same = [k for k, v in translated.items()
            if v == site_strings.STRINGS[k] and v.lower() not in kept and has_words(v)]
    assert same == [], f"still English in {lang} (and not kept in English by its glossary): {same}"


def test_site_catalog_check_catches_a_lost_placeholder(tmp_path):
    (tmp_path / "notebooks" / "i18n" / "ja").mkdir(parents=True)
    site_strings.update(tmp_path, "ja")
    assert any("not translated" in p.message for p in site_strings.problems(tmp_path, "ja"))
    path = site_strings.catalog_path(tmp_path, "ja")
    text = path.read_text(encoding="utf-8").replace('msgid "Built from the run of {date}, commit {commit}."\nmsgstr ""',
                                                    'msgid "Built from the run of {date}, commit {commit}."\nmsgstr "生成"')
    path.write_text(text, encoding="utf-8")
    assert any("site.footer: the translation must keep every placeholder" in str(p)
               for p in site_strings.problems(tmp_path, "ja"))


# ------------------------------------------------------------------------------------------------- the two builds

@pytest.fixture(scope="session")
def real_site(request) -> list[str]:
    """The site of this session's own CPU run (suite_run), in build/site and build/site-learner."""
    if not (os.environ.get("GPUGUIDE_SITE_FROM_BUILD") and (OUT / "summary.json").exists()):
        request.getfixturevalue("suite_run")
    return build_site(ROOT, OUT, OUT)


def _synthetic_notebook(lang: str) -> nbformat.NotebookNode:
    def prose(text: str) -> str:
        return f'<div dir="rtl" lang="ar">\n\n{text}\n\n</div>' if lang == "ar" else text

    png = nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode(),
                                                        "text/plain": "<Figure>"})
    widget = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "image/png": base64.b64encode(PNG).decode(), "text/plain": "VBox()"})  # a static picture, as 06's explorer
    cells = [
        nbformat.v4.new_markdown_cell(prose("# Synthetic lesson\n\nThe score matrix is $S = QK^T$.")),
        _tagged("x = 1", ["parameters"], "code", execution_count=1),
        _tagged(f"x = 2  # {MARKERS['injected']}", ["injected-parameters"], "code", execution_count=2),
        _tagged(prose(f"{MARKERS['instructor']}: spend five minutes here."), ["instructor"]),
        nbformat.v4.new_markdown_cell(prose("## Exercise\n\nMake it faster.")),
        _tagged(prose(f"<details><summary>Solution</summary>\n\n{MARKERS['solution']}\n\n</details>"), ["solution"]),
        _tagged(f"print('{MARKERS['solution_run']}')", ["solution-run"], "code", execution_count=3,
                outputs=[nbformat.v4.new_output("stream", name="stdout", text=MARKERS["solution_run"] + "\n")]),
        nbformat.v4.new_code_cell("plot()", execution_count=4, outputs=[png]),
        nbformat.v4.new_code_cell("explorer", execution_count=5, outputs=[widget]),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["gpuguide"] = {"title": "Synthetic lesson", "hardware": "any CPU", "objectives": ["read a site"],
                               "difficulty": {"en": "easy", "ar": "سهل"}, "teaching_minutes": 5, "lang": lang}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    nb.metadata["papermill"] = {"parameters": {"x": 2, "results_path": "/tmp/r.json"}, "duration": 1.5,
                                "start_time": "2026-01-02T03:04:00+00:00", "end_time": "2026-01-02T03:04:05+00:00"}
    return nb


@pytest.fixture(scope="session")
def synthetic_site(tmp_path_factory) -> Path:
    """A site of one synthetic notebook (en, ar) with every cell tag, and a fake GPU results folder."""
    base = tmp_path_factory.mktemp("site")
    build = base / "build"
    for lang in SYNTHETIC_LANGS:
        path = build / "executed" / lang / f"{SYNTHETIC}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(dumps(_synthetic_notebook(lang)), encoding="utf-8")
    (build / "charts").mkdir()
    (build / "charts" / "synthetic.png").write_bytes(PNG)
    (build / "summary.json").write_text(json.dumps({
        "profile": "cpu", "commit": "0123456789abcdef0123456789abcdef01234567",
        "started": "2026-01-02T03:00:00+00:00", "finished": "2026-01-02T03:05:00+00:00",
        "environment": {"label": "CPU: Synthetic", "python_version": "3.11.7", "versions": {"torch": "2.13.0"}},
        "outcomes": [{"notebook": SYNTHETIC, "lang": lang, "status": "ok", "reason": "", "seconds": 1.5}
                     for lang in SYNTHETIC_LANGS]}))
    (build / "report.md").write_text(
        "# gpuguide run report\n\nProfile `cpu`.\n\n## Notebooks\n\n| notebook | lang | executed notebook |\n|---|---|---|\n"
        + "".join(f"| {SYNTHETIC} | {lang} | [{SYNTHETIC}.ipynb](executed/{lang}/{SYNTHETIC}.ipynb) |\n"
                  for lang in SYNTHETIC_LANGS)
        + "\n[a missing file](nowhere/missing.txt)\n\n## Charts\n\n![synthetic](charts/synthetic.png)\n")
    results = base / "results"
    gpu = results / "fake-h100"
    (gpu / "charts").mkdir(parents=True)
    (gpu / "charts" / "latency.png").write_bytes(PNG)
    (results / "README.md").write_text("# Measured results\n\nOne folder per GPU.\n")
    (gpu / "README.md").write_text(
        "# Fake H100 80GB\n\nCommand: `make run PROFILE=gpu-full`, 2026-01-02, commit 0123456.\n\n"
        "![latency](charts/latency.png)\n\nThe [full report](report.md); [executed](executed/en/x.ipynb) was not kept.\n")
    (gpu / "report.md").write_text("# Report\n\n![latency](charts/latency.png)\n")
    warnings = build_site(ROOT, build, base, SYNTHETIC_LANGS, list(EDITIONS), results, names=[SYNTHETIC])
    assert warnings == []
    return base


def _site_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "mathjax" not in p.parts]


def test_real_site_builds_every_page_in_every_language_without_warnings(real_site):
    assert real_site == [], "MkDocs warnings (broken links, missing files, bad config)"
    for edition in EDITIONS.values():
        assert (OUT / edition.folder / "index.html").read_text().count('url=en/index.html')
        for lang in LANGUAGES:
            site = OUT / edition.folder / lang
            for page in ["index.html", "results.html", "gpu-results.html",
                         *[f"notebooks/{n}.html" for n in NOTEBOOKS]]:
                assert (site / page).is_file(), f"{edition.folder}/{lang}/{page}"
            assert f'lang="{lang}"' in (site / "index.html").read_text()[:300]
    assert re.search(r'<body dir="rtl"', (OUT / "site" / "ar" / "index.html").read_text())


def test_notebook_pages_say_where_their_outputs_come_from(real_site):
    summary = json.loads((OUT / "summary.json").read_text())
    for lang in LANGUAGES:
        s = site_strings.strings(ROOT, lang)
        for name in NOTEBOOKS:
            page = (OUT / "site" / lang / "notebooks" / f"{name}.html").read_text()
            assert s["prov.title"] in page and s["prov.device"] in page and s["prov.commit"] in page
            assert f"<code>{summary['profile']}</code>" in page
            commit = summary.get("commit", "")
            assert short_commit(commit) in page if commit not in ("", "unknown") else s["unknown"] in page
            assert colab_url(Notebook(name, ROOT), lang).replace("&", "&amp;") in page
            assert f'href="../downloads/{name}.ipynb"' in page
            assert (OUT / "site" / lang / "downloads" / f"{name}.ipynb").is_file()
            assert "celltag_injected-parameters" not in page, "papermill's injected parameters are never shown"


def test_every_markdown_table_is_rendered_as_a_table(real_site):
    """A results table whose header holds an unescaped '|' (as "max |diff|" once did) shows as a paragraph of pipes."""
    broken = []
    for page in sorted((OUT / "site").glob("*/**/*.html")):
        if "mathjax" in page.parts:
            continue
        broken += [f"{page.relative_to(OUT)}: {m[:80]}" for m in re.findall(r"<p>\s*(\|[^<]*\|\s*\|-{3})", page.read_text())]
    assert broken == []


def test_learner_site_has_no_solution_or_instructor_cell(synthetic_site, real_site):
    for root in (synthetic_site / "site-learner", OUT / "site-learner"):
        for path in _site_files(root):
            if path.suffix in (".html", ".json", ".ipynb", ".md"):
                text = path.read_text(encoding="utf-8", errors="replace")
                for marker in ("instructor", "solution", "solution_run"):
                    assert MARKERS[marker] not in text, f"{marker} in {path}"
                assert "celltag_instructor" not in text and "celltag_solution" not in text, path
            if path.suffix == ".ipynb":
                nb = nbformat.read(path, 4)
                assert not [c for c in nb.cells if {"instructor", "solution", "solution-run"} & set(c.metadata.get("tags", []))]


def test_full_site_shows_instructor_notes_and_folded_solutions_only(synthetic_site):
    for lang in SYNTHETIC_LANGS:
        page = (synthetic_site / "site" / lang / "notebooks" / f"{SYNTHETIC}.html").read_text()
        assert MARKERS["instructor"] in page and site_strings.strings(ROOT, lang)["instructor.label"] in page
        assert re.search(r"<details>\s*<summary>Solution</summary>.*" + MARKERS["solution"], page, re.S)
        assert MARKERS["injected"] not in page and MARKERS["solution_run"] not in page
        index = (synthetic_site / "site" / lang / "search" / "search_index.json").read_text()
        assert MARKERS["injected"] not in index and MARKERS["solution_run"] not in index
        assert not re.search(r"https?://[^\"'\s]*(cdn|unpkg|jsdelivr)", page) and "widget-state" not in page
        assert site_strings.strings(ROOT, lang)["widget.static"] in page and 'class="gg-widget-preview"' in page


def test_gpu_results_page_renders_every_stored_folder(synthetic_site):
    page = (synthetic_site / "site" / "en" / "gpu-results.html").read_text()
    assert "Fake H100 80GB" in page and "One folder per GPU" in page
    assert 'src="gpu-results/fake-h100/charts/latency.png"' in page
    assert 'href="gpu-results/fake-h100/report.html"' in page
    assert "executed/en/x.ipynb" not in page and "was not kept" in page
    assert (synthetic_site / "site" / "en" / "gpu-results" / "fake-h100" / "charts" / "latency.png").is_file()
    assert "No GPU results have been stored yet" not in page


# ------------------------------------------------------------------------------------------------- in a browser

def _pages(site_root: Path) -> list[Path]:
    """Every page of every language of one edition. The per-language 404.html pages are left out: their links are
    absolute to the published address (site_url), as MkDocs makes them for pages served at any missing path."""
    return sorted(p for p in site_root.glob("*/**/*.html") if p.name != "404.html" and "mathjax" not in p.parts)


#: The learner edition is the full one less its tagged cells, built by the same code: the browser loads its pages in
#: one left-to-right and one right-to-left language (test_learner_site_has_no_solution_or_instructor_cell reads every
#: file of every language), and every page of the full edition.
LEARNER_VISITED = ("en", "ar")


def _visited(served: Path) -> list[Path]:
    full, learner = (_pages(served / edition.folder) for edition in (EDITIONS["full"], EDITIONS["learner"]))
    return full + [p for p in learner if p.relative_to(served / EDITIONS["learner"].folder).parts[0] in LEARNER_VISITED]


@pytest.fixture(scope="session")
def visits(chromium, real_site, synthetic_site) -> dict[str, tuple[str, Path, list[browser.Visit]]]:
    """The pages of both builds (see LEARNER_VISITED), loaded once each: (base URL, served folder, visits)."""
    out = {}
    for label, served in (("real", OUT), ("synthetic", synthetic_site)):
        with browser.serve(served) as base:
            urls = [base + p.relative_to(served).as_posix() for p in _visited(served)]
            out[label] = (base, served, chromium.visit_all(urls))
    return out


def _all(visits) -> list[tuple[str, Path, browser.Visit]]:
    return [(base, served, v) for base, served, vs in visits.values() for v in vs]


def test_every_page_loads_without_console_errors_or_failed_requests(visits):
    problems = [f"{v.url}: {kind}: {items}" for _, _, v in _all(visits)
                for kind, items in (("console", v.console_errors), ("failed", v.failed)) if items]
    assert problems == []
    assert len(visits["real"][2]) >= (len(LANGUAGES) + len(LEARNER_VISITED)) * (len(NOTEBOOKS) + 3)


def test_pages_load_nothing_from_the_internet(visits):
    assert [f"{v.url}: {v.external}" for _, _, v in _all(visits) if v.external] == []


def test_every_internal_link_resolves(visits):
    problems = set()
    for base, served, v in _all(visits):
        for link in v.links:
            why = browser.unresolved(link["href"], base, served)
            if why:
                problems.add(f"{v.url}: {why}")
    assert sorted(problems) == []


def test_language_switcher_leads_to_the_same_page_in_every_language(visits):
    for base, served, vs in visits.values():
        langs = LANGUAGES if served == OUT else SYNTHETIC_LANGS
        for v in vs:
            here = v.url[len(base):]
            edition, lang, page = here.split("/", 2)
            targets = {link["lang"]: link["href"][len(base):] for link in v.switcher}
            assert targets == {other: f"{edition}/{other}/{page}" for other in langs}, v.url
            for href in targets.values():
                assert (served / href).is_file()


def test_arabic_pages_are_right_to_left_with_code_left_to_right(visits):
    arabic = [v for _, _, v in _all(visits) if "/ar/" in v.url]
    assert arabic
    assert [v.url for v in arabic if v.direction != "rtl"] == []
    assert [(v.url, v.rtl_code[:3]) for v in arabic if v.rtl_code] == []
    assert [(v.url, v.rtl_prose_left) for v in arabic if v.rtl_prose_left] == [], "Arabic prose aligned to the left"
    assert [v.url for _, _, v in _all(visits) if "/ar/" not in v.url and v.direction != "ltr"] == []


def test_every_image_loads(visits):
    assert [(v.url, v.broken_images) for _, _, v in _all(visits) if v.broken_images] == []
    results = [v for _, _, v in _all(visits) if v.url.endswith("/results.html")]
    assert results and all(v.images >= 1 for v in results), "the results pages show the run's charts"
    gpu = [v for base, served, vs in visits.values() if served != OUT for v in vs if v.url.endswith("gpu-results.html")]
    assert gpu and all(v.images >= 1 for v in gpu)


def test_math_is_typeset(chromium, synthetic_site):
    with browser.serve(synthetic_site) as base:
        page = chromium.open(base + f"site/en/notebooks/{SYNTHETIC}.html", browser.Visit("math"))
        page.wait_for_function("() => document.querySelector('.MathJax, .MathJax_Display, mjx-container') !== null")
        assert "$S = QK^T$" not in page.inner_text("article")
        page.close()


def test_a_request_still_unanswered_is_named_and_its_page_loaded_once_more(chromium):
    """Browser.settle waits for requests made after the page loaded and names one that does not come back in time;
    visit_all loads such a page once more, and that visit counts."""
    import http.server
    import threading
    import time

    asked = []  # the query of every request for slow.txt: its delay in seconds, "-once" if only the first is slow

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/slow.txt":
                asked.append(query)
                if not query.endswith("-once") or asked.count(query) == 1:
                    time.sleep(float(query.split("-")[0]))
            body = b"<script>addEventListener('load', () => fetch('slow.txt' + location.search))</script>" \
                if path == "/" else b"x"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class QuietServer(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:
            pass  # an answer written after the tab closed

    server = QuietServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        early, late = browser.Visit("early"), browser.Visit("late")
        page = chromium.open(base + "?6", early)
        chromium.settle(page, early, timeout_s=1)
        page.close()
        assert early.failed == [f"{base}slow.txt?6 (no answer within 1 s)"] and early.unanswered == [f"{base}slow.txt?6"]
        page = chromium.open(base + "?2", late)
        chromium.settle(page, late, timeout_s=20)
        page.close()
        assert late.failed == [] and not late.in_flight, "an answer after 2 s is waited for"

        chromium.settle_timeout_s = 1
        try:
            once, never = chromium.visit_all([base + "?10-once", base + "?30"])
        finally:
            chromium.settle_timeout_s = 30.0
        assert once.failed == [] and asked.count("10-once") == 2, "loaded again, and the second load counts"
        assert never.failed == [f"{base}slow.txt?30 (no answer within 1 s)"] and asked.count("30") == 2
    finally:
        server.shutdown()
        server.server_close()


def test_root_index_redirects_to_english(chromium, real_site):
    with browser.serve(OUT) as base:
        for edition in EDITIONS.values():
            visit = browser.Visit("root")
            page = chromium.open(base + f"{edition.folder}/index.html", visit)
            page.wait_for_url(f"**/{edition.folder}/en/index.html")
            page.close()
            assert visit.console_errors == [] and visit.failed == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_finds_a_known_term(chromium, real_site, lang):
    term, notebook = SEARCHES[lang]
    with browser.serve(OUT) as base:
        hrefs, visit = chromium.search(base + f"site/{lang}/index.html", term)
    assert any(h.split("#")[0].endswith(f"site/{lang}/notebooks/{notebook}.html") for h in hrefs), (term, hrefs)
    assert visit.console_errors == [] and visit.failed == [] and visit.external == []
