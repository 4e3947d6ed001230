"""Execute every notebook in every language on the cpu profile, through the same runner `make run` uses.

The run itself is the session fixture `suite_run` (tests/conftest.py), which the site tests reuse.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gpuguide_suite.notebooks import LANGUAGES, discover

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build"
NOTEBOOKS = [n.name for n in discover(ROOT)]


@pytest.mark.notebooks
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_cpu(suite_run, name, lang):
    outcome = suite_run[(lang, name)]
    # Only missing hardware may skip a notebook here; a side environment that is not set up is a failure of `make test`.
    allowed = ("ok", "skipped") if outcome["reason"].startswith("needs ") else ("ok",)
    assert outcome["status"] in allowed, f"{lang}/{name}: {outcome['status']}: {outcome['reason']} (cell {outcome['failing_cell']})"
    if outcome["status"] == "ok":
        rows = json.loads(Path(outcome["results"]).read_text())["rows"]
        assert rows and all(r["status"] in ("ok", "skipped", "oom") for r in rows)


@pytest.mark.notebooks
def test_run_prints_the_summary_and_writes_the_report(suite_run):
    assert suite_run["_rc"] == 0
    assert "ok, 0 skipped, 0 failed" in suite_run["_stdout"] or " 0 failed" in suite_run["_stdout"]
    report = (OUT / "report.md").read_text()
    assert "| 00_measuring | ar |" in report and "## Charts" in report
    assert list((OUT / "charts").glob("*.png"))


@pytest.mark.notebooks
def test_bad_parameter_fails_in_the_first_cells_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gpuguide_suite", "run", "--profile", "cpu", "--lang", "en", "--only", "00_",
         "-p", "dtype=float8", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1
    outcome = json.loads((tmp_path / "summary.json").read_text())["outcomes"][0]
    assert outcome["status"] == "failed"
    assert "ParameterError: dtype='float8' is not supported; choose one of" in outcome["reason"]
    nb = nbformat.read(tmp_path / "executed" / "en" / "00_measuring.ipynb", 4)
    cell = nb.cells[outcome["failing_cell"]]
    assert cell.id == outcome["failing_cell_id"] == "check-parameters"
    error = next(o for o in cell.outputs if o.output_type == "error")
    assert len(error.traceback) == 1, "one clear message, no deep traceback"


def _output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(str(output.get("text", "")))
        for key, value in output.get("data", {}).items():
            if key.startswith("text/"):
                parts.append(value if isinstance(value, str) else "".join(value))
        parts += output.get("traceback", [])
    return "\n".join(parts)


@pytest.mark.notebooks
def test_executed_notebooks_show_no_absolute_paths_or_stray_warnings(suite_run):
    bad = ("/tmp/", str(ROOT), "site-packages", "/root/", "Traceback", "USDT:")
    found = []
    for path in sorted((OUT / "executed").rglob("*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            text = _output_text(cell) if cell.cell_type == "code" else ""
            found += [f"{path.relative_to(OUT)} cell {cell.id}: {word!r}" for word in bad if word in text]
    assert not found, found[:10]


@pytest.mark.notebooks
def test_every_solution_ran_and_held(suite_run):
    for notebook in NOTEBOOKS:
        nb = nbformat.read(OUT / "executed" / "en" / f"{notebook}.ipynb", 4)
        runs = [c for c in nb.cells if "solution-run" in c.metadata.get("tags", [])]
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert runs and len(runs) == len(solutions), notebook
        assert all(c.execution_count and not any(o.output_type == "error" for o in c.outputs) for c in runs), notebook


@pytest.mark.notebooks
def test_no_temporary_directory_is_left_behind(suite_run):
    assert not suite_run["_new_temporary_dirs"], suite_run["_new_temporary_dirs"]


@pytest.mark.notebooks
def test_every_claimed_sentence_shows_this_runs_evidence_in_every_language(suite_run):
    claimed = 0
    for path in sorted((OUT / "executed").rglob("*.ipynb")):
        cells = nbformat.read(path, 4).cells
        for i, cell in enumerate(cells):
            if cell.get("metadata", {}).get("gpuguide", {}).get("claims"):
                claimed += 1
                after = cells[i + 1] if i + 1 < len(cells) else None
                assert after is not None and "evidence" in after.metadata.get("tags", []), f"{path.name}: {cell.id}"
                assert any(icon in after.source for icon in ("✅", "⚠️", "ℹ️")), f"{path.name}: {cell.id}"
    assert claimed
    summary = json.loads((OUT / "summary.json").read_text())
    listed = [c for o in summary["outcomes"] for c in o.get("claims", [])]
    assert listed and all(c["status"] in ("holds", "fails", "unmeasured", "elsewhere") for c in listed)
    assert "## Claims" in (OUT / "report.md").read_text()
