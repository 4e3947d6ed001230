"""The GPU recipe (scripts/gpu/): its dry run on the CPU goes through the same script, steps and export folder as a
call on the GPU machine, so the packaging is proven here; and what it carries is checked against the pins."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "scripts" / "gpu" / "run.py"


def _call(tmp_path: Path, part: int, *args: str, cache: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """One call of the recipe on the cpu profile, with its own export folder and model cache (a fresh machine)."""
    export = tmp_path / f"export{part}"
    env = dict(os.environ, GPUGUIDE_CACHE=str(cache))
    done = subprocess.run([sys.executable, str(RECIPE), str(part), str(export), "--profile", "cpu",
                           "--work", str(tmp_path / "work"), "--wheels", str(tmp_path / "no-wheels"), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    print(done.stdout[-3000:], done.stderr[-2000:])
    return done, export


def _names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(name).read()


@pytest.mark.slow
def test_dry_run_leaves_one_archive_carries_the_preset_and_archives_a_failed_call_too(tmp_path):
    # call 1: the set-up check, with tiny-llama standing in for the trained preset (built in the background, carried;
    # the set-up check's own quality model too, so that the dry run does not spend two minutes training it)
    first, export1 = _call(tmp_path, 1, "--only", "setup_check", "--carry", "tiny-llama", "--commit", "0123abc",
                           "-p", "quality_model_id=tiny-llama", cache=tmp_path / "cache1")
    assert first.returncode == 0, first.stdout[-2000:]
    assert sorted(p.name for p in export1.iterdir()) == ["gpuguide-part1.tar.gz", "gpuguide-part1.txt"]
    archive1 = export1 / "gpuguide-part1.tar.gz"
    names = _names(archive1)
    for expected in ("part1/executed/en/setup_check.ipynb", "part1/results/en/setup_check.json", "part1/run.log",
                     "part1/versions.txt", "part1/timeline.json", "part1/summary.json",
                     "results/cpu-dry-run/run.json", "results/cpu-dry-run/results/en/setup_check.json"):
        assert expected in names, expected
    assert any(re.match(r"part1/carry/models/tiny-llama-\w+/model\.safetensors$", n) for n in names), names
    run_json = json.loads(_member(archive1, "results/cpu-dry-run/run.json"))
    assert run_json["commit"] == "0123abc" and run_json["runs"][0]["notebooks"] == {"setup_check": "ok"}
    assert "setup_check: ok" in (export1 / "gpuguide-part1.txt").read_text()
    assert os.path.getsize(archive1) < 16 * 2**20  # what one returned file may weigh

    # call 2, on a "fresh machine" (empty cache), from call 1's archive; its notebook fails on purpose
    second, export2 = _call(tmp_path, 2, "--only", "setup_check", "--previous", str(archive1), "--carry", "tiny-llama",
                            "-p", "model_id=no-such-model", "-p", "quality_model_id=tiny-llama",
                            cache=tmp_path / "cache2")
    assert second.returncode == 1
    assert list((tmp_path / "cache2" / "models").glob("tiny-llama-*/model.safetensors")), "the preset was carried"
    archive2 = export2 / "gpuguide-part2.tar.gz"
    names = _names(archive2)
    assert "part2/executed/en/setup_check.ipynb" in names and "part2/run.log" in names
    merged = json.loads(_member(archive2, "results/cpu-dry-run/run.json"))
    assert [list(r["notebooks"].values()) for r in merged["runs"]] == [["ok"], ["failed"]]
    assert "setup_check: failed" in (export2 / "gpuguide-part2.txt").read_text()


def test_a_notebook_that_no_longer_fits_the_budget_is_not_started_and_the_archive_is_still_written(tmp_path):
    done, export = _call(tmp_path, 2, "--only", "setup_check", "--budget", "30", cache=tmp_path / "cache")
    assert done.returncode == 1
    summary = (export / "gpuguide-part2.txt").read_text()
    assert "setup_check: not started" in summary and "gpuguide-part2.tar.gz" in summary
    assert "part2/run.log" in _names(export / "gpuguide-part2.tar.gz")


def _pins(text: str) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version
            for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_the_carried_wheels_are_the_pinned_versions():
    carried = _pins((ROOT / "scripts" / "gpu" / "wheels.txt").read_text())
    pinned = {}
    for path in (ROOT / "requirements").glob("*.txt"):
        pinned.update(_pins(path.read_text()))
    shared = sorted(set(carried) & set(pinned))
    assert {"transformers", "peft", "bitsandbytes", "accelerate", "pandas", "matplotlib", "papermill"} <= set(carried)
    assert [name for name in shared if carried[name] != pinned[name]] == []


def test_the_slimmed_babel_keeps_every_suite_language():
    from gpuguide_suite.languages import LANGUAGES, LOCALES

    script = (ROOT / "scripts" / "gpu" / "wheelhouse.sh").read_text()
    keep = re.search(r"slim 'babel-\*\.whl' .*--keep '([^']+)'", script).group(1)
    for code in [*LANGUAGES, *LOCALES.values(), "root"]:
        assert re.search(keep, f"babel/locale-data/{code}.dat"), code


#: Imported only where installed (each importer carries on without them), so not carried: jsonschema's format
#: checkers, ipykernel's debugger, IPython's completer, requests' and tqdm's optional extras.
OPTIONAL = {"arrow", "fqdn", "isoduration", "jsonpointer", "lark", "rfc3339-validator", "rfc3986-validator",
            "rfc3987-syntax", "uri-template", "webcolors", "debugpy", "jedi", "parso", "colorama", "truststore"}
#: This machine's huggingface_hub 2.x talks HTTP through these; the carried hub 1.33 uses the image's httpx.
HERE_ONLY = {"httpx2", "httpcore2"}


#: The modules the GPU run imports, directly or in the notebooks' kernels.
RECIPE_MODULES = ["gpuguide_suite.__main__", "gpuguide_suite.runner", "gpuguide_suite.execute", "gpuguide_suite.store",
                  "gpuguide_suite.report", "gpuguide_utils", "papermill", "ipykernel.kernelapp",
                  "matplotlib_inline.backend_inline", "peft", "accelerate", "bitsandbytes", "ipywidgets"]
#: Imports each module in turn in one fresh Python and prints, per module, the distributions it added.
_NEW_DISTRIBUTIONS = """
import importlib, importlib.metadata as md, json, sys
dists, seen, added = md.packages_distributions(), set(sys.modules), {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    new = set(sys.modules) - seen
    seen |= new
    added[name] = sorted({d for m in new for d in dists.get(m.split(".")[0], [])})
print(json.dumps(added))
"""


def test_what_the_recipe_imports_is_carried_or_preinstalled():
    """Every distribution a module of the run imports is in wheels.txt or on the image (torch, transformers 5.17 and
    their dependencies, scripts/gpu/preinstalled.txt). One Python imports them all: a fresh one per module cost
    about 12 s each here."""
    added = json.loads(subprocess.run([sys.executable, "-c", _NEW_DISTRIBUTIONS, *RECIPE_MODULES], cwd=ROOT,
                                      capture_output=True, text=True, check=True).stdout)
    allowed = set(_pins((ROOT / "scripts" / "gpu" / "wheels.txt").read_text()))
    allowed |= {line.split("#")[0].strip().lower().replace("_", "-")
                for line in (ROOT / "scripts" / "gpu" / "preinstalled.txt").read_text().splitlines()}
    allowed |= {"gpuguide-utils", "gpuguide-suite"} | OPTIONAL | HERE_ONLY
    missing = {module: sorted({d.lower().replace("_", "-") for d in used} - allowed) for module, used in added.items()}
    missing = {module: names for module, names in missing.items() if names}
    assert missing == {}, f"first imported by these modules: {missing}: add them to scripts/gpu/wheels.txt (or " \
                          "import them lazily)"


def test_the_slimmed_transformers_keeps_every_preset_family():
    from gpuguide_utils.models import PRESETS

    script = (ROOT / "scripts" / "gpu" / "wheelhouse.sh").read_text()
    keep = re.search(r"slim 'transformers-\*\.whl' .*?--keep '([^']+)'", script, re.S).group(1)
    for family in {preset.family for preset in PRESETS.values()} | {"auto", "gpt2", "encoder_decoder"}:
        assert re.search(keep, f"transformers/models/{family}/__init__.py"), family
