"""`suite run`: execute notebooks x languages on a profile, go on past failures, then summarize."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gpuguide_utils.env import Environment, capability, describe
from .notebooks import LANGUAGES, SOURCE_LANG, Notebook, dumps, read_notebook, write_atomic
from .profiles import SIZES, Profile

#: --execute once: run each notebook once (English) and render the other languages from its outputs.
EXECUTE_MODES = ("once", "all")

#: Environments a notebook may declare in metadata.gpuguide.environment, and the virtual environment for each.
#: Side environments (see environments/README.md) are reached through a Jupyter kernel named gpuguide-<name>.
ENVIRONMENTS = {"main": ".venv", "bettertransformer": ".venv-bettertransformer", "ort": ".venv-ort"}


@dataclass
class Job:
    notebook: Notebook
    lang: str
    profile: Profile
    out: Path
    parameters: dict[str, Any]
    timeout_s: int
    cpu_threads: int | None = None  # set by run_all: threads_per_notebook()
    render_from: str | None = None  # --execute once: the language whose executed notebook this one is rendered from

    @property
    def executed(self) -> Path:
        return self.out / "executed" / self.lang / f"{self.notebook.name}.ipynb"

    @property
    def results(self) -> Path:
        return self.out / "results" / self.lang / f"{self.notebook.name}.json"

    @property
    def status_file(self) -> Path:
        return self.out / "status" / self.lang / f"{self.notebook.name}.json"


@dataclass
class Outcome:
    notebook: str
    lang: str
    status: str  # ok, skipped, failed
    reason: str = ""
    failing_cell: int | None = None  # index in the executed notebook
    failing_cell_id: str | None = None
    seconds: float | None = None
    executed: str = ""
    results: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    rendered_from: str | None = None  # set when the outputs were executed in another language (--execute once)
    claims: list[dict[str, Any]] = field(default_factory=list)  # what this run says of each claimed sentence


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """['batch_size=4', 'seq_lens=[128, 256]'] -> {'batch_size': 4, 'seq_lens': [128, 256]}: each value read as YAML,
    as papermill's own -y does (numbers, lists, true/false, null or None, anything else text)."""
    import yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"-p {pair!r} is not name=value")
        name, raw = pair.split("=", 1)
        out[name.strip()] = None if raw.strip() == "None" else yaml.safe_load(raw)
    return out


def kernel_for(environment: str) -> str | None:
    """The Jupyter kernel that runs a notebook of this environment, or None when it is not installed.

    main: the runner's own Python ("python3"); side environments: the "gpuguide-<name>" kernel that
    `make env-<name>` registers in the main environment.
    """
    if environment == "main":
        return "python3"
    from jupyter_client.kernelspec import KernelSpecManager

    name = f"gpuguide-{environment}"
    return name if name in KernelSpecManager().find_kernel_specs() else None


def skip_reason(job: Job, env: Environment) -> str | None:
    """Why this notebook cannot run here at all (its whole-notebook requirements), or None."""
    meta = job.notebook.meta
    environment = meta.get("environment", "main")
    if environment not in ENVIRONMENTS:
        return f"unknown environment {environment!r} in metadata (known: {', '.join(ENVIRONMENTS)})"
    if kernel_for(environment) is None:
        return f"environment {environment!r} is not set up (run: make env-{environment})"
    for name in meta.get("requires", []):
        cap = capability(name, env)
        if not cap.available:
            return f"needs {cap.name}: {cap.reason}"
    return None


def remove_leftovers(job: Job) -> None:
    """Delete the executor's temporary copies of this notebook (.<name>.*.ipynb beside its executed file): a run
    killed on its timeout, or by hand, leaves them, and the site would publish them as pages."""
    for leftover in job.executed.parent.glob(f".{job.notebook.name}.*.ipynb"):
        leftover.unlink(missing_ok=True)


