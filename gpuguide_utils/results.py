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
from .stats import CONFIDENCE, ratio_interval
from .timing import GenerationTiming, Timing

__all__ = ["is_out_of_memory", "Case", "Results", "METRIC_LABELS", "PARAM_LABELS", "metric_label", "format_metric",
           "interval", "Verdict", "compare_values", "compare_timings", "markdown_cell", "Table"]


def _first_line(error: BaseException) -> str:
    """An exception's type and the first line of its message: enough to say why, short enough for a table."""
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:200]}"


_NO_KERNEL = ("No available kernel", "No viable backend")


def _is_kernel_refusal(error: BaseException) -> bool:
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
        """Attach a timing, a memory report and any named numbers (floats, ints, strings) to this case.

        A timing's quartiles are kept beside its median (latency_s_q1, latency_s_q3), so comparisons can tell a
        difference from noise.
        """
        if isinstance(timing, Timing):
            self.metrics.update(latency_s=timing.median_s, latency_iqr_s=timing.iqr_s, latency_s_q1=timing.q1_s,
                                latency_s_q3=timing.q3_s, latency_min_s=timing.min_s, n=timing.n,
                                timing_method=timing.method, latency_s_samples=list(timing.samples_s),
                                paired_rounds=timing.paired)
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
    def case(self, group: str, variant: str, *, baseline: str | None = None,
             expected_errors: tuple[type[BaseException], ...] = (), **params: Any) -> Iterator[Case]:
        """Measure one variant (params: e.g. batch_size=4); OOM inside is recorded as status 'oom' and swallowed.

        An SDPA "No available kernel" refusal, and any error of a type in `expected_errors` (e.g. a backend that
        refuses these inputs in its own words), is recorded as 'skipped' with its first line. Other errors are
        recorded as 'failed' and re-raised: a bug must stop the notebook, a full GPU must not.
        `baseline` names the variant of this group that reports compute speed-up against.
        """
        case = Case(group, variant, params, baseline=baseline)
        out_of_memory = False
        try:
            yield case
        except BaseException as error:  # noqa: BLE001 - classified below
            if is_out_of_memory(error):
                case.status, case.reason = "oom", f"out of memory: {(str(error).splitlines() or [type(error).__name__])[0][:200]}"
                out_of_memory = True
                traceback.clear_frames(error.__traceback__)  # the frames hold the tensors being freed below
            elif _is_kernel_refusal(error):
                first_sentence = str(error).strip().splitlines()[0].split(". ")[0].rstrip(".")
                case.status, case.reason = "skipped", f"no kernel for these inputs: {first_sentence}"
            elif expected_errors and isinstance(error, expected_errors):
                case.status, case.reason = "skipped", _first_line(error)
            else:
                case.status, case.reason = "failed", "".join(traceback.format_exception_only(type(error), error)).strip()
                self._append(case)
                raise
        if out_of_memory:
            _free_after_oom()  # here the exception and its frames are gone, so their memory can really be freed
            print(f"[{group} / {variant}] out of memory: recorded as OOM, continuing")
        self._append(case)  # a skipped case is listed under its group's table, not printed here

    def skip(self, group: str, variant: str, reason: str, *, baseline: str | None = None, **params: Any) -> None:
        """Record a variant that cannot run here, with the reason (e.g. a Capability's reason); the group's table
        lists it under the rows that ran."""
        self._append(Case(group, variant, params, baseline=baseline, status="skipped", reason=reason))

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

    def compare(self, group: str, variant: str, baseline: str, metric: str = "latency_s", higher_is_better: bool = False,
                **params: Any) -> Verdict | None:
        """The verdict (gg.compare_values) of one measured variant against another at the given params; None when
        either did not run there, so a check says "not measured here" instead of guessing."""
        def row(name: str) -> dict[str, Any] | None:
            return next((r for r in self.rows_for(group) if r["variant"] == name and r["status"] == "ok"
                         and all(r["params"].get(k) == _jsonable(v) for k, v in params.items())), None)

        a, b = row(variant), row(baseline)
        if a is None or b is None:
            return None
        return compare_values(variant, a["metrics"], baseline, b["metrics"], metric, higher_is_better)

    def frame(self, group: str | None = None):
        """The rows (of one group, or all) as a pandas DataFrame: one row per measured variant, with its params and
        metrics as columns (the per-round samples are left out: `rows_for` keeps them)."""
        import pandas as pd

        flat = [{"group": r["group"], "variant": r["variant"], "status": r["status"], "reason": r["reason"],
                 **r["params"], **{k: v for k, v in r["metrics"].items() if not k.endswith("_samples")}}
                for r in self.rows if group is None or r["group"] == group]
        return pd.DataFrame(flat)

    def table(self, group: str, baseline: str | None = None, metric: str = "latency_s",
              higher_is_better: bool = False, extra: tuple[str, ...] = ("peak_memory_bytes",),
              compare: bool = True) -> Table:
        """Rows of one group with speed-up against the baseline variant (default: the one the rows name).

        `extra` names further metrics shown as columns where the rows have them; compare=False drops the
        comparison column (for tables whose rows are not alternatives to one baseline).
        """
        rows = self.rows_for(group)
        if not rows:
            raise KeyError(f"no rows recorded for group {group!r}; groups: {sorted({r['group'] for r in self.rows})}")
        baseline = baseline or next((r["baseline"] for r in rows if r.get("baseline")), rows[0]["variant"])
        return Table.compare(rows, baseline=baseline, metric=metric, higher_is_better=higher_is_better,
                             title=group, device=self.device, extra=extra, show_comparison=compare)

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
    "tokens_per_s": lambda v: f"{v:.1f}",
    "tflops": lambda v: f"{v:.3g}",
    "_s_per_token": lambda v: f"{v * 1e3:.3g}",
    "fraction_of_bound": lambda v: f"{v:.0%}",
    "fraction_of_peak": lambda v: f"{v:.0%}",
    "agreement": lambda v: f"{v:.1%}",
    "_fraction": lambda v: f"{v:.0%}",
    "_diff": lambda v: f"{v:.2g}",
    "_per_s": lambda v: f"{v:.4g}/s",
    "_s": lambda v: f"{v * 1e3:.3g}",
    "_bytes": format_bytes,
}

