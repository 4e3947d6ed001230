"""Shared fixtures: an isolated model cache per test session, the CPU run, one Chromium, skipping of `gpu` tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["GPUGUIDE_ROOT"] = str(ROOT)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Presets are built into a fresh cache, so the build path itself is tested every run."""
    path = tmp_path_factory.mktemp("gpuguide-cache")
    os.environ["GPUGUIDE_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def tiny_llama(model_cache: Path):
    from gpuguide_utils.models import load_model, load_tokenizer

    return load_model("tiny-llama", dtype="float32"), load_tokenizer("tiny-llama")


@pytest.fixture(scope="session")
def suite_run() -> dict:
    """Every notebook in every language on the cpu profile into build/, once per session (notebook and site tests).

    Also records the temporary directories named gpuguide-* that the run left behind (it should leave none).
    """
    import tempfile

    def temporary_dirs() -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).glob("gpuguide-*")}

    out = ROOT / "build"
    before = temporary_dirs()
    result = subprocess.run(
        [sys.executable, "-m", "gpuguide_suite", "run", "--profile", "cpu", "--jobs", "2", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=4000,
    )
    print(result.stdout[-4000:], result.stderr[-4000:])
    summary = json.loads((out / "summary.json").read_text())
    return {(o["lang"], o["notebook"]): o for o in summary["outcomes"]} | {
        "_stdout": result.stdout, "_rc": result.returncode, "_new_temporary_dirs": temporary_dirs() - before}


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
