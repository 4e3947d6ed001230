"""Throw-away environments for the tests that imitate a user's machine: Colab's image, a clean install of the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

#: uv and the torch wheel that `make venv` put in the running environment (Makefile: UV_SPEC, TORCH_WHEELS).
UV = Path(sys.executable).parent / "uv"
TORCH_WHEELS = Path(sys.prefix) / "wheels"


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a set-up command; a failure says what it printed (check=True alone shows only the exit status)."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if done.returncode:
        pytest.fail(f"{' '.join(map(str, command))[:300]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}",
                    pytrace=False)
    return done


def with_preinstalled(path: Path, *requirements: str) -> Path:
    """A fresh venv with pip, holding `requirements` as a machine would before the step under test; returns its python.

    What is already there is installed by uv, from the fetched torch wheel and the package index or uv's cache, in
    seconds (pip took about a minute for torch alone); the step under test then runs pip, as the user does. No
    bytecode: the imitations import each module once or twice.
    """
    if not UV.is_file() or not list(TORCH_WHEELS.glob("torch-*.whl")):
        pytest.fail(f"no uv or torch wheel beside {sys.executable} ({UV}, {TORCH_WHEELS}): run `make venv` first",
                    pytrace=False)
    venv.create(path, with_pip=True)
    python = path / "bin" / "python"
    run([UV, "pip", "install", "--quiet", "--python", python, "--find-links", TORCH_WHEELS, *requirements],
        env={**os.environ, "UV_SYSTEM_CERTS": os.environ.get("UV_SYSTEM_CERTS", "1")})  # as the Makefile sets it
    return python