#: Column headers: words with units. Times are shown in milliseconds, rates per second, bytes in binary units.
METRIC_LABELS = {
    "latency_s": "time (ms)",
    "ttft_s": "time to first token (ms)",
    "decode_s_per_token": "decode (ms/token)",
    "decode_tokens_per_s": "decode (tokens/s)",
    "real_tokens_per_s": "real tokens/s",
    "bound_s_per_token": "bound (ms/token)",
    "peak_memory_bytes": "peak memory",
    "memory_increase_bytes": "memory added",
    "peak_reserved_bytes": "peak reserved",
    "footprint_bytes": "weights in memory",
    "expected_bytes": "expected",
    "weights_bytes": "weights",
    "memory_bytes": "memory needed",
    "top1_agreement": "top-1 agreement",
    "max_abs_diff": "max |diff|",
    "mean_abs_diff": "mean |diff|",
    "relative_perplexity": "perplexity / reference",
    "fraction_of_bound": "of the bound",
    "fraction_of_peak": "of peak",
    "tflops": "TFLOP/s",
    "bandwidth_bytes_per_s": "bandwidth",
    "score_matrix_bytes": "score matrix",
    "without_scales_bytes": "without scales",
    "perplexity": "perplexity",
}

#: Parameter columns: short words.
PARAM_LABELS = {"batch_size": "batch", "seq_len": "tokens", "prompt_len": "prompt", "new_tokens": "new tokens",
                "padding": "padding", "batch": "batch"}


def metric_label(name: str) -> str:
    """'latency_s' -> 'time (ms)'; unknown names lose their underscores."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


def format_metric(name: str, value: Any) -> str:
    """A value as its column shows it (units in the header, see METRIC_LABELS)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        for suffix, fmt in _METRIC_FORMATS.items():
            if name.endswith(suffix):
                return fmt(value)
        return f"{value:.4g}"
    if isinstance(value, int) and name.endswith("_bytes"):
        return format_bytes(value)
    return str(value)


def _format_param(name: str, value: Any) -> str:
    if name in ("padding", "pad_fraction") and isinstance(value, float):
        return f"{value:.0%}"
    return str(value)


def interval(metrics: dict[str, Any], metric: str) -> tuple[float, float] | None:
    """The interquartile range recorded for a metric (metric_q1, metric_q3), or None when only a median exists."""
    low, high = metrics.get(f"{metric}_q1"), metrics.get(f"{metric}_q3")
    if low is None or high is None:
        return None
    return (min(low, high), max(low, high))


