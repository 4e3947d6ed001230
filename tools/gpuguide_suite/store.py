"""`suite store`: keep a GPU run's results in docs/results/<gpu>/, where notebooks and the docs site show them.

Each call merges one run (one `suite run --out build`) into the GPU's folder: the results of every notebook it ran,
its report and charts, and run.json with the device, date, versions, commit and the exact commands. Running the two
parts of the GPU recipe one after the other therefore fills one folder.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from gpuguide_utils.files import write_atomic


def measured_profiles(results_root: Path) -> set[str]:
    """The profiles some stored run in results_root (docs/results) measured: their minutes are no longer estimates."""
    found = set()
    for info in results_root.glob("*/run.json"):
        found |= {part.get("profile") for part in json.loads(info.read_text(encoding="utf-8")).get("runs", [])}
    return found - {None}


def minutes_shown(minutes: dict[str, Any], measured: set[str]) -> dict[str, str]:
    """Minutes per profile as a reader sees them: a GPU profile no stored run has measured is marked '~' (estimate)."""
    return {profile: f"{value}" if profile == "cpu" or profile in measured else f"~{value}"
            for profile, value in minutes.items()}


ESTIMATE_NOTE = "~: an estimate, until a stored GPU run (docs/results/) measures it."


def slug(device: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'nvidia-h100-80gb-hbm3': the folder name of a GPU's results."""
    return re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")


def store(out: Path, command: str, results_root: Path, to: Path | None = None, allow_cpu: bool = False) -> Path:
    """Merge the run in `out` (summary.json, results/, report.md, charts/) into docs/results/<gpu>/; return it.

    allow_cpu stores a CPU run too, into `to` only: the GPU recipe's dry run goes through the same steps on a CPU.
    """
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    env = summary["environment"]
    if env.get("device_type") != "cuda" and not (allow_cpu and to is not None):
        raise ValueError(f"{out} holds a run on {env.get('label')}: only GPU runs are stored in docs/results/")
    target = to or results_root / slug(env["device_name"])
    target.mkdir(parents=True, exist_ok=True)
    info_path = target / "run.json"
    info: dict[str, Any] = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    ran = [o for o in summary["outcomes"] if o["status"] == "ok" and not o.get("rendered_from")]
    for outcome in summary["outcomes"]:
        source = Path(outcome.get("results") or "")
        if outcome.get("rendered_from") or not source.is_file():
            continue
        dest = target / "results" / outcome["lang"] / source.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    for chart in sorted((out / "charts").glob("*.png")):
        (target / "charts").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chart, target / "charts" / chart.name)
    part = len(info.get("runs", [])) + 1
    if (out / "report.md").exists():
        shutil.copyfile(out / "report.md", target / f"report-{part}.md")
    run = {"command": command, "profile": summary["profile"], "execute": summary.get("execute"),
           "started": summary.get("started"), "finished": summary.get("finished"), "commit": summary.get("commit"),
           "notebooks": {o["notebook"]: o["status"] for o in summary["outcomes"] if o["lang"] == "en"},
           "seconds": {o["notebook"]: o.get("seconds") for o in ran}, "report": f"report-{part}.md"}
    info.update(device=env["device_name"], label=env["label"], compute_capability=env.get("compute_capability"),
                memory_bytes=env.get("total_memory_bytes"), driver=env.get("driver_version"),
                cuda=env.get("cuda_version"), versions=env.get("versions", {}), profile=summary["profile"],
                date=time.strftime("%Y-%m-%d"), commit=summary.get("commit"),
                command=" && ".join([r["command"] for r in info.get("runs", [])] + [command]),
                runs=info.get("runs", []) + [run])
    write_atomic(info_path, json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    write_atomic(target / "README.md", readme(info, sorted(p.name for p in (target / "charts").glob("*.png"))))
    return target


def readme(info: dict[str, Any], charts: list[str]) -> str:
    """The folder's README.md: where, when, with what and how the results were measured, and links to them."""
    versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items() if v)
    lines = [f"# {info['device']}", "",
             f"Measured on {info.get('date')} from commit `{info.get('commit')}`, profile `{info.get('profile')}`.", "",
             f"- GPU: {info.get('label')}, compute capability {info.get('compute_capability')}, driver "
             f"{info.get('driver')}, CUDA {info.get('cuda')}",
             f"- versions: {versions}", "", "| command | notebooks | report |", "|---|---|---|"]
    for run in info.get("runs", []):
        notebooks = ", ".join(f"`{name}` {status}" for name, status in run.get("notebooks", {}).items())
        lines.append(f"| `{run['command']}` | {notebooks} | [{run['report']}]({run['report']}) |")
    lines += ["", "The measured rows are in `results/en/<notebook>.json`; each notebook shows them under its live "
              "tables.", ""]
    lines += [f"![{chart}](charts/{chart})" for chart in charts]
    return "\n".join(lines) + "\n"
