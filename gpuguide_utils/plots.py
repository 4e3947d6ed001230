"""Bar and line charts of latency, memory and speed-up, labelled with the device they were measured on.

Where a row recorded the spread of a metric (metric_q1 and metric_q3, the interquartile range), the chart draws it
as an error bar: a difference smaller than the bars is not a result.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt  # headless runs fall back to Agg by themselves; notebooks keep inline

__all__ = ["bar_chart", "speedup_chart", "line_chart", "grouped_bar_chart", "pareto_chart"]


_SCALE = {"_per_s": (1.0, "per s"), "_s": (1e3, "ms"), "_bytes": (1 / 2**20, "MiB")}  # first match wins


def _scaled(metric: str, value: float | None) -> float | None:
    if value is None:
        return None
    for suffix, (factor, _) in _SCALE.items():
        if metric.endswith(suffix):
            return value * factor
    return value


def _spread(metric: str, r: dict[str, Any], value: float | None) -> tuple[float, float]:
    """(below, above) the median for an error bar, scaled like the value; (0, 0) without a recorded spread."""
    from .results import interval

    span = interval(r["metrics"], metric) if r["status"] == "ok" else None
    if span is None or value is None:
        return 0.0, 0.0
    low, high = _scaled(metric, span[0]), _scaled(metric, span[1])
    return max(0.0, value - low), max(0.0, high - value)


def _axis_label(metric: str) -> str:
    """'latency_s' -> 'latency (ms)', 'peak_memory_bytes' -> 'peak memory (MiB)'."""
    for suffix, (_, unit) in _SCALE.items():
        if metric.endswith(suffix):
            return f"{metric[: -len(suffix)].replace('_', ' ')} ({unit})"
    return metric.replace("_", " ")


def _finish(fig, ax, title: str, device: str, path: str | Path | None):
    ax.set_title(f"{title}\n{device}" if device else title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


def bar_chart(rows: list[dict[str, Any]], metric: str = "latency_s", *, title: str = "", device: str = "",
              label: str = "variant", path: str | Path | None = None):
    """One bar per row that ran (rows as in Results.rows), with its spread as an error bar where recorded.

    Rows that did not run are left out (the table under a chart lists them in one line).
    """
    rows = [r for r in rows if r["status"] == "ok" and r["metrics"].get(metric) is not None]
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(rows) + 2), 3.6))
    names = [str(r[label] if label in r else r["params"].get(label)) for r in rows]
    values = [_scaled(metric, r["metrics"][metric]) for r in rows]
    errors = [_spread(metric, r, v) for r, v in zip(rows, values)]
    yerr = [[e[0] for e in errors], [e[1] for e in errors]] if any(any(e) for e in errors) else None
    bars = ax.bar(range(len(rows)), values, color="#4C72B0", yerr=yerr, capsize=4, ecolor="#333333")
    ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], fontsize=8, padding=2)
    ax.set_xticks(range(len(rows)), names, fontsize=8, rotation=20 if max(map(len, names), default=0) > 12 else 0,
                  ha="right" if max(map(len, names), default=0) > 12 else "center")
    ax.set_ylabel(_axis_label(metric))
    ax.set_ylim(bottom=0)
    return _finish(fig, ax, title or _axis_label(metric), device, path)


def speedup_chart(table, *, title: str = "", path: str | Path | None = None):
    """Bars of a Table's speed-up column, with the baseline's 1x marked and ties (within the spread) hatched."""
    data = [d for d in table.data if d["speedup"]]
    fig, ax = plt.subplots(figsize=(max(4, 1.0 * len(data) + 2), 3.6))
    names = [d["variant"] + "".join(f"\n{k}={v}" for k, v in d["params"].items()) for d in data]
    values = [d["speedup"] for d in data]
    bars = ax.bar(range(len(values)), values, color="#55A868")
    for bar, d in zip(bars, data):
        if d.get("tie"):
            bar.set_hatch("//")
            bar.set_alpha(0.6)
    ax.bar_label(bars, labels=[f"{v:.2f}x" + (" tie" if d.get("tie") else "") for v, d in zip(values, data)], fontsize=8)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(values)), names, fontsize=8)
    ax.set_ylabel("speed-up (x)")
    ax.set_ylim(bottom=0)
    return _finish(fig, ax, title or f"speed-up — {table.title}", table.device, path)


def line_chart(rows: list[dict[str, Any]], x: str, metric: str = "latency_s", *, series: str = "variant",
               title: str = "", device: str = "", logx: bool = False, path: str | Path | None = None):
    """One line per series (default: variant) of metric against the param `x`; OOM points marked with an x."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    lines: dict[str, list[tuple[Any, float | None, str]]] = defaultdict(list)
    for r in rows:
        key = r[series] if series in r else str(r["params"].get(series))
        value = _scaled(metric, r["metrics"].get(metric)) if r["status"] == "ok" else None
        lines[key].append((r["params"].get(x), value, r["status"], _spread(metric, r, value)))
    for name, points in lines.items():
        points.sort(key=lambda p: p[0])
        ok = [(px, py, err) for px, py, _status, err in points if py is not None]
        if ok:
            xs, ys, errs = zip(*ok)
            yerr = [[e[0] for e in errs], [e[1] for e in errs]] if any(any(e) for e in errs) else None
            ax.errorbar(xs, ys, yerr=yerr, marker="o", label=name, capsize=3)
        for px, _, status, _err in points:
            if status == "oom":
                ax.plot(px, 0, marker="x", color="red", markersize=9)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(_axis_label(metric))
    if logx:
        ax.set_xscale("log", base=2)
    ax.set_ylim(bottom=0)
    if any(status == "oom" for points in lines.values() for _, _, status, _ in points):
        ax.plot([], [], marker="x", color="red", linestyle="none", label="out of memory")
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or _axis_label(metric), device, path)


