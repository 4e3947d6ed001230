"""`suite stability` (make stability): how often each claim holds, and each recommendation agrees, across runs.

A benchmark, not a test: it runs the cpu profile of the notebooks whose sentences depend most on timing (03, 05, 06)
several times while the machine is quiet and a few times while a bounded load generator keeps every core busy (it
stops by itself), then writes docs/results/cpu/stability.md with the command and the machine.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

from gpuguide_utils.results import markdown_cell

DEFAULT_ONLY = "03_,05_,06_"


def _spin(seconds: float) -> None:
    """Keep one core busy for at most `seconds` (the load generator's worker: arithmetic only, no I/O, no network)."""
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x = (x * 1103515245 + 12345) % 2**31


def busy_cores(seconds: float) -> list[multiprocessing.Process]:
    """One spinning process per core, each ending by itself after `seconds`."""
    workers = [multiprocessing.Process(target=_spin, args=(seconds,), daemon=True) for _ in range(os.cpu_count() or 1)]
    for worker in workers:
        worker.start()
    return workers


def one_run(root: Path, out: Path, only: str, loaded: bool, limit_s: float) -> dict:
    """One `suite run` of the chosen notebooks (English, cpu profile); its claims and 06's recommendation."""
    workers = busy_cores(limit_s) if loaded else []
    started = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-m", "gpuguide_suite", "run", "--profile", "cpu", "--lang", "en", "--only",
                        only, "--out", str(out)], cwd=root, check=False, capture_output=True, text=True,
                       timeout=limit_s)
    finally:
        for worker in workers:
            worker.terminate()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    claims = [c for o in summary["outcomes"] for c in o.get("claims", [])]
    recommendation = {}
    results = out / "results" / "en" / "06_combining.json"
    if results.is_file():
        for row in json.loads(results.read_text(encoding="utf-8"))["rows"]:
            if row["group"] == "recommendation":
                ties = [t for t in str(row["metrics"].get("ties", "")).split(", ") if t]
                recommendation[row["variant"]] = " = ".join(sorted([row["metrics"].get("choice", "none"), *ties]))
    statuses = {o["notebook"]: o["status"] for o in summary["outcomes"]}
    return dict(loaded=loaded, seconds=round(time.perf_counter() - started), statuses=statuses, claims=claims,
                recommendation=recommendation)


def report(runs: list[dict], command: str) -> str:
    """The Markdown of docs/results/cpu/stability.md."""
    quiet = sum(not r["loaded"] for r in runs)
    lines = ["# Stability of the cpu profile's claims and recommendations", "",
             f"{len(runs)} runs ({quiet} quiet, {len(runs) - quiet} with every core kept busy by a load generator), "
             f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, on {platform.processor() or platform.machine()}"
             f" with {os.cpu_count()} cores (`{platform.platform()}`).", "", f"Command: `{command}`", "",
             "## Claims", "", "| notebook | claim | held (quiet) | held (loaded) | held | other outcomes |",
             "|---|---|---|---|---|---|"]
    by_claim: dict[tuple[str, str], list[tuple[bool, str]]] = defaultdict(list)
    says = {}
    for run in runs:
        for claim in run["claims"]:
            key = (claim["notebook"], claim["id"])
            says[key] = claim["says"]
            by_claim[key].append((run["loaded"], claim["status"]))
    for (notebook, ident), outcomes in sorted(by_claim.items()):
        counted = [(loaded, s) for loaded, s in outcomes if s in ("holds", "fails")]
        held = [s == "holds" for _, s in counted]
        quiet_held = [s == "holds" for loaded, s in counted if not loaded]
        loaded_held = [s == "holds" for loaded, s in counted if loaded]
        other = Counter(s for _, s in outcomes if s not in ("holds", "fails"))

        def rate(values: list[bool]) -> str:
            return f"{sum(values)}/{len(values)}" if values else "-"

        lines.append("| " + " | ".join(markdown_cell(x) for x in [
            notebook, f"{ident}: {says[(notebook, ident)]}", rate(quiet_held), rate(loaded_held),
            f"{rate(held)} ({sum(held) / len(held):.0%})" if held else "-",
            ", ".join(f"{k} {v}" for k, v in other.items())]) + " |")
    lines += ["", "## 06's recommendation (winner, or the set of tied combinations)", "",
              "| goal | most frequent answer | runs that gave it | other answers |", "|---|---|---|---|"]
    goals = sorted({g for run in runs for g in run["recommendation"]})
    for goal in goals:
        answers = Counter(run["recommendation"].get(goal, "not measured") for run in runs)
        best, count = answers.most_common(1)[0]
        others = "; ".join(f"{a} ({n})" for a, n in answers.items() if a != best)
        lines.append("| " + " | ".join(markdown_cell(x) for x in [goal, best, f"{count}/{len(runs)}", others]) + " |")
    lines += ["", "## Runs", "", "| run | load | seconds | notebooks |", "|---|---|---|---|"]
    for i, run in enumerate(runs, 1):
        statuses = ", ".join(f"{k} {v}" for k, v in run["statuses"].items())
        lines.append(f"| {i} | {'busy cores' if run['loaded'] else 'quiet'} | {run['seconds']} | {statuses} |")
    return "\n".join(lines) + "\n"


def main(root: Path, quiet: int, loaded: int, only: str, out: Path, limit_s: float) -> int:
    """What `suite stability` does and prints."""
    command = f"python -m gpuguide_suite stability --quiet {quiet} --loaded {loaded} --only {only}"
    runs = []
    for i, is_loaded in enumerate([False] * quiet + [True] * loaded, 1):
        run = one_run(root, out / f"run-{i}", only, is_loaded, limit_s)
        held = sum(c["status"] == "holds" for c in run["claims"])
        print(f"run {i} ({'loaded' if is_loaded else 'quiet'}): {run['seconds']} s, {held}/{len(run['claims'])} claims "
              f"held, {run['statuses']}")
        runs.append(run)
    path = root / "docs" / "results" / "cpu" / "stability.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report(runs, command), encoding="utf-8")
    print(f"wrote {path.relative_to(root)}")
    return 0
