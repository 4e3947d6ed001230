"""Rows a notebook measures, saved to its results file; comparison tables with speed-up against a named baseline.

An out-of-memory error inside a measured case is caught and recorded as OOM, so the notebook goes on.
"""

from __future__ import annotations

import json
import math
import os
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch

from .files import write_atomic
from .memory import MemoryReport, format_bytes
from .timing import GenerationTiming, Timing

STATUSES = ("ok", "skipped", "oom", "failed")


_NO_KERNEL = ("No available kernel", "No viable backend")


def is_kernel_refusal(error: BaseException) -> bool:
    """SDPA refusing these inputs with the backends allowed (e.g. the flash backend with a padding mask)."""
    return isinstance(error, RuntimeError) and any(text in str(error) for text in _NO_KERNEL)


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA's OutOfMemoryError, and CPU allocation failures, which surface as RuntimeError text."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, (RuntimeError, MemoryError)) and (
        "out of memory" in text or "can't allocate memory" in text or isinstance(error, MemoryError)
    )


@dataclass
class Case:
    """One measured variant being recorded inside `Results.case(...)`."""

    group: str
    variant: str
    params: dict[str, Any]
    baseline: str | None = None  # the variant of the same group this one is compared against
    metrics: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    reason: str = ""

    def record(self, timing: Timing | GenerationTiming | None = None, memory: MemoryReport | None = None, **metrics: Any) -> None:
        """Attach a timing, a memory report and any named numbers (floats, ints, strings) to this case."""
        if isinstance(timing, Timing):
            self.metrics.update(latency_s=timing.median_s, latency_iqr_s=timing.iqr_s, latency_min_s=timing.min_s,
                                n=timing.n, timing_method=timing.method)
        elif isinstance(timing, GenerationTiming):
            self.metrics.update(timing.to_dict())
            self.metrics.setdefault("latency_s", timing.full_generate.median_s)
            self.metrics.setdefault("latency_iqr_s", timing.full_generate.iqr_s)
        if memory is not None:
            self.metrics.update(peak_memory_bytes=memory.peak_bytes, memory_increase_bytes=memory.increase_bytes,
                                memory_method=memory.method)
            if memory.peak_reserved_bytes is not None:
                self.metrics["peak_reserved_bytes"] = memory.peak_reserved_bytes
        self.metrics.update(metrics)


class Results:
    """The measured rows of one notebook run, written to `path` (JSON) after every change."""

    def __init__(self, notebook: str, path: str | os.PathLike | None = None, device: str = "", meta: dict | None = None) -> None:
        self.notebook = notebook
        self.path = Path(path) if path else None
        self.device = device
        self.meta = dict(meta or {})
        self.rows: list[dict[str, Any]] = []
        self.save()

    @contextmanager
    def case(self, group: str, variant: str, *, baseline: str | None = None, **params: Any) -> Iterator[Case]:
        """Measure one variant (params: e.g. batch_size=4); OOM inside is recorded as status 'oom' and swallowed.

        An SDPA "No available kernel" refusal is recorded as 'skipped' with its message. Other errors are recorded as 'failed' and re-raised: a bug must stop the notebook, a full GPU must not.
        `baseline` names the variant of this group that reports compute speed-up against.
        """
        case = Case(group, variant, params, baseline=baseline)
        try:
            yield case
        except BaseException as error:  # noqa: BLE001 - classified below
            if is_out_of_memory(error):
                case.status, case.reason = "oom", f"out of memory: {(str(error).splitlines() or [type(error).__name__])[0][:200]}"
                _free_after_oom()
                self._append(case)
                print(f"[{group} / {variant}] out of memory: recorded as OOM, continuing")
                return
            if is_kernel_refusal(error):
                first_sentence = str(error).strip().splitlines()[0].split(". ")[0].rstrip(".")
                case.status, case.reason = "skipped", f"no kernel for these inputs: {first_sentence}"
                self._append(case)
                print(f"[{group} / {variant}] skipped: {case.reason}")
                return
            case.status, case.reason = "failed", "".join(traceback.format_exception_only(type(error), error)).strip()
            self._append(case)
            raise
        self._append(case)

    def skip(self, group: str, variant: str, reason: str, *, baseline: str | None = None, **params: Any) -> None:
        """Record a variant that cannot run here, with the reason (e.g. a Capability's reason)."""
        self._append(Case(group, variant, params, baseline=baseline, status="skipped", reason=reason))
        print(f"[{group} / {variant}] skipped: {reason}")

    def add(self, group: str, variant: str, params: dict | None = None, *, baseline: str | None = None,
            **metrics: Any) -> None:
        """Record numbers computed outside a case block."""
        case = Case(group, variant, dict(params or {}), baseline=baseline)
        case.record(**metrics)
        self._append(case)

    def _append(self, case: Case) -> None:
        self.rows.append(
            dict(group=case.group, variant=case.variant, baseline=case.baseline, status=case.status,
                 reason=case.reason, params=_jsonable(case.params), metrics=_jsonable(case.metrics))
        )
        self.save()

    def rows_for(self, group: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["group"] == group]

    def table(self, group: str, baseline: str | None = None, metric: str = "latency_s",
              higher_is_better: bool = False, extra: tuple[str, ...] = ("peak_memory_bytes",)) -> Table:
        """Rows of one group with speed-up against the baseline variant (default: the one the rows name).

        `extra` names further metrics shown as columns where the rows have them.
        """
        rows = self.rows_for(group)
        if not rows:
            raise KeyError(f"no rows recorded for group {group!r}; groups: {sorted({r['group'] for r in self.rows})}")
        baseline = baseline or next((r["baseline"] for r in rows if r.get("baseline")), rows[0]["variant"])
        return Table.compare(rows, baseline=baseline, metric=metric, higher_is_better=higher_is_better,
                             title=group, device=self.device, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return dict(notebook=self.notebook, device=self.device, meta=_jsonable(self.meta), rows=self.rows)

    def save(self) -> None:
        """Write atomically (temp file + rename): a reader never sees half a file."""
        if self.path is None:
            return
        write_atomic(self.path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False))


