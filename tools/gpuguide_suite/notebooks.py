"""The notebooks on disk: where they are, their gpuguide metadata, and reading/writing them byte-stably."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from gpuguide_utils.files import write_atomic  # noqa: F401  (re-exported: the suite's modules import it from here)

SOURCE_LANG = "en"
LANGUAGES = ("en", "ar", "ja", "zh")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANG)
RTL_LANGUAGES = {"ar"}
#: Keys every source notebook's metadata["gpuguide"] must have (pytorch/tutorials-style tutorial metadata).
REQUIRED_METADATA = ("title", "duration_minutes", "environment", "requires", "hardware", "lesson")


def repo_root() -> Path:
    """The repository holding notebooks/: $GPUGUIDE_ROOT, else the current directory or a parent of it."""
    if "GPUGUIDE_ROOT" in os.environ:
        return Path(os.environ["GPUGUIDE_ROOT"])
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "notebooks" / SOURCE_LANG).is_dir():
            return candidate
    raise FileNotFoundError("no notebooks/en directory here or above; run from the repository or set GPUGUIDE_ROOT")


@dataclass(frozen=True)
class Notebook:
    """One source notebook (English) and where its translations and catalogs live."""

    name: str  # e.g. "00_measuring"
    root: Path

    def path(self, lang: str = SOURCE_LANG) -> Path:
        return self.root / "notebooks" / lang / f"{self.name}.ipynb"

    def catalog(self, lang: str) -> Path:
        return self.root / "notebooks" / "i18n" / lang / f"{self.name}.po"

    def learner_path(self, lang: str = SOURCE_LANG) -> Path:
        """The learner copy (no solutions, no instructor notes), generated from notebooks/<lang>."""
        return self.root / "notebooks" / "learner" / lang / f"{self.name}.ipynb"

    def read(self, lang: str = SOURCE_LANG) -> nbformat.NotebookNode:
        return read_notebook(self.path(lang))

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.read().metadata.get("gpuguide", {}))


def discover(root: Path | None = None, only: str | None = None) -> list[Notebook]:
    """Source notebooks in reading order; `only` keeps names containing that text (or matching it as a glob)."""
    import fnmatch

    root = root or repo_root()
    # Unnumbered notebooks (the set-up check) come first, then the lessons in their numbered order.
    names = sorted((p.stem for p in (root / "notebooks" / SOURCE_LANG).glob("*.ipynb")),
                   key=lambda name: (name[:1].isdigit(), name))
    if only:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        names = [n for n in names if any(p in n or fnmatch.fnmatch(n, p) for p in patterns)]
    return [Notebook(n, root) for n in names]


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def dumps(nb: nbformat.NotebookNode) -> str:
    """The exact text a notebook is stored as (nbformat's own layout, one trailing newline)."""
    return nbformat.writes(nb, version=4) + "\n"


def has_outputs(nb: nbformat.NotebookNode) -> bool:
    return any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")) for c in nb.cells)


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs, execution counts and papermill's per-cell metadata in place."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    return nb


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    return next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