def run_job(job: Job, env: Environment) -> Outcome:
    base = dict(notebook=job.notebook.name, lang=job.lang, parameters=job.parameters)
    reason = skip_reason(job, env)
    if reason:
        return Outcome(status="skipped", reason=reason, **base)
    kernel = kernel_for(job.notebook.meta.get("environment", "main"))
    python = Path(sys.executable)
    job.status_file.unlink(missing_ok=True)
    remove_leftovers(job)
    cmd = [str(python), "-m", "gpuguide_suite.execute", "--input", str(job.notebook.path(job.lang)),
           "--output", str(job.executed), "--results", str(job.results), "--status", str(job.status_file),
           "--parameters", json.dumps(job.parameters), "--timeout", str(job.timeout_s), "--kernel", kernel,
           "--cwd", str(job.out)]
    child_env = dict(os.environ, PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONUNBUFFERED="1",
                     GPUGUIDE_LANG=job.lang)
    if job.cpu_threads:  # the same pool size for every notebook and library (torch, ONNX Runtime read it)
        child_env.update(OMP_NUM_THREADS=str(job.cpu_threads), MKL_NUM_THREADS=str(job.cpu_threads),
                         GPUGUIDE_THREADS=str(job.cpu_threads))
    child_env["GPUGUIDE_RUN_CACHE"] = str(job.out / "cache")  # measured once per run: the memory bandwidth
    proc = subprocess.Popen(cmd, env=child_env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        log, _ = proc.communicate(timeout=job.timeout_s + 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        remove_leftovers(job)
        return Outcome(status="failed", reason=f"timed out after {job.timeout_s} s", **base)
    if not job.status_file.exists():
        tail = log.decode(errors="replace").strip().splitlines()[-5:]
        return Outcome(status="failed", reason="executor crashed: " + " | ".join(tail), **base)
    status = json.loads(job.status_file.read_text(encoding="utf-8"))
    return Outcome(status=status["status"], reason=status.get("reason", ""), failing_cell=status.get("failing_cell"),
                   failing_cell_id=status.get("failing_cell_id"), seconds=status.get("seconds"), executed=str(job.executed), results=str(job.results), **base)


def render_translation(executed_source: Path, translated: Path, output: Path) -> None:
    """Write `translated`'s prose around `executed_source`'s code cells and outputs (matched by cell id).

    Code cells are byte-identical in every language, so their outputs are the same measurement; only the
    markdown and the notebook's language metadata change.
    """
    executed = read_notebook(executed_source)
    prose = {c.get("id"): c for c in read_notebook(translated).cells}
    for cell in executed.cells:
        twin = prose.get(cell.get("id"))
        if cell.cell_type == "markdown" and twin is not None:
            cell.source = twin.source
        elif cell.cell_type == "code" and twin is not None and twin.source != cell.source:
            raise ValueError(f"{translated}: code cell {cell.get('id')} differs from the English; run suite build")
    executed.metadata["gpuguide"] = dict(read_notebook(translated).metadata.get("gpuguide", {}),
                                         outputs_from=f"executed/{SOURCE_LANG}/{executed_source.name}")
    write_atomic(output, dumps(executed))


def render_job(job: Job, source: Outcome) -> Outcome:
    """--execute once: this language's executed notebook, rendered from the source language's run."""
    base = dict(notebook=job.notebook.name, lang=job.lang, parameters=job.parameters, rendered_from=job.render_from)
    if source.status != "ok":
        return Outcome(status=source.status, reason=f"{job.render_from} run {source.status}: {source.reason}".strip(),
                       **base)
    try:
        render_translation(Path(source.executed), job.notebook.path(job.lang), job.executed)
    except ValueError as error:
        return Outcome(status="failed", reason=str(error), **base)
    return Outcome(status="ok", seconds=0.0, executed=str(job.executed), results=source.results, **base)


def plan(notebooks: list[Notebook], langs: list[str], profile: Profile, out: Path, overrides: dict[str, Any],
         timeout_s: int | None, execute: str = "all") -> list[Job]:
    """One job per notebook and language; with execute="once", other languages render the English run."""
    if execute not in EXECUTE_MODES:
        raise ValueError(f"--execute {execute!r} is not valid; choose one of: {', '.join(EXECUTE_MODES)}")
    jobs = []
    for notebook in notebooks:
        params = {"profile": profile.name, **overrides}
        run_langs = langs if execute == "all" else [SOURCE_LANG] + [lang for lang in langs if lang != SOURCE_LANG]
        for lang in run_langs:
            render_from = SOURCE_LANG if execute == "once" and lang != SOURCE_LANG else None
            jobs.append(Job(notebook, lang, profile, out, params, timeout_s or profile.timeout_s, render_from=render_from))
    return jobs


def threads_per_notebook(cpu_count: int | None = None) -> int:
    """The CPU threads every notebook gets, whatever --jobs is: half the cores (at least one).

    Fixed per machine, so a notebook's timings do not depend on how the run was launched (make run or make test,
    one job or two), and torch and ONNX Runtime in one notebook get the same pool size.
    """
    return max(1, (cpu_count or os.cpu_count() or 1) // 2)


def parallel_jobs(value: str, on_gpu: bool, cpu_count: int | None = None) -> int:
    """--jobs: "auto" fills the CPU's cores with notebooks of threads_per_notebook() threads each (2), and a GPU
    profile runs one notebook at a time (they would share its memory and disturb each other's timings)."""
    if on_gpu:
        return 1
    if value == "auto":
        cores = cpu_count or os.cpu_count() or 1
        return max(1, cores // threads_per_notebook(cores))
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"--jobs {value!r} is not valid; choose auto or a whole number of at least 1")
    return number


def expected_minutes(job: Job) -> float:
    """How long the notebook's metadata says it takes on the job's profile (duration_minutes)."""
    return float(job.notebook.meta.get("duration_minutes", {}).get(job.profile.name, 0))


def run_all(jobs: list[Job], jobs_in_parallel: int = 1, env: Environment | None = None,
            on_done=None) -> list[Outcome]:
    """Run every job (in parallel when asked); one failing notebook never stops the others.

    Rendered jobs (--execute once) wait for their source language's run and take its outputs.
    """
    env = env or describe()
    # Build model presets once, up front, so parallel notebooks do not all build the same one.
    _prebuild_presets(jobs)
    # The longest first: with two at a time, a long notebook started last would run on alone at the end.
    executed = sorted((j for j in jobs if j.render_from is None), key=lambda j: -expected_minutes(j))
    rendered = [j for j in jobs if j.render_from is not None]

    def one(job: Job) -> Outcome:
        outcome = run_job(job, env)
        if on_done:
            on_done(outcome)
        return outcome

    for job in executed:
        job.cpu_threads = threads_per_notebook()
    if executed:
        _measure_bandwidth_once(executed[0])
    with ThreadPoolExecutor(max_workers=max(1, jobs_in_parallel)) as pool:
        outcomes = {(o.notebook, o.lang): o for o in pool.map(one, executed)}
    for job in rendered:
        outcome = render_job(job, outcomes[(job.notebook.name, job.render_from)])
        if on_done:
            on_done(outcome)
        outcomes[(job.notebook.name, job.lang)] = outcome
    for job in jobs:
        check_claims(job, outcomes[(job.notebook.name, job.lang)])
    return [outcomes[(j.notebook.name, j.lang)] for j in jobs]


def check_claims(job: Job, outcome: Outcome) -> None:
    """Write under each claimed sentence of an executed notebook what this run says of it (claims.annotate)."""
    from . import claims
    from .site_strings import strings

    if outcome.status != "ok" or not outcome.results or not Path(outcome.results).is_file():
        return
    rows = json.loads(Path(outcome.results).read_text(encoding="utf-8")).get("rows", [])
    found = claims.annotate(job.executed, rows, job.notebook.name, job.profile.name,
                            strings(job.notebook.root, job.lang), job.lang)
    outcome.claims = claims.to_dicts(found)


def _measure_bandwidth_once(job: Job) -> None:
    """The roofline's memory bandwidth, measured once before any notebook runs, with a notebook's threads; every
    notebook of the run reads it (gg.measure_bandwidth), so their floors agree."""
    import torch

    from gpuguide_utils.timing import measure_bandwidth

    previous = torch.get_num_threads()
    torch.set_num_threads(job.cpu_threads or previous)
    try:
        bandwidth = measure_bandwidth("cuda" if job.profile.needs_cuda else "cpu", repeats=20)
    finally:
        torch.set_num_threads(previous)
    bandwidth.save(job.out / "cache")
    print(f"memory bandwidth for this run: {replace(bandwidth, source='measured once, before the notebooks')}")


def _prebuild_presets(jobs: list[Job]) -> None:
    """Every preset a main-environment notebook will load on this profile (side environments build their own)."""
    from gpuguide_utils.models import PRESETS, build_preset

    names = set()
    for job in jobs:
        if job.notebook.meta.get("environment", "main") != "main" or job.render_from is not None:
            continue
        sizes = dict(SIZES.get(job.notebook.name, {}).get(job.profile.name, {}), **job.parameters)
        names |= {value for value in sizes.values() if isinstance(value, str) and value in PRESETS}
    for name in sorted(names):
        build_preset(name)


def write_summary(outcomes: list[Outcome], out: Path, profile: Profile, env: Environment, execute: str = "all",
                  started: str | None = None) -> Path:
    """build/summary.json: the profile, the machine, when and from which commit, and every notebook's outcome."""
    from datetime import datetime, timezone

    path = out / "summary.json"
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_atomic(path, json.dumps({"profile": profile.name, "execute": execute, "environment": env.to_dict(),
                                   "commit": git_commit(), "started": started or finished, "finished": finished,
                                   "outcomes": [asdict(o) for o in outcomes]}, indent=1, ensure_ascii=False))
    return path


def git_commit() -> str:
    """The commit the notebooks ran from ("unknown" outside a git checkout), with "+changes" when the tree is dirty.

    $GPUGUIDE_COMMIT wins: a copy of the tree without .git (the GPU recipe's machine) is told which commit it is.
    """
    from .notebooks import repo_root

    if os.environ.get("GPUGUIDE_COMMIT"):
        return os.environ["GPUGUIDE_COMMIT"]
    try:
        root = repo_root()
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True).stdout.strip()
        return commit.stdout.strip() + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def select_langs(value: str) -> list[str]:
    langs = list(LANGUAGES) if value in ("all", "") else [v.strip() for v in value.split(",")]
    bad = [lang for lang in langs if lang not in LANGUAGES]
    if bad:
        raise ValueError(f"--lang {','.join(bad)} is not valid; choose from: all, {', '.join(LANGUAGES)}")
    return langs
