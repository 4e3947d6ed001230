"""Shared fixtures: an isolated model cache per test session, the CPU run, one Chromium, skipping of `gpu` tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Before torch loads OpenMP: a thread waiting for work yields its core soon instead of spinning for a while. Two
# workers and their subprocesses share the cores, and a spinning thread takes a core that another process needs: the
# preset's 2-thread training ran 4x slower beside one busy process with the default, 2x with this (2 cores, 2026-12).
# It changes no result, only how long an idle thread waits.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

import pytest  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["GPUGUIDE_ROOT"] = str(ROOT)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:  # each xdist worker gets its share of the cores, as the notebook runner gives each notebook
        share = max(1, (os.cpu_count() or 1) // workers)
        torch.set_num_threads(share)
        # ... and so do the kernels and programs it starts (JupyterLab's, Colab's, the wheel's); the runner sets its
        # notebooks' own count. With every core's threads in its kernel, JupyterLab's Run All of setup_check and 06
        # took 506 s here beside the other worker; 95-118 s with one.
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(share))


#: Test modules that share one unit of work when `make test` runs pytest in two processes (pytest-xdist): those that
#: read this session's notebook run (build/), which the worker that takes them runs once, and the imitated Colab.
SHARED = {"test_notebooks.py": "run", "test_site.py": "run", "test_slides.py": "run", "test_colab.py": "colab"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """xdist's load-by-scope scheduling with the scopes of SHARED: each group runs in one worker, every other test
    is a unit of its own. (`--dist loadgroup` would do this with marks, but it stopped grouping with pytest 9.2:
    pytest-dev/pytest-xdist#1386.)"""
    from xdist.scheduler import LoadScopeScheduling

    class SharedScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return SHARED.get(nodeid.split("::")[0].rsplit("/", 1)[-1], nodeid)

    return SharedScopes(config, log)


#: The longest units of work: workers take them, then the other `slow` tests, before the rest. (JupyterLab's Run All
#: goes with the other slow tests, after the Colab imitation: taken at once, it ran beside the training of the preset.)
LONGEST = ["run", "colab"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest work first (LONGEST, then the other `slow` tests), and `gpu` tests skipped without CUDA."""
    def rank(item: pytest.Item) -> int:
        unit = SHARED.get(item.path.name, item.path.name)
        return LONGEST.index(unit) if unit in LONGEST else len(LONGEST) + (0 if item.get_closest_marker("slow") else 1)

    items.sort(key=rank)  # stable: otherwise as collected
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Presets are built into a fresh cache, so the build path itself is tested every run; xdist's workers share it."""
    base = tmp_path_factory.getbasetemp()
    path = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "gpuguide-cache"
    path.mkdir(exist_ok=True)
    os.environ["GPUGUIDE_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def trained_preset(model_cache: Path) -> Path:
    """The trained preset, built once for every worker: the notebook run, Colab and JupyterLab tests need it, and
    two trainings at once would each take twice as long (the lock makes the second worker wait, then reuse it)."""
    from filelock import FileLock

    from gpuguide_utils.models import build_preset

    with FileLock(str(model_cache) + ".lock"):
        return build_preset("trained-llama")


@pytest.fixture(scope="session")
def tiny_llama(model_cache: Path):
    from gpuguide_utils.models import load_model, load_tokenizer

    return load_model("tiny-llama", dtype="float32"), load_tokenizer("tiny-llama")


@pytest.fixture(scope="session")
def suite_run(tmp_path_factory: pytest.TempPathFactory, trained_preset: Path) -> dict:
    """Every notebook in every language on the cpu profile into build/, once per session (notebook and site tests).

    Also records the temporary directories named gpuguide-* that the run left behind (it should leave none); the run
    gets a temporary folder of its own, so that tests running beside it cannot be mistaken for it.
    """
    temporary = tmp_path_factory.mktemp("suite-run-tmp")
    out = ROOT / "build"
    result = subprocess.run(
        [sys.executable, "-m", "gpuguide_suite", "run", "--profile", "cpu", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(temporary)), timeout=4000,
    )
    print(result.stdout[-4000:], result.stderr[-4000:])
    summary = json.loads((out / "summary.json").read_text())
    return {(o["lang"], o["notebook"]): o for o in summary["outcomes"]} | {
        "_stdout": result.stdout, "_rc": result.returncode,
        "_new_temporary_dirs": {p.name for p in temporary.glob("gpuguide-*")}}


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One Chromium for the whole session: Playwright's sync API cannot start a second one while this one lives."""
    from tests import browser

    reason = browser.unavailable()
    if reason:
        pytest.skip(reason)
    instance = browser.Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield instance
    instance.close()
