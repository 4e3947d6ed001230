"""`build/report.md`: one table across the suite (status and every measured variant) plus PNG charts."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from gpuguide_utils.results import Table, format_metric, markdown_cell
from .notebooks import write_atomic
from .runner import Outcome


def _load_rows(outcome: Outcome) -> tuple[str, list[dict[str, Any]]]:
    if not outcome.results or not Path(outcome.results).exists():
        return "", []
    data = json.loads(Path(outcome.results).read_text(encoding="utf-8"))
    return data.get("device", ""), data.get("rows", [])


def _status_cell(o: Outcome) -> str:
    if o.status == "failed":
        where = f" in cell {o.failing_cell} ({o.failing_cell_id})" if o.failing_cell is not None else ""
        return f"**failed**{where}: {o.reason}"
    return f"skipped: {o.reason}" if o.status == "skipped" else "ok"


#: Metrics worth a glance in the suite table besides latency and peak memory: name -> label, in display order.
_OTHER_METRICS = {"ttft_s": "TTFT", "decode_tokens_per_s": "decode", "footprint_bytes": "footprint",
                  "expected_bytes": "expected", "bandwidth_bytes_per_s": "bandwidth", "bound_s_per_token": "bound",
                  "decode_s_per_token": "decode", "fraction_of_bound": "of bound"}


def _other_metrics(metrics: dict[str, Any], limit: int = 3) -> str:
    shown = [f"{label} {format_metric(name, metrics[name])}" for name, label in _OTHER_METRICS.items()
             if metrics.get(name) is not None]
    return "; ".join(shown[:limit])


def _variant_rows(outcomes: list[Outcome]) -> tuple[list[str], dict[tuple[str, str], list[dict]]]:
    """Table lines for every measured row, and the rows grouped by (notebook, group) for charts."""
    lines = ["| notebook | lang | device | group | variant | params | latency | peak memory | speed-up | other measurements | status |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    by_group: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for o in outcomes:
        if o.rendered_from:  # the same measurement as its source language's: shown once
            continue
        device, rows = _load_rows(o)
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            groups[r["group"]].append(r)
        for group, group_rows in groups.items():
            baseline = next((r.get("baseline") for r in group_rows if r.get("baseline")), None)
            table = Table.compare(group_rows, baseline=baseline or group_rows[0]["variant"])
            for r, d in zip(group_rows, table.data):
                params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
                speed = f"{d['speedup']:.2f}x vs {baseline}" if baseline and d["speedup"] else ""
                status = r["status"] + (f": {r['reason']}" if r["reason"] else "")
                cells = [o.notebook, o.lang, device, group, r["variant"], params,
                         format_metric("latency_s", r["metrics"].get("latency_s")),
                         format_metric("peak_memory_bytes", r["metrics"].get("peak_memory_bytes")), speed,
                         _other_metrics(r["metrics"]), status]
                lines.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
                by_group[(o.notebook, group)].append(dict(r, lang=o.lang, device=device))
    return lines, by_group


def _charts(by_group: dict[tuple[str, str], list[dict]], charts_dir: Path, out: Path) -> list[str]:
    """One grouped bar chart of latency per (notebook, group): a bar per executed run for each variant.

    With --execute all every language is a separate run of the same code, so the bars of one variant show the
    run-to-run spread; with --execute once there is one run.
    """
    import matplotlib.pyplot as plt

    from gpuguide_utils.plots import grouped_bar_chart

    links = []
    for (notebook, group), rows in sorted(by_group.items()):
        if not any(r["status"] == "ok" and r["metrics"].get("latency_s") for r in rows):
            continue
        series: dict[str, dict[str, float | None]] = defaultdict(dict)
        for r in rows:
            label = r["variant"] + "".join(f" {k}={v}" for k, v in r["params"].items())
            series[f"run {r['lang']}"][label] = r["metrics"].get("latency_s") if r["status"] == "ok" else None
        safe = "".join(ch if ch.isalnum() else "_" for ch in f"{notebook}_{group}")
        path = charts_dir / f"{safe}.png"
        runs = f" ({len(series)} runs of the same code: their spread is noise)" if len(series) > 1 else ""
        fig = grouped_bar_chart(series, "latency_s", title=f"{notebook}: {group}{runs}", device=rows[0]["device"],
                                path=path)
        plt.close(fig)
        links.append(f"![{notebook}: {group}]({path.relative_to(out)})")
    return links


def _claim_lines(outcomes: list[Outcome]) -> list[str]:
    """Every claimed sentence and what this run says of it (once per measurement: the executed language's)."""
    claims = [c for o in outcomes if not o.rendered_from for c in o.claims]
    if not claims:
        return []
    counts = {s: sum(c["status"] == s for c in claims) for s in ("holds", "fails", "unmeasured", "elsewhere")}
    lines = ["## Claims", "",
             f"{counts['holds']} hold, {counts['fails']} not supported by this run, {counts['unmeasured']} not "
             f"measured, {counts['elsewhere']} stated for other profiles (shown, not counted).", "",
             "| notebook | cell | claim | this run | evidence |", "|---|---|---|---|---|"]
    for c in claims:
        status = {"fails": "**not supported**"}.get(c["status"], c["status"])
        cells = [c["notebook"], c["cell"], c["says"], status, c["evidence"]]
        lines.append("| " + " | ".join(markdown_cell(x) for x in cells) + " |")
    return lines


def write_report(outcomes: list[Outcome], out: Path, profile: str, device: str) -> Path:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    lines = [
        "# gpuguide run report",
        "",
        f"Profile `{profile}` on {device}, {time.strftime('%Y-%m-%d %H:%M %Z')}. "
        f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed.",
        "",
        "## Notebooks",
        "",
        "| notebook | lang | status | seconds | executed notebook |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        link = f"[{Path(o.executed).name}]({Path(o.executed).relative_to(out)})" if o.executed else ""
        seconds = f"(outputs of {o.rendered_from})" if o.rendered_from else (o.seconds if o.seconds is not None else "")
        lines.append(f"| {o.notebook} | {o.lang} | {_status_cell(o)} | {seconds} | {link} |")
    lines += ["", *_claim_lines(outcomes)]
    variant_lines, by_group = _variant_rows(outcomes)
    lines += ["", "## Measured variants", "", *variant_lines, ""]
    charts = _charts(by_group, out / "charts", out)
    if charts:
        lines += ["## Charts", "", *[c + "\n" for c in charts]]
    path = out / "report.md"
    write_atomic(path, "\n".join(lines) + "\n")
    return path


def summary_text(outcomes: list[Outcome]) -> str:
    """The few lines `make run` prints at the end."""
    width = max((len(f"{o.lang}/{o.notebook}") for o in outcomes), default=10)
    lines = [f"{o.lang + '/' + o.notebook:<{width}}  {o.status:<7}  "
             f"{(str(o.seconds) + ' s') if o.seconds is not None else '':>9}  {_status_cell(o) if o.status != 'ok' else ''}"
             for o in outcomes]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    lines.append(f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed")
    claims = [c for o in outcomes if not o.rendered_from for c in o.claims]
    if claims:
        failing = [f"{c['notebook']} {c['cell']}: {c['says']} ({c['evidence']})" for c in claims if c["status"] == "fails"]
        lines.append(f"claims: {sum(c['status'] == 'holds' for c in claims)} of {len(claims)} hold on this run"
                     + "".join(f"\n  not supported: {f}" for f in failing))
    return "\n".join(lines)
