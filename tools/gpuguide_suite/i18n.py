"""Translations as gettext catalogs: one .po per notebook and language, msgid = English cell text, msgctxt = cell id.

`update` is msgmerge for notebooks (new cells appear untranslated, changed ones become fuzzy with the previous
English kept), `build` writes the translated notebooks, `problems` lists everything `check` fails on.
"""

from __future__ import annotations

import copy

import nbformat
import polib

from .bidi import right_to_left
from .catalog import Catalog, Problem, generated_problems, merge_entries  # noqa: F401  (Problem: what check modules import from here)
from .notebooks import RTL_LANGUAGES, SOURCE_LANG, Notebook, dumps, mark_generated, unmarked, write_if_changed

_RTL_OPEN = '<div dir="rtl" lang="ar">\n\n'
_RTL_CLOSE = "\n\n</div>"


def translatable_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Markdown cells carry prose; code cells are never translated (they stay byte-identical)."""
    return [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip()]


def catalog(notebook: Notebook, lang: str) -> Catalog:
    """The catalog of one notebook in one language (msgctxt = cell id, msgid = the English cell)."""
    return Catalog(notebook.root, notebook.catalog(lang), lang, f"notebooks/en/{notebook.name}.ipynb", unit="cell")


def units(notebook: Notebook) -> list[tuple[str, str]]:
    """(cell id, English) of every translatable cell, in order."""
    return [(cell.id, unmarked(cell.source)) for cell in translatable_cells(notebook.read(SOURCE_LANG))]


def load_catalog(notebook: Notebook, lang: str) -> polib.POFile:
    return catalog(notebook, lang).load()


def update_catalog(notebook: Notebook, lang: str) -> tuple[polib.POFile, dict[str, int]]:
    """Bring a catalog in line with the English notebook, like msgmerge. Returns the catalog and counts."""
    po = load_catalog(notebook, lang)
    return po, merge_entries(po, units(notebook), catalog(notebook, lang).source)


def save_catalog(po: polib.POFile, notebook: Notebook, lang: str) -> None:
    catalog(notebook, lang).save(po)


def localize(text: str, lang: str) -> str:
    """The generated cell: right-to-left prose in an RTL container, left-to-right runs isolated, paragraphs right-aligned
    (bidi.right_to_left)."""
    if lang not in RTL_LANGUAGES:
        return text
    return f"{_RTL_OPEN}{right_to_left(text)}{_RTL_CLOSE}"


def translated_notebook(notebook: Notebook, lang: str) -> nbformat.NotebookNode:
    """The English notebook with each markdown cell replaced by its translation (English where none is usable)."""
    source = notebook.read(SOURCE_LANG)
    usable = catalog(notebook, lang).usable()
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        entry = usable.get(cell.id)
        if cell.cell_type == "markdown" and entry is not None and entry.msgid == unmarked(cell.source):
            note = cell.source[:len(cell.source) - len(unmarked(cell.source))]  # a generated cell stays marked
            cell.source = note + localize(entry.msgstr, lang)
    meta = nb.metadata.setdefault("gpuguide", {})
    meta["lang"] = lang
    meta["generated_from"] = f"notebooks/en/{notebook.name}.ipynb"
    return mark_generated(nb, notebook.sources(lang))


def build(notebook: Notebook, lang: str) -> bool:
    """Write the generated notebook; True when its text changed."""
    return write_if_changed(notebook.path(lang), dumps(translated_notebook(notebook, lang)))


def catalog_problems(notebook: Notebook, lang: str) -> list[Problem]:
    """Missing, empty, fuzzy or stale translations, and a generated notebook that is out of date."""
    problems = catalog(notebook, lang).problems(units(notebook))
    if not notebook.catalog(lang).exists():
        return problems
    return problems + generated_problems(notebook.root, notebook.path(lang), dumps(translated_notebook(notebook, lang)),
                                         notebook.sources(lang))