@dataclass(frozen=True)
class Verdict:
    """A comparison of two measured values that knows the difference from the noise.

    The rule taught in 00_measuring: a difference is real only when the 95% interval of the ratio excludes 1 (and
    the noise threshold around it). The interval comes from a bootstrap over the recorded samples (over whole rounds
    when both were measured in the same interleaved rounds); rows recorded without samples fall back to asking
    whether their interquartile ranges overlap.
    """

    name: str
    other: str
    ratio: float  # how much better `name` is than `other` (> 1: better)
    tie: bool
    known_spread: bool  # False when a value had no recorded spread (then no tie can be called)
    low: float | None = None  # the ratio's 95% interval, when samples were recorded
    high: float | None = None
    method: str = "interquartile ranges"

    @property
    def better(self) -> bool:
        return not self.tie and self.ratio > 1

    def interval_text(self) -> str:
        """'95% interval 1.10-1.32x, 12 paired rounds' (in the direction of the verdict's factor), or the method."""
        if self.low is None:
            return self.method
        low, high = (self.low, self.high) if self.ratio >= 1 or self.tie else (1 / self.high, 1 / self.low)
        return f"{CONFIDENCE:.0%} interval {low:.2f}-{high:.2f}x, {self.method}"

    def __str__(self) -> str:
        if not self.known_spread:
            return f"{self.name}: {self.ratio:.2f}x {self.other}'s (no spread recorded; repeat to tell it from noise)"
        if self.tie:
            return f"{self.name} and {self.other}: a tie ({self.ratio:.2f}x; {self.interval_text()})"
        word = "better" if self.ratio > 1 else "worse"
        factor = self.ratio if self.ratio > 1 else 1 / self.ratio
        return f"{self.name} is {factor:.2f}x {word} than {self.other} ({self.interval_text()})"


def compare_values(name: str, metrics: dict[str, Any], other: str, other_metrics: dict[str, Any], metric: str,
                   higher_is_better: bool = False) -> Verdict | None:
    """Verdict on one metric of two rows' metrics; None when either value is missing or zero."""
    a, b = metrics.get(metric), other_metrics.get(metric)
    if not a or not b:
        return None
    ratio = a / b if higher_is_better else b / a
    sa, sb = metrics.get(f"{metric}_samples"), other_metrics.get(f"{metric}_samples")
    if sa and sb and len(sa) >= 3 and len(sb) >= 3:
        rounds = metrics.get("paired_rounds")
        paired = bool(rounds) and rounds == other_metrics.get("paired_rounds") and len(sa) == len(sb)
        found = ratio_interval(sa, sb, higher_is_better=higher_is_better, paired=paired)
        how = f"{found.n} paired rounds" if paired else f"n={len(sa)} and {len(sb)}, measured apart"
        return Verdict(name, other, found.ratio, tie=found.tie, known_spread=True, low=found.low, high=found.high,
                       method=how)
    ia, ib = interval(metrics, metric), interval(other_metrics, metric)
    if ia is None or ib is None:
        return Verdict(name, other, ratio, tie=False, known_spread=False)
    overlap = ia[0] <= ib[1] and ib[0] <= ia[1]
    return Verdict(name, other, ratio, tie=overlap, known_spread=True)


def compare_timings(name: str, timing: Timing, other: str, other_timing: Timing) -> Verdict:
    """Verdict on two Timings (faster is better), by the same rule as the tables."""
    def metrics(t: Timing) -> dict[str, Any]:
        return {"latency_s": t.median_s, "latency_s_q1": t.q1_s, "latency_s_q3": t.q3_s,
                "latency_s_samples": list(t.samples_s), "paired_rounds": t.paired}

    return compare_values(name, metrics(timing), other, metrics(other_timing), "latency_s")


def markdown_cell(value: Any) -> str:
    """A Markdown table cell: a '|' or a line break in a name or a reason must not split the row ("max |diff|")."""
    return " ".join(str(value).split()).replace("|", "\\|")


