"""Stored GPU runs appear under the live table they measured, whatever model either run used (review N12)."""

import shutil
from pathlib import Path

import pytest

from gpuguide_utils.profiles import SIZES
from gpuguide_utils.stored import StoredResults, model_parameters, stored_group

FIXTURE = Path(__file__).parent / "data" / "stored"
NOTEBOOK = "01_flash_attention_2"


@pytest.fixture
def h100_only(tmp_path: Path) -> Path:
    """A results folder holding only the gpu-small H100 run (profile defaults, no model ids recorded)."""
    shutil.copytree(FIXTURE / "nvidia-h100-80gb-hbm3", tmp_path / "nvidia-h100-80gb-hbm3")
    return tmp_path


def test_the_stored_group_names_the_stored_runs_model_for_the_same_parameter():
    live = {"model_id": "tiny-llama", "second_model_id": "tiny-falcon"}
    stored = {"model_id": "tinyllama-1.1b", "second_model_id": "opt-350m"}
    assert stored_group("forward, tiny-llama", live, stored) == "forward, tinyllama-1.1b"
    assert stored_group("forward, tiny-falcon", live, stored) == "forward, opt-350m"
    assert stored_group("memory vs sequence", live, stored) == "memory vs sequence"
    assert model_parameters(SIZES[NOTEBOOK]["cpu"]) == {"model_id": "tiny-llama", "second_model_id": "tiny-falcon",
                                                        "quality_model_id": "trained-llama"}


def test_a_cpu_run_sees_the_stored_gpu_table_of_its_first_model(h100_only):
    cpu_models = model_parameters(SIZES[NOTEBOOK]["cpu"])
    shown = StoredResults(NOTEBOOK, root=h100_only, models=cpu_models).show("forward, tiny-llama").to_markdown()
    assert "stored GPU run: NVIDIA H100 80GB HBM3, profile gpu-small" in shown
    assert "On a GPU: forward, tinyllama-1.1b" in shown and "2.00x" in shown and "opt-350m" not in shown
    second = StoredResults(NOTEBOOK, root=h100_only, models=cpu_models).show("forward, tiny-falcon").to_markdown()
    assert "On a GPU: forward, opt-350m" in second


@pytest.mark.parametrize("live_model", ["tiny-llama", "llama-2-7b", "/data/checkpoints/my-llama", "org/some-hub-id"])
def test_whatever_model_the_live_run_used(h100_only, live_model):
    models = {"model_id": live_model, "second_model_id": "tiny-falcon"}
    shown = StoredResults(NOTEBOOK, root=h100_only, models=models).show(f"forward, {live_model}").to_markdown()
    assert "On a GPU: forward, tinyllama-1.1b" in shown


def test_whatever_model_the_stored_run_used_as_its_results_record_it(tmp_path):
    shutil.copytree(FIXTURE / "nvidia-a100-sxm4-80gb", tmp_path / "nvidia-a100-sxm4-80gb")
    models = model_parameters(SIZES[NOTEBOOK]["cpu"])
    shown = StoredResults(NOTEBOOK, root=tmp_path, models=models).show("forward, tiny-llama").to_markdown()
    assert "On a GPU: forward, opt-350m" in shown and "3.00x" in shown  # meta.model_ids, not gpu-full's llama-2-7b


def test_the_newest_stored_run_wins_and_groups_without_models_match_exactly():
    models = model_parameters(SIZES[NOTEBOOK]["cpu"])
    stored = StoredResults(NOTEBOOK, root=FIXTURE, models=models)
    assert "NVIDIA H100 80GB HBM3" in stored.show("forward, tiny-llama").to_markdown()  # 2026-12-01 before 2026-11-01
    assert "On a GPU: memory vs sequence" in stored.show("memory vs sequence", metric="memory_increase_bytes",
                                                         extra=()).to_markdown()
    assert "No stored GPU run" in StoredResults(NOTEBOOK, root=FIXTURE).show("forward, tiny-llama").to_markdown()


def test_every_published_figure_serves_a_table_some_notebook_shows():
    """docs/results/published.json: each entry's groups match a stored.show(...) call (a trailing ", " is a prefix)."""
    import json
    import re

    root = Path(__file__).resolve().parents[1]
    shown: set[tuple[str, str]] = set()
    for path in sorted((root / "notebooks" / "en").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for group in re.findall(r'stored\.show\(f?"([^"{]*)', "".join(cell["source"])):
                shown.add((path.stem, group))
    for entry in json.loads((root / "docs" / "results" / "published.json").read_text(encoding="utf-8")):
        for group in entry["groups"]:
            assert any(nb == entry["notebook"] and (g == group or (group.endswith(", ") and g.startswith(group)))
                       for nb, g in shown), f"{entry['notebook']} / {group!r} serves no table"
