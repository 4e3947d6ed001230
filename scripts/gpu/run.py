#!/usr/bin/env python3
"""One call of the GPU recipe, shaped for a machine that is discarded after each command (docs/results/README.md).

The machine has Python 3.12 with torch and transformers preinstalled, no network, at most 10 minutes per command,
and returns only what the command writes into one export folder. So this script, in one call:

1. installs the carried wheels (scripts/gpu/wheelhouse.sh) into a private folder and records the versions that ran;
2. unpacks the archive an earlier call left (--previous): its trained preset and stored results, so nothing is
   rebuilt and `suite store` merges both calls into one docs/results/<gpu>/ folder;
3. runs its part's notebooks one at a time on a GPU profile, English only, each with a timeout that fits what is
   left of the call's budget (a notebook that no longer fits is not started), and stores each run;
4. ALWAYS leaves one compressed archive in the export folder, whether or not a notebook failed: the executed
   notebooks, results, reports, the stored results folder, the log, the versions, the timeline and the trained
   preset for the next call; beside it a short text summary.

Part 1: 00, 01, 02 (and the trained preset, built while 00 runs); part 2: 03, then 06 and the set-up check while
time allows. `--profile cpu` is the dry run: the same steps on any machine, tested by `make test`.

Usage: python3 scripts/gpu/run.py PART EXPORT_DIR [--profile gpu-small] [--commit SHA] [--previous ARCHIVE] ...
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Each part's notebooks with their planned limit in seconds on an H100 (gpu-small), in running order; the written
#: estimate behind them is in docs/results/README.md. A notebook gets min(its limit, what the budget has left).
PARTS: dict[int, list[tuple[str, int]]] = {
    1: [("00_measuring", 180), ("01_flash_attention_2", 140), ("02_sdpa", 90)],
    2: [("03_bitsandbytes", 220), ("06_combining", 215), ("setup_check", 90)],
}
#: Notebooks run only "when time allows": started only with at least this many seconds left.
OPTIONAL_MIN_S = {"06_combining": 150, "setup_check": 90}
#: Any other notebook is started only with at least this many seconds left (the runner's grace plus a short run).
MIN_START_S = 90
#: Seconds kept back at the end of the call for storing, archiving and the summary.
RESERVE_S = 25
#: The runner kills a notebook this long after its timeout (runner.run_job): the timeout passed is the limit less it.
RUNNER_GRACE_S = 60
#: Presets whose build costs minutes: built once (part 1, in the background), archived and carried into later calls.
CARRIED_PRESETS = ("trained-llama",)

_PRESETS_SNIPPET = """
import sys, time
from gpuguide_utils.models import PRESETS, build_preset, preset_dir
for name in sys.argv[1:]:
    if name not in PRESETS:
        continue
    found = preset_dir(name).is_dir()
    started = time.perf_counter()
    build_preset(name)
    print(f"preset {name}: {'found' if found else 'built'} in {time.perf_counter() - started:.1f} s", flush=True)
"""

_VERSIONS_SNIPPET = """
import importlib.metadata as md, json, platform, sys
import torch
first = {}
for dist in md.distributions():
    name = (dist.metadata["Name"] or "").lower()
    if name and name not in first:
        first[name] = (dist.version, str(dist.locate_file("")))
info = {"python": platform.python_version(), "torch": torch.__version__, "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cuda_available": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}
print(json.dumps(info))
for name in sorted(first):
    version, where = first[name]
    print(f"{name}=={version}  ({where})")
"""


@dataclass
class Call:
    """One call of the recipe: its settings, where it writes, and what happened so far."""

    part: int
    export: Path
    profile: str
    work: Path
    wheels: Path
    site: Path
    budget_s: float
    notebooks: list[tuple[str, int]]
    params: list[str]
    previous: Path | None
    carried: tuple[str, ...]
    started: float = field(default_factory=time.monotonic)
    timeline: list[dict] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    stored: Path | None = None

    @property
    def out(self) -> Path:
        """The `suite run --out` folder of this part (executed/, results/, summary.json, report.md, charts/)."""
        return self.work / f"part{self.part}"

    @property
    def log(self) -> Path:
        return self.out / "run.log"

    def left_s(self) -> float:
        """Seconds left of the call's budget, less what the end of the call needs."""
        return self.budget_s - (time.monotonic() - self.started) - RESERVE_S


