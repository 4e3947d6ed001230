"""The learner's package (gpuguide_utils, imported as gg) apart from the authoring tool (tools/gpuguide_suite)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import gpuguide_utils as gg
from gpuguide_suite.api_page import groups
from tests import environments

ROOT = Path(__file__).resolve().parents[1]
#: Packages only the authoring tool needs: a learner's install must never pull or import them (not jinja2: torch requires it).
AUTHORING = ("papermill", "nbformat", "nbclient", "nbconvert", "jupyterlab", "polib", "yaml", "mkdocs",
             "babel", "gpuguide_suite", "playwright")


def test_the_learner_api_is_small_and_every_name_is_documented():
    names = [n for n in gg.__all__ if not inspect.ismodule(getattr(gg, n))]
    assert len(names) <= 33, f"gg.__all__ grew to {len(names)} names; put one technique's helpers in its namespace"
    undocumented = [e.call for g in groups() for e in g.entries if not e.doc]
    assert not undocumented, undocumented
    assert all(inspect.getdoc(getattr(gg, n)) for n in gg.__all__ if inspect.ismodule(getattr(gg, n)))


def test_every_module_of_the_package_declares_its_public_names():
    for path in sorted((ROOT / "gpuguide_utils").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "__all__ = [" in text, f"{path.name} has no __all__"


def test_importing_gg_loads_no_authoring_package():
    code = ("import sys, gpuguide_utils as gg; gg.describe(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {AUTHORING!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", loaded


def test_declared_dependencies_are_what_a_learner_needs():
    learner = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in learner["dependencies"]}
    assert not declared & {a.replace("yaml", "pyyaml") for a in AUTHORING}, declared
    assert {"torch", "transformers"} <= declared
    tool = tomllib.loads((ROOT / "tools" / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "gpuguide-utils" in tool["dependencies"], "the tool depends on the learner's package, never the reverse"
    assert not any("suite" in p.name for p in (ROOT / "gpuguide_utils").iterdir())


def test_colab_installs_the_package_with_its_dependencies():
    for path in sorted((ROOT / "notebooks" / "en").glob("*.ipynb")):
        setup = next(c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["id"] == "setup")
        text = "".join(setup["source"])
        assert "%pip install -q -e /content/gpuguide" in text and "--no-deps" not in text, path.name
        assert "sys.path.insert(0, \"/content/gpuguide\")" in text, "the running kernel imports the clone at once"


@pytest.mark.slow
def test_the_wheel_installs_beside_the_pinned_torch_in_a_clean_environment(tmp_path):
    """As it would from PyPI: python -m build, a fresh venv with the pinned torch, then pip installs the wheel and its
    dependencies."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True,
                   capture_output=True, text=True)
    wheel = next(dist.glob("gpuguide_utils-*.whl"))
    python = environments.with_preinstalled(tmp_path / "venv", "torch==2.13.0")  # the pinned torch, installed first
    torch_pin = next(line for line in (ROOT / "requirements" / "torch.txt").read_text().splitlines()
                     if line.startswith("torch"))
    environments.run([python, "-m", "pip", "install", "-q", "--no-compile", wheel])  # as a learner would
    code = ("import sys, importlib.metadata as md, gpuguide_utils as gg; "
            "print(len(gg.__all__), md.version('torch'), "
            f"sorted(d.metadata['Name'].lower() for d in md.distributions() if d.metadata['Name'].lower() in {AUTHORING!r}))")
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.split(maxsplit=2)
    assert int(out[0]) == len(gg.__all__)
    assert out[1].startswith("2.13.0") and torch_pin.startswith("torch")
    assert out[2].strip() == "[]", f"the learner's install pulled authoring packages: {out[2]}"
