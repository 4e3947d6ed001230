"""Colab, imitated: a clean environment with a Colab-like preinstalled stack, a stand-in `google.colab` module, and the
repository's URL pointed at this checkout. The main-environment notebooks share one set-up cell: it runs once as
written (git clone, %pip install of requirements/colab.txt and of the package, normally, with its dependencies), then
each notebook's first cells run in a fresh kernel of that environment, as they would after the set-up cell in Colab.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests import environments

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/gpuguide/gpuguide"
FIRST_CELLS = 4  # set-up, parameters, their check, and the first cell that uses them


def _main_environment_notebooks() -> list[Path]:
    return [p for p in sorted((ROOT / "notebooks" / "en").glob("*.ipynb"))
            if json.loads(p.read_text(encoding="utf-8"))["metadata"]["gpuguide"].get("environment", "main") == "main"]


def _first_cells(notebook: Path) -> list[nbformat.NotebookNode]:
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"][:FIRST_CELLS]
    assert [c.id for c in cells[:3]] == ["setup", "parameters", "check-parameters"], notebook.name
    return cells


def _execute(cells: list[nbformat.NotebookNode], env: dict[str, str], where: Path, monkeypatch) -> None:
    """Run cells in a fresh kernel of the Colab-like environment; fail on the first error output."""
    nb = nbformat.v4.new_notebook(cells=cells)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    NotebookClient(nb, kernel_name="colab-like", timeout=900, resources={"metadata": {"path": str(where)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[0].get("evalue")


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> dict:
    """The imitation: a venv with torch and tests/colab-stack.txt, a kernel in it, google.colab, git's URL rewrite."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout: the set-up cell clones the repository")
    base = tmp_path_factory.mktemp("colab")
    python = environments.with_preinstalled(base / "venv", "torch==2.13.0", "-r", ROOT / "tests" / "colab-stack.txt")
    stand_in = base / "stand-in" / "google" / "colab"
    stand_in.mkdir(parents=True)
    (stand_in.parent / "__init__.py").write_text("")
    (stand_in / "__init__.py").write_text('"""Stand-in for Colab\'s module: its presence is what the notebooks test."""\n')
    # Colab's kernel has google.colab imported before the first cell runs
    (base / "stand-in" / "sitecustomize.py").write_text("import google.colab  # noqa: F401\n")
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(base / "kernel"), "--name", "colab-like"],
                   check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(base / "stand-in"), JUPYTER_PATH=str(base / "kernel" / "share" / "jupyter"),
               GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0=f"url.{ROOT.as_uri()}.insteadOf", GIT_CONFIG_VALUE_0=REPOSITORY,
               HF_HUB_OFFLINE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return dict(base=base, python=python, env=env)


@pytest.fixture(scope="module")
def set_up(colab, tmp_path_factory) -> Path:
    """The shared set-up cell, run once as written in the Colab-like kernel; returns its /content (here a temp folder)."""
    work = tmp_path_factory.mktemp("colab-session")
    content = work / "content"  # Colab's /content; the cell is otherwise as written
    cell = _first_cells(_main_environment_notebooks()[0])[0]
    cell.source = cell.source.replace("/content", str(content))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _execute([cell], colab["env"], work, monkeypatch)
    return content


def test_every_main_environment_notebook_has_the_same_set_up_cell():
    sources = {p.name: _first_cells(p)[0].source for p in _main_environment_notebooks()}
    assert len(set(sources.values())) == 1, "the set-up cell differs between notebooks; test each one that differs"


@pytest.mark.slow
def test_the_set_up_cell_installs_the_pins_and_the_clone(colab, set_up):
    installed = subprocess.run([str(colab["python"]), "-c", "import transformers, gpuguide_utils; "
                                "print(transformers.__version__, gpuguide_utils.__file__)"],
                               capture_output=True, text=True, env=colab["env"], check=True, cwd=set_up.parent
                               ).stdout.split()
    pins = (ROOT / "requirements" / "colab.txt").read_text()
    assert f"transformers=={installed[0]}" in pins, "the set-up cell brings the pinned transformers"
    assert installed[1].startswith(str(set_up)), "the package is the clone's, installed by the set-up cell"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", _main_environment_notebooks(), ids=lambda p: p.stem)
def test_the_first_cells_run_after_the_set_up_cell(colab, set_up, trained_preset, notebook, tmp_path, monkeypatch):
    # trained_preset: most parameter checks resolve the quality model; built once per session, after the installs above
    _execute(_first_cells(notebook)[1:], colab["env"], tmp_path, monkeypatch)
