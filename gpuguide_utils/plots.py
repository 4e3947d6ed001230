"""Bar and line charts of latency, memory and speed-up, always labelled with the device they were measured on."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt  # headless runs fall back to Agg by themselves; notebooks keep inline

_SCALE = {"_per_s": (1.0, "per s"), "_s": (1e3, "ms"), "_bytes": (1 / 2**20, "MiB")}  # first match wins


def _scaled(metric: str, value: float | None) -> float | None:
    if value is None:
        return None
    for suffix, (factor, _) in _SCALE.items():
        if metric.endswith(suffix):
            return value * factor
    return value


def axis_label(metric: str) -> str:
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
    """One bar per row (rows as in Results.rows); rows that did not run are drawn as an empty slot named by status."""
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(rows) + 2), 3.6))
    names, values = [], []
    for r in rows:
        value = _scaled(metric, r["metrics"].get(metric)) if r["status"] == "ok" else None
        suffix = "" if r["status"] == "ok" else f"\n({r['status']})"
        names.append(f"{r[label] if label in r else r['params'].get(label)}{suffix}")
        values.append(value or 0.0)
    bars = ax.bar(range(len(rows)), values, color="#4C72B0")
    ax.bar_label(bars, labels=[f"{v:.3g}" if v else "" for v in values], fontsize=8)
    ax.set_xticks(range(len(rows)), names, fontsize=8)
    ax.set_ylabel(axis_label(metric))
    return _finish(fig, ax, title or axis_label(metric), device, path)


def speedup_chart(table, *, title: str = "", path: str | Path | None = None):
    """Bars of a Table's speed-up column, with the baseline's 1x marked."""
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(table.data) + 2), 3.6))
    names = [d["variant"] + "".join(f"\n{k}={v}" for k, v in d["params"].items()) for d in table.data]
    values = [d["speedup"] or 0.0 for d in table.data]
    bars = ax.bar(range(len(values)), values, color="#55A868")
    ax.bar_label(bars, labels=[f"{v:.2f}x" if v else d["status"] for v, d in zip(values, table.data)], fontsize=8)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(values)), names, fontsize=8)
    ax.set_ylabel("speed-up (x)")
    return _finish(fig, ax, title or f"speed-up — {table.title}", table.device, path)


def line_chart(rows: list[dict[str, Any]], x: str, metric: str = "latency_s", *, series: str = "variant",
               title: str = "", device: str = "", logx: bool = False, path: str | Path | None = None):
    """One line per series (default: variant) of metric against the param `x`; OOM points marked with an x."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    lines: dict[str, list[tuple[Any, float | None, str]]] = defaultdict(list)
    for r in rows:
        key = r[series] if series in r else str(r["params"].get(series))
        value = _scaled(metric, r["metrics"].get(metric)) if r["status"] == "ok" else None
        lines[key].append((r["params"].get(x), value, r["status"]))
    for name, points in lines.items():
        points.sort(key=lambda p: p[0])
        ok = [(px, py) for px, py, _ in points if py is not None]
        if ok:
            ax.plot(*zip(*ok), marker="o", label=name)
        for px, _, status in points:
            if status == "oom":
                ax.plot(px, 0, marker="x", color="red", markersize=9)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(axis_label(metric))
    if logx:
        ax.set_xscale("log", base=2)
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or axis_label(metric), device, path)


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
    ax.set_ylabel(axis_label(metric))
    ax.legend(fontsize=8)
    return _finish(fig, ax, title or axis_label(metric), device, path)


def pareto_chart(rows: list[dict[str, Any]], front: list[str], *, cost: str = "peak_memory_bytes",
                 benefit: str = "decode_tokens_per_s", title: str = "", device: str = "",
                 path: str | Path | None = None):
    """Scatter of every measured variant (cost on x, benefit on y) with the Pareto front joined by a line."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    points = {r["variant"]: (_scaled(cost, r["metrics"].get(cost)), _scaled(benefit, r["metrics"].get(benefit)))
              for r in rows if r["status"] == "ok" and r["metrics"].get(cost) is not None
              and r["metrics"].get(benefit) is not None}
    for name, (x, y) in points.items():
        on_front = name in front
        ax.scatter(x, y, s=60 if on_front else 30, color="#C44E52" if on_front else "#4C72B0", zorder=3)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    line = [points[name] for name in front if name in points]
    if len(line) > 1:
        ax.plot(*zip(*line), color="#C44E52", linestyle="--", linewidth=1, label="Pareto front")
        ax.legend(fontsize=8)
    ax.set_xlabel(axis_label(cost))
    ax.set_ylabel(axis_label(benefit))
    return _finish(fig, ax, title or f"{axis_label(benefit)} against {axis_label(cost)}", device, path)