def grouped_bar_chart(series: dict[str, dict[str, float | None]], metric: str = "latency_s", *, title: str = "",
                      device: str = "", path: str | Path | None = None):
    """Bars side by side: for each category (inner keys) one bar per series (outer keys, e.g. language)."""
    categories = list(dict.fromkeys(c for values in series.values() for c in values))
    fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(categories) + 2), 3.8))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [j + i * width for j in range(len(categories))]
        ax.bar(xs, [_scaled(metric, values.get(c)) or 0.0 for c in categories], width, label=name)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(categories))], categories, fontsize=8,
                  rotation=20, ha="right")
    ax.set_ylabel(_axis_label(metric))
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or _axis_label(metric), device, path)


def pareto_chart(rows: list[dict[str, Any]], front: list[str], *, cost: str = "peak_memory_bytes",
                 benefit: str = "decode_tokens_per_s", title: str = "", device: str = "",
                 path: str | Path | None = None):
    """Scatter of every measured variant (cost on x, benefit on y, both axes from 0, spread as error bars) with the
    Pareto front joined by a line."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ok = [r for r in rows if r["status"] == "ok" and r["metrics"].get(cost) is not None
          and r["metrics"].get(benefit) is not None]
    points = {}
    for r in ok:
        x, y = _scaled(cost, r["metrics"][cost]), _scaled(benefit, r["metrics"][benefit])
        points[r["variant"]] = (x, y)
        on_front = r["variant"] in front
        below, above = _spread(benefit, r, y)
        ax.errorbar([x], [y], yerr=[[below], [above]] if below or above else None, fmt="o",
                    markersize=8 if on_front else 5, color="#C44E52" if on_front else "#4C72B0", capsize=3, zorder=3)
        ax.annotate(r["variant"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    line = sorted((points[name] for name in front if name in points), key=lambda p: p[0])
    if len(line) > 1:
        ax.plot(*zip(*line), color="#C44E52", linestyle="--", linewidth=1, label="Pareto front")
        ax.legend(fontsize=8)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_axis_label(cost))
    ax.set_ylabel(_axis_label(benefit))
    return _finish(fig, ax, title or f"{_axis_label(benefit)} against {_axis_label(cost)}", device, path)
