"""Translations as gettext catalogs: one .po per notebook and language, msgid = English cell text, msgctxt = cell id.

`update` is msgmerge for notebooks (new cells appear untranslated, changed ones become fuzzy with the previous
English kept), `build` writes the translated notebooks, `problems` lists everything `check` fails on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Iterable

import nbformat
import polib

from .bidi import isolate_ltr
from .notebooks import RTL_LANGUAGES, SOURCE_LANG, Notebook, dumps

LANGUAGE_NAMES = {"ar": "Arabic", "ja": "Japanese", "zh": "Chinese (Simplified)"}
_PLURALS = {"ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
            "ja": "nplurals=1; plural=0;", "zh": "nplurals=1; plural=0;"}
_RTL_OPEN = '<div dir="rtl" lang="ar">\n\n'
_RTL_CLOSE = "\n\n</div>"


def translatable_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Markdown cells carry prose; code cells are never translated (they stay byte-identical)."""
    return [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip()]


def _new_catalog(notebook: Notebook, lang: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": f"gpuguide {notebook.name}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": _PLURALS[lang],
    }
    po.header = f"{LANGUAGE_NAMES[lang]} translation of notebooks/en/{notebook.name}.ipynb (gpuguide)."
    return po


def load_catalog(notebook: Notebook, lang: str) -> polib.POFile:
    path = notebook.catalog(lang)
    if path.exists():
        po = polib.pofile(str(path), wrapwidth=0)
        po.wrapwidth = 0
        return po
    return _new_catalog(notebook, lang)


def merge_entries(po: polib.POFile, sources: Iterable[tuple[str, str]], occurrence: str) -> dict[str, int]:
    """msgmerge, in place: one entry per (context, English) in source order; new ones untranslated, changed ones fuzzy
    with the English their translation was made from kept as previous_msgid, vanished ones obsolete. Returns counts."""
    by_ctxt = {e.msgctxt: e for e in po if not e.obsolete}
    counts = {"new": 0, "fuzzy": 0, "obsolete": 0}
    wanted = []
    for ctxt, english in sources:
        entry = by_ctxt.get(ctxt)
        if entry is None:
            entry = polib.POEntry(msgctxt=ctxt, msgid=english, msgstr="")
            counts["new"] += 1
        elif entry.msgid != english:
            if "fuzzy" not in entry.flags or not entry.previous_msgid:  # keep the English the translation was made from
                entry.previous_msgid = entry.msgid
            entry.msgid = english
            if entry.msgstr and "fuzzy" not in entry.flags:
                entry.flags.append("fuzzy")
            counts["fuzzy"] += 1
        entry.occurrences = [(occurrence, "")]
        wanted.append(entry)
    kept = {e.msgctxt for e in wanted}
    for entry in po:
        if not entry.obsolete and entry.msgctxt not in kept:
            entry.obsolete = True
            counts["obsolete"] += 1
    po[:] = wanted + [e for e in po if e.obsolete]
    return counts


def update_catalog(notebook: Notebook, lang: str) -> tuple[polib.POFile, dict[str, int]]:
    """Bring a catalog in line with the English notebook, like msgmerge. Returns the catalog and counts."""
    po = load_catalog(notebook, lang)
    source = notebook.read(SOURCE_LANG)
    counts = merge_entries(po, [(cell.id, cell.source) for cell in translatable_cells(source)],
                           f"notebooks/en/{notebook.name}.ipynb")
    return po, counts


def save_catalog(po: polib.POFile, notebook: Notebook, lang: str) -> None:
    path = notebook.catalog(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.wrapwidth = 0
    text = po.__unicode__()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _localize(text: str, lang: str) -> str:
    """The generated cell: right-to-left prose in an RTL container, with code and versions isolated left-to-right."""
    if lang not in RTL_LANGUAGES:
        return text
    return f"{_RTL_OPEN}{isolate_ltr(text)}{_RTL_CLOSE}"


def translated_notebook(notebook: Notebook, lang: str) -> nbformat.NotebookNode:
    """The English notebook with each markdown cell replaced by its translation (English where none is usable)."""
    source = notebook.read(SOURCE_LANG)
    po = load_catalog(notebook, lang)
    usable = {e.msgctxt: e for e in po if not e.obsolete and e.msgstr and "fuzzy" not in e.flags}
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        entry = usable.get(cell.id)
        if cell.cell_type == "markdown" and entry is not None and entry.msgid == cell.source:
            cell.source = _localize(entry.msgstr, lang)
    meta = nb.metadata.setdefault("gpuguide", {})
    meta["lang"] = lang
    meta["generated_from"] = f"notebooks/en/{notebook.name}.ipynb"
    meta["do_not_edit"] = f"generated by `python -m gpuguide_suite build` from notebooks/i18n/{lang}/{notebook.name}.po"
    return nb


def build(notebook: Notebook, lang: str) -> bool:
    """Write the generated notebook; True when its text changed."""
    path = notebook.path(lang)
    text = dumps(translated_notebook(notebook, lang))
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def catalog_problems(notebook: Notebook, lang: str) -> list[Problem]:
    """Missing, empty, fuzzy or stale translations, and a generated notebook that is out of date."""
    cat = str(notebook.catalog(lang).relative_to(notebook.root))
    if not notebook.catalog(lang).exists():
        return [Problem(cat, "catalog missing (run: python -m gpuguide_suite update)")]
    po = load_catalog(notebook, lang)
    by_ctxt = {e.msgctxt: e for e in po if not e.obsolete}
    problems = []
    for cell in translatable_cells(notebook.read(SOURCE_LANG)):
        entry = by_ctxt.get(cell.id)
        if entry is None:
            problems.append(Problem(cat, f"cell {cell.id}: no entry (run suite update, then translate)"))
        elif entry.msgid != cell.source:
            problems.append(Problem(cat, f"cell {cell.id}: stale, the English changed since (run suite update)"))
        elif "fuzzy" in entry.flags:
            problems.append(Problem(cat, f"cell {cell.id}: fuzzy, review the translation and remove the flag"))
        elif not entry.msgstr.strip():
            problems.append(Problem(cat, f"cell {cell.id}: not translated"))
    generated = notebook.path(lang)
    rel = str(generated.relative_to(notebook.root))
    if not generated.exists():
        problems.append(Problem(rel, "generated notebook missing (run: python -m gpuguide_suite build)"))
    elif generated.read_text(encoding="utf-8") != dumps(translated_notebook(notebook, lang)):
        problems.append(Problem(rel, "out of date with notebooks/en and the catalog (run: python -m gpuguide_suite build)"))
    return problems
