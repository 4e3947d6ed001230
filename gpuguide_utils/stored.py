"""What the same measurement gives on a GPU, shown under a live table: a stored GPU run, else a cited figure.

Stored runs live in docs/results/<gpu>/ (run.json says the device, date, command and commit; results/en/<notebook>.json
holds the rows, as `suite run` wrote them). Until a GPU run of a section is committed, docs/results/published.json
gives a figure published elsewhere, with its source, so a room without GPUs still sees what the technique does on one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .profiles import SIZES, is_model_parameter
from .results import Table

__all__ = ["results_dir", "StoredRun", "model_parameters", "stored_group", "Published", "published", "Reference",
           "StoredResults"]


def results_dir() -> Path:
    """docs/results in the repository this package was installed from (editable installs and Colab clones)."""
    return Path(__file__).resolve().parents[1] / "docs" / "results"


@dataclass(frozen=True)
class StoredRun:
    """One committed GPU run: where it ran and how to repeat it."""

    folder: Path
    device: str
    date: str
    command: str
    commit: str
    profile: str
    versions: dict[str, str] = field(default_factory=dict)

    def _results(self, notebook: str) -> dict[str, Any]:
        path = self.folder / "results" / "en" / f"{notebook}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def rows(self, notebook: str) -> list[dict[str, Any]]:
        return self._results(notebook).get("rows", [])

    def model_ids(self, notebook: str) -> dict[str, str]:
        """The model each parameter named in this run: as its results recorded them, else its profile's defaults."""
        recorded = self._results(notebook).get("meta", {}).get("model_ids")
        if isinstance(recorded, dict):
            return {str(k): str(v) for k, v in recorded.items()}
        return model_parameters(SIZES.get(notebook, {}).get(self.profile, {}))

    @property
    def caption(self) -> str:
        return (f"stored GPU run: {self.device}, profile {self.profile}, {self.date}, commit {self.commit[:10]}, "
                f"command `{self.command}` (docs/results/{self.folder.name}/)")


def model_parameters(values: Mapping[str, Any]) -> dict[str, str]:
    """The model ids among a notebook's parameters (model_id, *_model_id, encoder_id, decoder_id), by name."""
    return {name: str(value) for name, value in values.items() if is_model_parameter(name) and value}


def stored_group(group: str, live_models: Mapping[str, str], stored_models: Mapping[str, str]) -> str:
    """The stored run's name for a live group: each part naming a live model becomes the model the stored run used
    for the same parameter ("forward, tiny-llama" -> "forward, tinyllama-1.1b"), since a CPU and a GPU profile
    measure the same table on different models."""
    parameter_of = {}
    for name, model_id in live_models.items():
        parameter_of.setdefault(model_id, name)
    parts = [stored_models.get(parameter_of[p], p) if p in parameter_of else p for p in group.split(", ")]
    return ", ".join(parts)


def _stored_runs(root: Path | None = None) -> list[StoredRun]:
    """Every committed GPU run, newest first."""
    root = root or results_dir()
    runs = []
    for info in sorted(root.glob("*/run.json")):
        data = json.loads(info.read_text(encoding="utf-8"))
        runs.append(StoredRun(info.parent, data.get("device", info.parent.name), data.get("date", ""),
                              data.get("command", ""), data.get("commit", ""), data.get("profile", ""),
                              data.get("versions", {})))
    return sorted(runs, key=lambda r: r.date, reverse=True)


@dataclass(frozen=True)
class Published:
    """A figure measured by someone else, quoted with its source (never presented as measured here)."""

    text: str
    source: str
    url: str


def published(notebook: str, group: str, root: Path | None = None) -> list[Published]:
    """Cited figures for a notebook's group; a group name in published.json ending in a space matches as a prefix
    ("forward, " matches "forward, llama-2-7b")."""
    path = (root or results_dir()) / "published.json"
    if not path.is_file():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))
    return [Published(e["text"], e["source"], e["url"]) for e in entries
            if e["notebook"] == notebook and any(group == g or (g.endswith(" ") and group.startswith(g))
                                                 for g in e.get("groups", []))]


class Reference:
    """Displays the GPU side of one table: the stored run's rows for the same group, or the published figures."""

    def __init__(self, notebook: str, group: str, lines: list[str]) -> None:
        self.notebook, self.group, self.lines = notebook, group, lines

    def to_markdown(self) -> str:
        return "\n\n".join(self.lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_markdown()


class StoredResults:
    """The stored GPU results of one notebook; `show(group, ...)` under a live table. Disabled: shows nothing."""

    def __init__(self, notebook: str, enabled: bool = True, root: Path | None = None,
                 models: Mapping[str, str] | None = None) -> None:
        """`models`: this run's model ids by parameter (settings.model_ids), so a group named after a model matches
        the stored run's group for the same parameter whatever either run's model was."""
        self.notebook = notebook
        self.enabled = enabled
        self.root = root or results_dir()
        self.models = dict(models or {})
        self.runs = _stored_runs(self.root) if enabled else []

    def show(self, group: str, metric: str = "latency_s", higher_is_better: bool = False,
             extra: tuple[str, ...] = ("peak_memory_bytes",), baseline: str | None = None) -> Reference | None:
        """The same group from the newest stored GPU run that has it, else the cited figures for it, else a note."""
        if not self.enabled:
            return None
        for run in self.runs:
            stored_rows = run.rows(self.notebook)
            translated = stored_group(group, self.models, run.model_ids(self.notebook))
            rows = ([r for r in stored_rows if r["group"] == translated]
                    or [r for r in stored_rows if r["group"] == group])
            if rows:
                base = baseline or next((r["baseline"] for r in rows if r.get("baseline")), rows[0]["variant"])
                table = Table.compare(rows, baseline=base, metric=metric, higher_is_better=higher_is_better,
                                      title=f"On a GPU: {rows[0]['group']}", device=run.device, extra=extra)
                return Reference(self.notebook, group, [f"*{run.caption}*", table.to_markdown()])
        figures = published(self.notebook, group, self.root)
        if figures:
            lines = ["*On a GPU (published figures, not measured by this suite yet; see docs/results/):*"]
            lines += [f"- {f.text} — {f.source}, <{f.url}>" for f in figures]
            return Reference(self.notebook, group, ["\n".join(lines)])
        return Reference(self.notebook, group, [f"*No stored GPU run of “{group}” yet (docs/results/README.md says how "
                                                "to add one).*"])
