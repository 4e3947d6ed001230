"""The runner's bookkeeping: execute once and render four, plans, GPU-run storage, the Colab pins."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from gpuguide_utils.profiles import PROFILES, SIZES
from gpuguide_suite.notebooks import Notebook, discover, dumps
from gpuguide_suite.runner import expected_minutes, parallel_jobs, plan, remove_leftovers, render_translation
from gpuguide_suite.store import slug, store

ROOT = Path(__file__).resolve().parents[1]


def test_execute_once_plans_one_run_per_notebook_and_renders_the_rest(tmp_path):
    notebooks = discover(ROOT, "00_")
    jobs = plan(notebooks, ["en", "ar", "ja", "zh"], PROFILES["gpu-small"], tmp_path, {}, None, "once")
    assert [(j.lang, j.render_from) for j in jobs] == [("en", None), ("ar", "en"), ("ja", "en"), ("zh", "en")]
    assert all(j.parameters == {"profile": "gpu-small"} for j in jobs)
    everything = plan(notebooks, ["en", "ja"], PROFILES["cpu"], tmp_path, {"batch_size": 2}, None, "all")
    assert [j.render_from for j in everything] == [None, None] and everything[0].parameters["batch_size"] == 2
    with pytest.raises(ValueError, match="--execute 'twice' is not valid; choose one of: once, all"):
        plan(notebooks, ["en"], PROFILES["cpu"], tmp_path, {}, None, "twice")


def test_jobs_fill_the_cpu_one_notebook_per_share_of_cores_and_one_at_a_time_on_a_gpu():
    assert parallel_jobs("auto", on_gpu=False, cpu_count=2) == 2
    assert parallel_jobs("auto", on_gpu=False, cpu_count=16) == 2  # 8 threads each
    assert parallel_jobs("auto", on_gpu=False, cpu_count=1) == 1
    assert parallel_jobs("3", on_gpu=False) == 3
    assert parallel_jobs("auto", on_gpu=True) == parallel_jobs("4", on_gpu=True) == 1
    with pytest.raises(ValueError, match="--jobs 'two' is not valid; choose auto or a whole number of at least 1"):
        parallel_jobs("two", on_gpu=False)


def test_the_longest_notebooks_are_started_first_and_reported_in_order(tmp_path, monkeypatch):
    from gpuguide_suite import runner

    jobs = plan(discover(ROOT), ["en"], PROFILES["cpu"], tmp_path, {}, None, "once")
    started = []

    def pretend(job, env):
        started.append(job.notebook.name)
        return runner.Outcome(job.notebook.name, job.lang, "skipped", reason="not run in this test")

    monkeypatch.setattr(runner, "run_job", pretend)
    monkeypatch.setattr(runner, "_prebuild_presets", lambda jobs: None)
    monkeypatch.setattr(runner, "_measure_bandwidth_once", lambda job: None)
    outcomes = runner.run_all(jobs, 1, env=object())
    minutes = {j.notebook.name: expected_minutes(j) for j in jobs}
    assert max(minutes.values()) > min(minutes.values()) > 0  # every notebook says how long it takes
    assert [minutes[name] for name in started] == sorted(minutes.values(), reverse=True)
    assert [o.notebook for o in outcomes] == [j.notebook.name for j in jobs]


def test_a_killed_runs_temporary_copies_are_removed_and_nothing_else(tmp_path):
    job = plan(discover(ROOT, "01_"), ["en"], PROFILES["cpu"], tmp_path, {}, None, "once")[0]
    folder = job.executed.parent
    folder.mkdir(parents=True)
    names = ["01_flash_attention_2.ipynb", ".01_flash_attention_2.7hr67pyo.ipynb",
             ".01_flash_attention_2.in.j17a3pmk.ipynb", ".05_optimum_onnxruntime.dv5a36o8.ipynb"]
    for name in names:
        (folder / name).write_text("{}")
    remove_leftovers(job)
    assert sorted(p.name for p in folder.iterdir()) == sorted([names[0], names[3]])  # another job's are its own


def test_a_rendered_language_has_the_english_outputs_under_its_own_prose(tmp_path):
    notebook = Notebook("00_measuring", ROOT)
    executed = notebook.read("en")
    code = next(c for c in executed.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="measured 1.23 ms")]
    source = tmp_path / "en.ipynb"
    source.write_text(dumps(executed), encoding="utf-8")
    render_translation(source, notebook.path("ja"), tmp_path / "ja.ipynb")
    rendered = nbformat.read(tmp_path / "ja.ipynb", 4)
    japanese = notebook.read("ja")
    assert [c.source for c in rendered.cells if c.cell_type == "markdown"] == \
        [c.source for c in japanese.cells if c.cell_type == "markdown"]
    assert any(o.get("text") == "measured 1.23 ms" for c in rendered.cells for o in c.get("outputs", []))
    assert rendered.metadata["gpuguide"]["lang"] == "ja" and rendered.metadata["gpuguide"]["outputs_from"]


def test_every_notebook_has_sizes_for_every_profile_and_parameters_for_them():
    names = {n.name for n in discover(ROOT)}
    assert names == set(SIZES)
    for name, by_profile in SIZES.items():
        assert set(by_profile) == set(PROFILES)
        assert len({frozenset(p) for p in by_profile.values()}) == 1, f"{name}: profiles set different parameters"


def test_a_gpu_run_is_stored_with_its_command_and_a_cpu_run_is_refused(tmp_path):
    out = tmp_path / "build"
    (out / "results" / "en").mkdir(parents=True)
    (out / "results" / "en" / "00_measuring.json").write_text(json.dumps({"rows": []}))
    env = {"device_type": "cuda", "device_name": "NVIDIA H100 80GB HBM3", "label": "NVIDIA H100 80GB HBM3",
           "versions": {"torch": "2.11.0"}, "compute_capability": [9, 0]}
    outcome = {"notebook": "00_measuring", "lang": "en", "status": "ok", "results": str(out / "results/en/00_measuring.json")}
    (out / "summary.json").write_text(json.dumps({"profile": "gpu-small", "environment": env, "commit": "abc",
                                                  "outcomes": [outcome]}))
    target = store(out, "make gpu-run PART=1", tmp_path / "results")
    assert target.name == slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3"
    info = json.loads((target / "run.json").read_text())
    assert info["command"] == "make gpu-run PART=1" and (target / "results" / "en" / "00_measuring.json").exists()
    store(out, "make gpu-run PART=2", tmp_path / "results")
    info = json.loads((target / "run.json").read_text())
    assert info["command"] == "make gpu-run PART=1 && make gpu-run PART=2" and len(info["runs"]) == 2
    env["device_type"] = "cpu"
    (out / "summary.json").write_text(json.dumps({"profile": "cpu", "environment": env, "outcomes": []}))
    with pytest.raises(ValueError, match="only GPU runs are stored"):
        store(out, "make run", tmp_path / "results")


def test_stored_results_show_a_stored_run_else_a_cited_figure(tmp_path):
    from gpuguide_utils.stored import StoredResults

    (tmp_path / "published.json").write_text(json.dumps([{"notebook": "01_x", "groups": ["forward, "],
                                                          "text": "2x faster", "source": "a paper", "url": "https://x"}]))
    assert "2x faster — a paper" in StoredResults("01_x", root=tmp_path).show("forward, tiny-llama").to_markdown()
    run = tmp_path / "nvidia-a100"
    (run / "results" / "en").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"device": "NVIDIA A100", "date": "2026-12-01", "command": "make gpu-run",
                                              "commit": "abcdef1234567", "profile": "gpu-full"}))
    rows = [{"group": "forward, tiny-llama", "variant": v, "baseline": "eager", "status": "ok", "reason": "",
             "params": {"seq_len": 4096}, "metrics": {"latency_s": t}} for v, t in [("eager", 0.02), ("sdpa", 0.01)]]
    (run / "results" / "en" / "01_x.json").write_text(json.dumps({"rows": rows}))
    shown = StoredResults("01_x", root=tmp_path).show("forward, tiny-llama").to_markdown()
    assert "stored GPU run: NVIDIA A100" in shown and "2.00x" in shown and "`make gpu-run`" in shown
    assert StoredResults("01_x", enabled=False, root=tmp_path).show("forward, tiny-llama") is None


def test_colab_pins_are_the_main_environments_pins():
    def pins(path):
        return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M))

    main = {**pins(ROOT / "requirements" / "main.txt"), **pins(ROOT / "requirements" / "common.txt")}
    colab = pins(ROOT / "requirements" / "colab.txt")
    assert colab and all(main[name] == version for name, version in colab.items()), colab
    assert not {"jupyterlab", "ipykernel", "papermill", "torch"} & set(colab), "Colab keeps its own server and torch"
    for name in ("bettertransformer", "ort"):
        side = {**pins(ROOT / "environments" / name / "requirements.txt"), **pins(ROOT / "requirements" / "common.txt")}
        for package, version in pins(ROOT / "environments" / name / "colab.txt").items():
            assert side[package] == version, (name, package)


def test_only_takes_several_patterns_and_the_set_up_check_comes_first():
    names = [n.name for n in discover(ROOT)]
    assert names[0] == "setup_check" and names[1] == "00_measuring"
    assert [n.name for n in discover(ROOT, "00_*,06_*")] == ["00_measuring", "06_combining"]