@dataclass
class Table:
    """A comparison table: one row per variant (and params), chosen metric columns, the comparison with a baseline.

    Rows that did not run are not table rows: they are summarized in one line under the table (`not_run`).
    """

    title: str
    columns: list[str]
    rows: list[list[str]]
    device: str = ""
    data: list[dict[str, Any]] = field(default_factory=list)  # raw numbers behind the rows, for plots
    not_run: list[str] = field(default_factory=list)  # "variant (params): status: reason"

    @classmethod
    def compare(cls, rows: list[dict[str, Any]], baseline: str, metric: str = "latency_s", higher_is_better: bool = False,
                title: str = "", device: str = "", extra: tuple[str, ...] = ("peak_memory_bytes",),
                show_comparison: bool = True) -> Table:
        """Compare each row with the baseline row of the same params.

        For times (metric ending in _s) the column is the speed-up, baseline / variant (inverted when higher is
        better); for anything else (bytes, counts) it is the plain ratio variant / baseline. Where both rows
        recorded a spread, a ratio inside the noise is marked "tie".
        """
        base_by_params = {
            json.dumps(r["params"], sort_keys=True): r for r in rows if r["variant"] == baseline and r["status"] == "ok"
        }
        shown = [r for r in rows if r["status"] == "ok"]
        param_names = sorted({k for r in shown for k in r["params"]})
        extras = [m for m in extra if any(m in r["metrics"] for r in shown) and m != metric]
        is_time = metric.endswith("_s") and not metric.endswith("_per_s")
        comparison = ("speed-up" if is_time or metric.endswith("_per_s") else "ratio") + f" vs {baseline}"
        columns = ["variant", *[PARAM_LABELS.get(p, p.replace("_", " ")) for p in param_names], metric_label(metric),
                   *[metric_label(m) for m in extras]] + ([comparison] if show_comparison else [])
        out_rows, data, not_run = [], [], []
        for r in rows:
            params_text = ", ".join(f"{k}={_format_param(k, v)}" for k, v in r["params"].items())
            if r["status"] != "ok":
                not_run.append(f"{r['variant']}{' (' + params_text + ')' if params_text else ''}: {r['status']}"
                               + (f" ({r['reason']})" if r["reason"] else ""))
                data.append(dict(variant=r["variant"], params=r["params"], value=None, speedup=None, tie=None,
                                 status=r["status"], reason=r["reason"], metrics=r["metrics"]))
                continue
            value = r["metrics"].get(metric)
            base = base_by_params.get(json.dumps(r["params"], sort_keys=True))
            speedup, tie = None, None
            if value and base is not None and base["metrics"].get(metric):
                base_value = base["metrics"][metric]
                speedup = base_value / value if is_time and not higher_is_better else value / base_value
                if base is not r:
                    verdict = compare_values(r["variant"], r["metrics"], baseline, base["metrics"], metric,
                                             higher_is_better or not is_time)
                    tie = verdict.tie if verdict and verdict.known_spread else None
            if speedup is None:
                cell = ""
            elif base is r:
                cell = "1.00x (baseline)"
            elif speedup < 0.01:
                cell = "<0.01x"
            else:
                cell = f"{speedup:.2f}x" + (" (tie)" if tie else "")
            out_rows.append([
                r["variant"], *[_format_param(p, r["params"].get(p, "")) for p in param_names],
                format_metric(metric, value), *[format_metric(m, r["metrics"].get(m)) for m in extras],
            ] + ([cell] if show_comparison else []))
            data.append(dict(variant=r["variant"], params=r["params"], value=value, speedup=speedup, tie=tie,
                             status=r["status"], metrics=r["metrics"]))
        return cls(title=title, columns=columns, rows=out_rows, device=device, data=data, not_run=not_run)

    def footnote(self) -> str:
        """One line for the rows that did not run (grouped by reason), and what "tie" means, when it appears."""
        lines = []
        if any(d.get("tie") for d in self.data):
            lines.append("tie: the 95% interval of the ratio includes 1 (or the ratios of the quartiles overlap where no "
                         "samples were kept), so no winner.")
        skipped = [d for d in self.data if d["status"] != "ok"]
        if skipped:
            by_reason: dict[str, dict[str, list[dict]]] = {}  # why -> variant -> rows
            for d in skipped:
                why = d["status"] + (f" ({d['reason']})" if d.get("reason") else "")
                by_reason.setdefault(why, {}).setdefault(d["variant"], []).append(d)
            parts = []
            for why, variants in by_reason.items():
                names = []
                for variant, ds in variants.items():
                    where = ", ".join(f"{k}={_format_param(k, v)}" for k, v in ds[0]["params"].items())
                    names.append(variant if len(ds) > 1 or not where else f"{variant} ({where})")
                parts.append(f"{', '.join(names)}: {why}")
            lines.append("Not run here: " + "; ".join(parts))
        return "\n\n".join(lines)

    def to_markdown(self) -> str:
        head = f"**{self.title}**" + (f" — {self.device}" if self.device else "") + "\n\n" if self.title else ""
        lines = ["| " + " | ".join(markdown_cell(c) for c in self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in self.rows]
        foot = self.footnote()
        return head + "\n".join(lines) + (f"\n\n{foot}" if foot else "")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c) for i, c in enumerate(self.columns)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines = [self.title] if self.title else []
        lines += [fmt.format(*self.columns)] + [fmt.format(*r) for r in self.rows]
        foot = self.footnote()
        return "\n".join(lines) + (f"\n{foot}" if foot else "")
