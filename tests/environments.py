"""Throw-away environments for the tests that imitate a user's machine: Colab's image, a clean install of the wheel."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

#: uv and the torch wheel that `make venv` put in the running environment (Makefile: UV_SPEC, TORCH_WHEELS).
UV = Path(sys.executable).parent / "uv"
TORCH_WHEELS = Path(sys.prefix) / "wheels"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a set-up command; a failure says what it printed (check=True alone shows only the exit status)."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))[:300]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def with_preinstalled(path: Path, *requirements: str) -> Path:
    """A fresh venv with pip, holding `requirements` as a machine would before the step under test; returns its python.

    What is already there is installed by uv from its cache and the fetched torch wheel, in seconds (pip took about a
    minute for torch alone); the step under test then runs pip, as the user does. No bytecode: the imitations import
    each module once or twice.
    """
    venv.create(path, with_pip=True)
    python = path / "bin" / "python"
    run([UV, "pip", "install", "--quiet", "--python", python, "--find-links", TORCH_WHEELS, *requirements])
    return python
