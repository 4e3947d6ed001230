"""`suite check`: what CI fails on before running anything (clean notebooks, metadata, translations up to date)."""

from __future__ import annotations

from pathlib import Path

from . import i18n, site_strings
from .notebooks import (
    LANGUAGES,
    REQUIRED_METADATA,
    SOURCE_LANG,
    TRANSLATED,
    Notebook,
    discover,
    has_outputs,
    parameters_cell,
    read_notebook,
)
from .i18n import Problem
from .profiles import PROFILES

REQUIRED_PARAMETERS = ("model_id", "device", "results_path")


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
    for profile in PROFILES:
        if profile not in meta.get("profiles", {}):
            problems.append(Problem(rel, f"metadata.gpuguide.profiles has no {profile!r} entry"))
    ids = [c.get("id") for c in nb.cells]
    if None in ids or len(set(ids)) != len(ids):
        problems.append(Problem(rel, "every cell needs a unique id (they key the translations)"))
    if not nb.cells or nb.cells[0].cell_type != "markdown" or not nb.cells[0].source.startswith("# "):
        problems.append(Problem(rel, "the first cell must be a markdown title ('# ...')"))
    params = parameters_cell(nb)
    if params is None:
        problems.append(Problem(rel, "no code cell tagged 'parameters' (papermill injects values after it)"))
    else:
        for name in REQUIRED_PARAMETERS:
            if f"{name} =" not in params.source:
                problems.append(Problem(rel, f"the parameters cell does not define {name}"))
    return problems


def output_problems(root: Path) -> list[Problem]:
    """No notebook under notebooks/ may carry outputs or execution counts (executed copies live in build/)."""
    problems = []
    for path in sorted((root / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        if has_outputs(read_notebook(path)):
            problems.append(Problem(str(path.relative_to(root)), "has outputs (run: python -m gpuguide_utils.suite strip)"))
    return problems


def orphan_problems(root: Path, names: set[str]) -> list[Problem]:
    problems = []
    for lang in LANGUAGES:
        for path in sorted((root / "notebooks" / lang).glob("*.ipynb")):
            if path.stem not in names:
                problems.append(Problem(str(path.relative_to(root)), f"no notebooks/{SOURCE_LANG}/{path.name} to generate it from"))
    return problems


def index_problems(root: Path) -> list[Problem]:
    from .index import outputs

    try:
        expected = outputs(root)
    except ValueError as error:
        return [Problem("README.md", str(error))]
    return [Problem(str(path.relative_to(root)), "notebook index out of date (run: python -m gpuguide_utils.suite build)")
            for path, text in expected.items() if not path.exists() or path.read_text(encoding="utf-8") != text]


def all_problems(root: Path) -> list[Problem]:
    notebooks = discover(root)
    problems = output_problems(root) + orphan_problems(root, {n.name for n in notebooks})
    if not notebooks:
        problems.append(Problem("notebooks/en", "no notebooks"))
    for notebook in notebooks:
        problems += source_problems(notebook)
        for lang in TRANSLATED:
            problems += i18n.catalog_problems(notebook, lang)
    if notebooks:
        problems += index_problems(root)
    for lang in TRANSLATED:
        problems += site_strings.problems(root, lang)
    return problems
