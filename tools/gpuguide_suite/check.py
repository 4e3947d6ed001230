"""`suite check`: what CI fails on before running anything (clean notebooks, metadata, translations up to date)."""

from __future__ import annotations

import re
from pathlib import Path

from . import glossary as glossaries
from . import i18n, site_strings, style
from .api_use import api_problems
from .claims import discussion_problems
from .notebooks import (
    LANGUAGES,
    REQUIRED_METADATA,
    SOURCE_LANG,
    TRANSLATED,
    Notebook,
    discover,
    is_clean,
    parameters_cell,
    read_notebook,
)
from .catalog import Problem, generated_problems
from .lessons import (exercise_problems, learner_copy, lesson_problems, prediction_problems, solution_code,
                      with_generated_cells)
from .notebooks import dumps
from .profiles import PROFILES, SIZES

REQUIRED_PARAMETERS = ("profile", "results_path")


def source_problems(notebook: Notebook) -> list[Problem]:
    """Structure every English source notebook must have."""
    rel = str(notebook.path().relative_to(notebook.root))
    nb = notebook.read()
    problems = []
    meta = nb.metadata.get("gpuguide")
    if not isinstance(meta, dict):
        return [Problem(rel, "metadata.gpuguide is missing")]
    for key in REQUIRED_METADATA:
        if key not in meta:
            problems.append(Problem(rel, f"metadata.gpuguide.{key} is missing"))
    if "lesson" in meta:
        problems += [Problem(rel, message) for message in lesson_problems(meta)]
    if "profiles" in meta:
        problems.append(Problem(rel, "metadata.gpuguide.profiles is obsolete: sizes live in gpuguide_utils/profiles.py"))
    sizes = SIZES.get(notebook.name)
    if sizes is None:
        problems.append(Problem(rel, "gpuguide_utils/profiles.py SIZES has no entry for this notebook"))
        sizes = {}
    for profile in PROFILES:
        if profile not in sizes:
            problems.append(Problem(rel, f"gpuguide_utils/profiles.py SIZES has no {profile!r} sizes for it"))
    if dumps(with_generated_cells(nb)) != dumps(nb):
        problems.append(Problem(rel, "the lesson and key-points cells are generated from metadata.gpuguide.lesson: "
                                     "edit the metadata, not the cells, then run: make build"))
    ids_present = {c.get("id") for c in nb.cells}
    for needed in ("lesson", "key-points"):
        if needed not in ids_present:
            problems.append(Problem(rel, f"no cell with id {needed!r} (generated from metadata.gpuguide.lesson)"))
    problems += [Problem(rel, message) for message in exercise_problems(nb)]
    if re.match(r"0[1-9]_", notebook.name):  # the technique notebooks: predict, then measure
        problems += [Problem(rel, message) for message in prediction_problems(nb)]
    if not any("exercise" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        problems.append(Problem(rel, "no exercise (a markdown cell tagged 'exercise', then a 'solution')"))
    ids = [c.get("id") for c in nb.cells]
    if None in ids or len(set(ids)) != len(ids):
        problems.append(Problem(rel, "every cell needs a unique id (they key the translations)"))
    if not nb.cells or nb.cells[0].cell_type != "markdown" or not nb.cells[0].source.startswith("# "):
        problems.append(Problem(rel, "the first cell must be a markdown title ('# ...')"))
    code = [(c.get("id"), c.source if c.cell_type == "code" else solution_code(c)) for c in nb.cells
            if c.cell_type == "code" or "solution" in c.get("metadata", {}).get("tags", [])]
    problems += [Problem(rel, message) for message in api_problems(code)]
    problems += [Problem(rel, message) for message in discussion_problems(nb)]
    params = parameters_cell(nb)
    if params is None:
        problems.append(Problem(rel, "no code cell tagged 'parameters' (papermill injects values after it)"))
    else:
        wanted = list(REQUIRED_PARAMETERS) + sorted({k for p in (sizes or {}).values() for k in p})
        for name in wanted:
            if f"\n{name} =" not in "\n" + params.source:
                problems.append(Problem(rel, f"the parameters cell does not define {name}"))
    return problems


def learner_problems(notebook: Notebook) -> list[Problem]:
    """Learner copies exist for every language and equal the notebook minus solutions and instructor notes."""
    problems = []
    for lang in LANGUAGES:
        path = notebook.learner_path(lang)
        if notebook.path(lang).exists():
            expected = dumps(learner_copy(notebook.read(lang), notebook.sources(lang)))
            problems += generated_problems(notebook.root, path, expected, notebook.sources(lang))
    return problems


def output_problems(root: Path) -> list[Problem]:
    """No notebook under notebooks/ may carry outputs or execution counts (executed copies live in build/)."""
    problems = []
    for path in sorted((root / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        if not is_clean(read_notebook(path)):
            problems.append(Problem(str(path.relative_to(root)), "has outputs (run: make strip, or install the "
                                                                 "pre-commit hook: pre-commit install)"))
    return problems


def orphan_problems(root: Path, names: set[str]) -> list[Problem]:
    problems = []
    folders = [root / "notebooks" / lang for lang in LANGUAGES] + [root / "notebooks" / "learner" / lang for lang in LANGUAGES]
    for folder in folders:
        for path in sorted(folder.glob("*.ipynb")):
            if path.stem not in names:
                problems.append(Problem(str(path.relative_to(root)), f"no notebooks/{SOURCE_LANG}/{path.name} to generate it from"))
    return problems


def index_problems(root: Path) -> list[Problem]:
    from .index import outputs

    try:
        expected = outputs(root)
    except ValueError as error:
        return [Problem("README.md", str(error))]
    return [Problem(str(path.relative_to(root)), "notebook index out of date (run: python -m gpuguide_suite build)")
            for path, text in expected.items() if not path.exists() or path.read_text(encoding="utf-8") != text]


def glossary_problems(root: Path, lang: str) -> tuple[glossaries.Glossary, list[Problem]]:
    """The language's glossary, and what is wrong with the file itself."""
    glossary = glossaries.load(root, lang)
    rel = str(glossaries.glossary_path(root, lang).relative_to(root))
    if glossary.path is None:
        return glossary, [Problem(rel, "glossary missing (see README: Adding or updating a translation)")]
    return glossary, [Problem(rel, error) for error in glossary.errors]


def wording_problems(notebook: Notebook, lang: str, glossary: glossaries.Glossary) -> list[Problem]:
    """Forbidden renderings of glossary terms and breaches of the style guide's mechanical rules, per cell (or page
    section: anything with a catalog(lang) and a root)."""
    if not notebook.catalog(lang).exists():
        return []
    cat = str(notebook.catalog(lang).relative_to(notebook.root))
    gloss = str(glossaries.glossary_path(notebook.root, lang).relative_to(notebook.root))
    problems = []
    import polib

    for entry in polib.pofile(str(notebook.catalog(lang)), wrapwidth=0):
        if entry.obsolete or not entry.msgstr:
            continue
        for term, found in glossary.problems(entry.msgid, entry.msgstr):
            problems.append(Problem(cat, f"cell {entry.msgctxt}: glossary: «{found}» is a forbidden rendering of "
                                         f"{term.key!r}; use «{term.sanctioned}» ({gloss})"))
        for finding in style.findings(entry.msgstr, lang):
            problems.append(Problem(cat, f"cell {entry.msgctxt}: style: {finding} (notebooks/i18n/{lang}/STYLE.md)"))
    return problems


def all_problems(root: Path) -> list[Problem]:
    notebooks = discover(root)
    problems = output_problems(root) + orphan_problems(root, {n.name for n in notebooks})
    if not notebooks:
        problems.append(Problem("notebooks/en", "no notebooks"))
    if any(n.name == Path(glossaries.GLOSSARY_NAME).stem for n in notebooks):
        problems.append(Problem("notebooks/en", f"no notebook may be named {Path(glossaries.GLOSSARY_NAME).stem!r}: "
                                                 f"notebooks/i18n/<lang>/{glossaries.GLOSSARY_NAME} is the glossary"))
    loaded = {}
    for lang in TRANSLATED:
        loaded[lang], found = glossary_problems(root, lang)
        problems += found
    for notebook in notebooks:
        problems += source_problems(notebook)
        for lang in TRANSLATED:
            problems += i18n.catalog_problems(notebook, lang)
            problems += wording_problems(notebook, lang, loaded[lang])
        problems += learner_problems(notebook)
    from .pages import all_page_problems, discover_pages

    problems += all_page_problems(root)
    for page in discover_pages(root):
        for lang in TRANSLATED:
            problems += wording_problems(page, lang, loaded[lang])
    if notebooks:
        problems += index_problems(root)
    for lang in TRANSLATED:
        problems += site_strings.problems(root, lang)
        problems += wording_problems(_SiteStrings(root), lang, loaded[lang])
    return problems


class _SiteStrings:
    """The site's strings catalog, shaped like a notebook for wording_problems (glossary and style rules)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def catalog(self, lang: str) -> Path:
        return site_strings.catalog_path(self.root, lang)