def log(call: Call, text: str) -> None:
    """A line in the call's log and on stdout, stamped with the seconds since the call began."""
    line = f"[{time.monotonic() - call.started:6.1f} s] {text}"
    print(line, flush=True)
    with call.log.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def run(call: Call, step: str, cmd: list[str], env: dict[str, str], timeout_s: float | None = None) -> int:
    """Run one command with its output in the log; record its seconds in the timeline; never raise."""
    began = time.monotonic()
    shown = " ".join(cmd)
    log(call, f"{step}: {shown if len(shown) < 400 else shown[:400] + ' …'}")
    try:
        with call.log.open("a", encoding="utf-8") as f:
            rc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                timeout=timeout_s).returncode
    except subprocess.TimeoutExpired:
        rc = 124
    except OSError as error:
        log(call, f"{step}: {error}")
        rc = 127
    seconds = round(time.monotonic() - began, 1)
    call.timeline.append({"step": step, "seconds": seconds, "rc": rc})
    log(call, f"{step}: exit {rc} after {seconds} s")
    return rc


def environment(call: Call) -> dict[str, str]:
    """The variables every step runs with: the carried packages first on the path, offline, the commit, the cache."""
    env = dict(os.environ)
    path = [str(call.site)] if (call.site / ".installed").exists() else []
    env["PYTHONPATH"] = os.pathsep.join(path + [str(ROOT), str(ROOT / "tools")] + (
        [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if (call.site / "share" / "jupyter").is_dir():
        env["JUPYTER_PATH"] = os.pathsep.join([str(call.site / "share" / "jupyter")] + (
            [env["JUPYTER_PATH"]] if env.get("JUPYTER_PATH") else []))
    env.setdefault("GPUGUIDE_CACHE", str(ROOT / ".gpucache"))
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", KINETO_LOG_LEVEL="6", TRANSFORMERS_NO_ADVISORY_WARNINGS="1")
    return env


def install(call: Call) -> None:
    """Install the carried wheels into the private folder (once per machine) and register its Jupyter kernel."""
    wheels = sorted(call.wheels.glob("*.whl")) if call.wheels.is_dir() else []
    if not wheels:
        log(call, f"no wheels in {call.wheels}: using the packages this Python already has")
        return
    marker = call.site / ".installed"
    if not marker.exists():
        rc = run(call, "install wheels", [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                                          "--no-compile", "--disable-pip-version-check", "--target", str(call.site),
                                          *map(str, wheels)], dict(os.environ))
        if rc == 0:
            marker.write_text("\n".join(w.name for w in wheels) + "\n", encoding="utf-8")
    run(call, "kernel spec", [sys.executable, "-m", "ipykernel", "install", "--prefix", str(call.site),
                              "--name", "python3"], environment(call))


def record_versions(call: Call) -> None:
    """versions.txt: the Python, torch, CUDA, cuDNN and every distribution that import would find, and its place."""
    env = environment(call)
    with (call.out / "versions.txt").open("w", encoding="utf-8") as f:
        subprocess.run([sys.executable, "-c", _VERSIONS_SNIPPET], env=env, cwd=ROOT, stdout=f,
                       stderr=subprocess.STDOUT, timeout=120, check=False)
        if shutil.which("nvidia-smi"):
            f.write("\n")
            f.flush()
            subprocess.run(["nvidia-smi"], stdout=f, stderr=subprocess.STDOUT, timeout=60, check=False)
    log(call, "versions: " + (call.out / "versions.txt").read_text(encoding="utf-8").splitlines()[0][:300])


def unpack_previous(call: Call) -> None:
    """From an earlier call's archive: its carried presets into the cache, its stored results where store merges."""
    if call.previous is None:
        return
    cache = Path(environment(call)["GPUGUIDE_CACHE"]) / "models"
    with tarfile.open(call.previous) as archive:
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if len(parts) > 3 and parts[0].startswith("part") and parts[1:3] == ("carry", "models"):
                target = cache.joinpath(*parts[3:])
            elif len(parts) > 1 and parts[0] == "results":
                target = stored_root(call).joinpath(*parts[1:])
            else:
                continue
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
    log(call, f"unpacked {call.previous}: presets {sorted(p.name for p in cache.glob('*'))}, "
              f"stored results {sorted(p.name for p in stored_root(call).glob('*') if p.is_dir())}")


def stored_root(call: Call) -> Path:
    """Where stored runs live: docs/results/ for a GPU; the work folder for the CPU dry run (never docs/results)."""
    return ROOT / "docs" / "results" if call.profile != "cpu" else call.work / "stored"


def sizes() -> dict:
    """gpuguide_utils/profiles.py's SIZES, loaded on its own (the package's __init__ imports torch)."""
    if "_gpuguide_profiles" not in sys.modules:
        spec = importlib.util.spec_from_file_location("_gpuguide_profiles", ROOT / "gpuguide_utils" / "profiles.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["_gpuguide_profiles"].SIZES


def models_needed(call: Call, notebook: str) -> list[str]:
    """The model ids a notebook loads on this profile (its model parameters, with -p overrides)."""
    values = dict(sizes().get(notebook, {}).get(call.profile, {}))
    values.update(p.split("=", 1) for p in call.params if "=" in p)
    names = [name for name in values if name == "model_id" or name.endswith("_model_id")
             or name in ("encoder_id", "decoder_id")]
    return sorted({str(values[name]) for name in names})


def start_carried_presets(call: Call) -> subprocess.Popen | None:
    """Build the carried presets the part needs and does not have, in the background (they train on the CPU)."""
    needed = sorted({m for nb, _ in call.notebooks for m in models_needed(call, nb)} & set(call.carried))
    if not needed:
        return None
    log(call, f"{', '.join(needed)}: found or built in the background (training uses 2 CPU threads) while the first "
              "notebook runs")
    f = (call.out / "carried-presets.log").open("w", encoding="utf-8")
    return subprocess.Popen([sys.executable, "-c", _PRESETS_SNIPPET, *needed], env=environment(call), cwd=ROOT,
                            stdout=f, stderr=subprocess.STDOUT)


def wait_for(call: Call, background: subprocess.Popen | None) -> None:
    """Wait for the background preset build (a notebook needs it now), within what the budget has left."""
    if background is None or background.poll() is not None:
        return
    began = time.monotonic()
    try:
        background.wait(timeout=max(1.0, call.left_s()))
    except subprocess.TimeoutExpired:
        background.kill()
    call.timeline.append({"step": "wait for carried presets", "seconds": round(time.monotonic() - began, 1),
                          "rc": background.returncode})
    log(call, f"carried presets: exit {background.returncode}; " + (call.out / "carried-presets.log").read_text(
        encoding="utf-8").strip().replace("\n", "; ")[-300:])


def run_notebook(call: Call, notebook: str, planned_s: int, background: subprocess.Popen | None) -> None:
    """Build what the notebook loads, run it with a timeout that fits the budget, and store the run."""
    needs = models_needed(call, notebook)
    if set(needs) & set(call.carried):
        wait_for(call, background)
    left = call.left_s()
    minimum = OPTIONAL_MIN_S.get(notebook, MIN_START_S)
    if left < minimum:
        call.outcomes[notebook] = f"not started: {left:.0f} s left of the call's budget, it needs {minimum} s"
        log(call, f"{notebook}: {call.outcomes[notebook]}")
        return
    env = environment(call)
    run(call, f"presets for {notebook}", [sys.executable, "-c", _PRESETS_SNIPPET, *needs], env,
        timeout_s=max(30.0, call.left_s() - MIN_START_S))
    limit = min(planned_s, call.left_s())
    if limit < minimum:
        call.outcomes[notebook] = f"not started: {limit:.0f} s left after building its models, it needs {minimum} s"
        log(call, f"{notebook}: {call.outcomes[notebook]}")
        return
    timeout = max(30, int(limit) - RUNNER_GRACE_S)
    cmd = [sys.executable, "-m", "gpuguide_suite", "run", "--profile", call.profile, "--lang", "en", "--execute",
           "once", "--only", notebook, "--out", str(call.out), "--timeout", str(timeout)]
    for param in call.params:
        cmd += ["-p", param]
    (call.out / "summary.json").unlink(missing_ok=True)  # so a runner that dies leaves no earlier summary to store
    rc = run(call, notebook, cmd, env, timeout_s=limit + 30)
    status = read_status(call, notebook)
    call.outcomes[notebook] = status or f"runner exit {rc}, no status (its rows so far: part{call.part}/results/)"
    store(call, notebook, " ".join(["python3", "scripts/gpu/run.py", str(call.part), "EXPORT", "--profile",
                                    call.profile] + [f"-p {p}" for p in call.params]) + f" ({notebook})")


def read_status(call: Call, notebook: str) -> str:
    """The notebook's outcome as summary.json records it ("ok", "failed: reason", ...), or "" when none was written."""
    summary = call.out / "summary.json"
    if not summary.is_file():
        return ""
    for outcome in json.loads(summary.read_text(encoding="utf-8")).get("outcomes", []):
        if outcome["notebook"] == notebook and outcome["lang"] == "en":
            shutil.copyfile(summary, call.out / f"summary-{notebook}.json")
            return outcome["status"] + (f": {outcome['reason']}" if outcome.get("reason") else "")
    return ""


def store(call: Call, notebook: str, command: str) -> None:
    """`suite store` of the run just made (a failed notebook's rows too): GPU runs into docs/results/<gpu>/."""
    if not (call.out / "summary.json").is_file():
        return
    cmd = [sys.executable, "-m", "gpuguide_suite", "store", "--out", str(call.out), "--command", command]
    if call.profile == "cpu":
        cmd += ["--allow-cpu", "--to", str(stored_root(call) / "cpu-dry-run")]
    if run(call, f"store {notebook}", cmd, environment(call), timeout_s=120) == 0:
        text = call.log.read_text(encoding="utf-8")
        line = next((l for l in reversed(text.splitlines()) if l.startswith("stored in ")), "")
        call.stored = Path(line.removeprefix("stored in ").split(" (")[0]) if line else call.stored


def keep_carried_presets(call: Call) -> None:
    """Copy the carried presets this call has into part<N>/carry/models/, where the archive takes them."""
    cache = Path(environment(call)["GPUGUIDE_CACHE"]) / "models"
    for name in call.carried:
        for folder in sorted(cache.glob(f"{name}-*")):
            if folder.is_dir() and not folder.name.startswith("."):
                shutil.copytree(folder, call.out / "carry" / "models" / folder.name, dirs_exist_ok=True)


def archive(call: Call) -> Path:
    """gpuguide-part<N>.tar.gz in the export folder: part<N>/ (the run, its log, versions, timeline, carried presets)
    and results/<gpu>/ (the stored folder as `suite store` left it)."""
    path = call.export / f"gpuguide-part{call.part}.tar.gz"
    tmp = path.with_suffix(".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(call.out, arcname=f"part{call.part}")
        if call.stored is not None and call.stored.is_dir():
            tar.add(call.stored, arcname=f"results/{call.stored.name}")
    os.replace(tmp, path)
    return path


def summary_text(call: Call, archive_path: Path | None) -> str:
    """The text beside the archive: each notebook's outcome, the timeline and where everything is."""
    lines = [f"gpuguide GPU recipe, part {call.part}, profile {call.profile}, commit "
             f"{os.environ.get('GPUGUIDE_COMMIT', 'unknown')}",
             f"seconds: {time.monotonic() - call.started:.0f} of a {call.budget_s:.0f} s budget", ""]
    lines += [f"{nb}: {call.outcomes.get(nb, 'not reached')}" for nb, _ in call.notebooks]
    lines += ["", "timeline:"] + [f"  {t['step']}: {t['seconds']} s (exit {t['rc']})" for t in call.timeline]
    if archive_path is not None:
        lines += ["", f"archive: {archive_path.name}, {archive_path.stat().st_size / 2**20:.1f} MiB "
                      f"(part{call.part}/: run, log, versions, timeline, carried presets; results/: stored folder)"]
    return "\n".join(lines) + "\n"


def finish(call: Call) -> int:
    """Whatever happened: keep the presets, write the timeline, archive, summarize; the exit status says if all ran."""
    try:
        keep_carried_presets(call)
    except OSError as error:
        log(call, f"carrying presets failed: {error}")
    (call.out / "timeline.json").write_text(json.dumps({"budget_s": call.budget_s, "steps": call.timeline,
                                                        "outcomes": call.outcomes}, indent=1), encoding="utf-8")
    path = None
    try:
        path = archive(call)
    except (OSError, tarfile.TarError) as error:
        log(call, f"archive failed: {error}")
    text = summary_text(call, path)
    (call.export / f"gpuguide-part{call.part}.txt").write_text(text, encoding="utf-8")
    print(text, flush=True)
    return 0 if all(call.outcomes.get(nb, "").startswith("ok") for nb, _ in call.notebooks) else 1


def parse(argv: list[str] | None) -> Call:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", type=int, choices=sorted(PARTS))
    parser.add_argument("export", type=Path, help="the folder that comes back; gets one archive and a summary")
    parser.add_argument("--profile", default="gpu-small", choices=["gpu-small", "gpu-full", "cpu"],
                        help="gpu-small (default), gpu-full, or cpu: the dry run on any machine")
    parser.add_argument("--commit", default=os.environ.get("GPUGUIDE_COMMIT"),
                        help="the commit of this tree, recorded with the results (.git may not travel)")
    parser.add_argument("--previous", type=Path, default=None,
                        help="the archive an earlier call left: its trained preset and stored results are reused")
    parser.add_argument("--wheels", type=Path, default=None,
                        help="the carried wheels (default .whl on GPU profiles; none for the cpu dry run)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "gpu",
                        help="where the runs are written (default build/gpu; the wheels go into its site/)")
    parser.add_argument("--budget", type=float, default=540.0,
                        help="seconds this call may take in all (default 540: a 10-minute command, a minute spare)")
    parser.add_argument("--only", default=None, help="run these notebooks instead of the part's (comma-separated)")
    parser.add_argument("--carry", default=",".join(CARRIED_PRESETS),
                        help="presets built once and carried into later calls (default trained-llama)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook parameter for every notebook of the call (suite run -p)")
    args = parser.parse_args(argv)
    if args.commit:
        os.environ["GPUGUIDE_COMMIT"] = args.commit
    notebooks = PARTS[args.part]
    if args.only:
        planned = dict(PARTS[1] + PARTS[2])
        notebooks = [(name.strip(), planned.get(name.strip(), 120)) for name in args.only.split(",") if name.strip()]
    work = args.work.resolve()
    wheels = args.wheels or (ROOT / ".whl" if args.profile != "cpu" else work / "no-wheels")
    return Call(args.part, args.export.resolve(), args.profile, work, wheels.resolve(), work / "site",
                args.budget, notebooks, args.param,
                args.previous.resolve() if args.previous else None, tuple(filter(None, args.carry.split(","))))


def main(argv: list[str] | None = None) -> int:
    call = parse(argv)
    call.export.mkdir(parents=True, exist_ok=True)
    if call.out.exists():
        shutil.rmtree(call.out)
    call.out.mkdir(parents=True)
    log(call, f"part {call.part} on {call.profile}: {', '.join(nb for nb, _ in call.notebooks)}; budget "
              f"{call.budget_s:.0f} s; commit {os.environ.get('GPUGUIDE_COMMIT', 'unknown')}")
    background = None
    try:
        install(call)
        record_versions(call)
        unpack_previous(call)
        background = start_carried_presets(call)
        for notebook, planned in call.notebooks:
            run_notebook(call, notebook, planned, background)
    except Exception as error:  # noqa: BLE001 - the archive below is the point of the call
        log(call, f"the call stopped early: {type(error).__name__}: {error}\n{traceback.format_exc()}")
    wait_for(call, background)
    return finish(call)


if __name__ == "__main__":
    sys.exit(main())