def _free_after_oom() -> None:
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


_METRIC_FORMATS = {  # first matching suffix wins: rates before durations
    "_bytes_per_s": lambda v: f"{v / 1e9:.1f} GB/s",
    "tokens_per_s": lambda v: f"{v:.1f} tokens/s",
    "_s_per_token": lambda v: f"{v * 1e3:.3g} ms/token",
    "fraction_of_bound": lambda v: f"{v:.0%}",
    "_per_s": lambda v: f"{v:.4g}/s",
    "_s": lambda v: f"{v * 1e3:.3g} ms",
    "_bytes": format_bytes,
}


def format_metric(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        for suffix, fmt in _METRIC_FORMATS.items():
            if name.endswith(suffix):
                return fmt(value)
        return f"{value:.4g}"
    if isinstance(value, int) and name.endswith("_bytes"):
        return format_bytes(value)
    return str(value)


@dataclass
class Table:
    """A comparison table: one row per variant (and params), chosen metric columns, speed-up vs a baseline."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    device: str = ""
    data: list[dict[str, Any]] = field(default_factory=list)  # raw numbers behind the rows, for plots

    @classmethod
    def compare(cls, rows: list[dict[str, Any]], baseline: str, metric: str = "latency_s", higher_is_better: bool = False,
                title: str = "", device: str = "", extra: tuple[str, ...] = ("peak_memory_bytes",)) -> Table:
        """Compare each row with the baseline row of the same params.

        For times (metric ending in _s) the column is the speed-up, baseline / variant (inverted when higher is
        better); for anything else (bytes, counts) it is the plain ratio variant / baseline.
        """
        base_by_params = {
            json.dumps(r["params"], sort_keys=True): r["metrics"].get(metric)
            for r in rows if r["variant"] == baseline and r["status"] == "ok"
        }
        param_names = sorted({k for r in rows for k in r["params"]})
        extras = [m for m in extra if any(m in r["metrics"] for r in rows) and m != metric]
        is_time = metric.endswith("_s") and not metric.endswith("_per_s")
        columns = ["variant", *param_names, metric, *extras, f"{'speed-up' if is_time else 'ratio'} vs {baseline}", "status"]
        out_rows, data = [], []
        for r in rows:
            value = r["metrics"].get(metric) if r["status"] == "ok" else None
            base = base_by_params.get(json.dumps(r["params"], sort_keys=True))
            speedup = None
            if value and base:
                speedup = base / value if is_time and not higher_is_better else value / base
            status = r["status"] if not r["reason"] else f"{r['status']}: {r['reason']}"
            out_rows.append([
                r["variant"], *[str(r["params"].get(p, "")) for p in param_names], format_metric(metric, value),
                *[format_metric(m, r["metrics"].get(m)) for m in extras],
                f"{speedup:.2f}x" if speedup else "", status,
            ])
            data.append(dict(variant=r["variant"], params=r["params"], value=value, speedup=speedup, status=r["status"],
                             metrics=r["metrics"]))
        return cls(title=title, columns=columns, rows=out_rows, device=device, data=data)

    def to_markdown(self) -> str:
        head = f"**{self.title}**" + (f" — {self.device}" if self.device else "") + "\n\n" if self.title else ""
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows]
        return head + "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c) for i, c in enumerate(self.columns)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines = [self.title] if self.title else []
        lines += [fmt.format(*self.columns)] + [fmt.format(*r) for r in self.rows]
        return "\n".join(lines)
