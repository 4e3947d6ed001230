"""Run All in a real JupyterLab, as a learner does: setup_check and one technique notebook (06, which has the widget).

Copies of the two English notebooks are served from a temporary folder (the sources are never touched), run with the
Run menu's "Run All Cells", saved with Ctrl+S and read back: no cell may have raised, the explorer widget must render,
a solution's `<details>` must open on click, and the saved file must keep the widget's state so that it displays
after reopening. The longest stretch in which a running cell showed nothing new is printed (not asserted: no test
asserts the speed of the machine it runs on). Skips with the reason where Chromium, Playwright or JupyterLab is missing.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest

from .jupyterlab import serve, unavailable

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("setup_check", "06_combining")
#: How long Run All may take per notebook on a busy 2-core machine before the test gives up (seconds).
RUN_TIMEOUT = 600

pytestmark = pytest.mark.notebooks


def _run_all(page, timeout: float) -> float:
    """Run every cell through the Run menu and wait until none is queued or running; the longest silent stretch."""
    page.wait_for_function("() => !!document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")",
                           timeout=120_000, polling=500)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    started = last_change = time.monotonic()
    longest, seen = 0.0, None
    while time.monotonic() - started < timeout:
        state = page.evaluate("""() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
            return {busy: prompts.some(p => p.includes('*')), outputs: panel.querySelector('.jp-Notebook').innerText.length,
                    idle: !!document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']")};
        }""")
        now = time.monotonic()
        if state["outputs"] != seen:
            seen, last_change = state["outputs"], now
        longest = max(longest, now - last_change)
        if not state["busy"] and state["idle"] and now - started > 2:
            return longest
        time.sleep(1)
    raise TimeoutError(f"Run All did not finish within {timeout} s")


def _save(page, path: Path) -> nbformat.NotebookNode:
    before = path.stat().st_mtime
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime == before and time.monotonic() < deadline:
        time.sleep(0.25)
    return nbformat.read(str(path), as_version=4)


@pytest.mark.slow
def test_run_all_in_jupyterlab_raises_nothing_renders_the_widget_and_keeps_it_after_a_save(trained_preset, chromium,
                                                                                          tmp_path):
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    folder = tmp_path / "en"
    folder.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / "en" / f"{name}.ipynb", folder / f"{name}.ipynb")
    with serve(tmp_path) as lab:
        silences = {}
        for name in NOTEBOOKS:
            path = folder / f"{name}.ipynb"
            page = chromium.context.new_page()
            try:
                lab.open_notebook(page, path)
                silences[name] = _run_all(page, RUN_TIMEOUT)
                if name == "06_combining":
                    widgets = page.locator(".jp-OutputArea-output .widget-box, .jp-OutputArea-output .jupyter-widgets")
                    assert widgets.count() > 0, "the explorer widget did not render"
                    summaries = page.locator(".jp-MarkdownCell details > summary")
                    assert summaries.count() > 0, "no solution in a <details> block"
                    summary = summaries.last  # the budget exercise's solution, or the last one
                    summary.evaluate("s => s.scrollIntoView({block: 'center'})")
                    summary.click()
                    assert summary.evaluate("s => s.parentElement.open"), "a solution did not open on click"
                saved = _save(page, path)
            finally:
                page.close()
            errors = [(c.get("id"), o.get("ename"), o.get("evalue")) for c in saved.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "error"]
            assert errors == [], f"{name}: cells raised in JupyterLab: {errors}"
            assert all(c.get("execution_count") for c in saved.cells if c.cell_type == "code" and c.source.strip()), \
                f"{name}: Run All left cells unexecuted"
            if name == "06_combining":
                state = saved.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
                assert state.get("state"), "the saved notebook keeps no widget state (overrides.json saveState)"
                page = chromium.context.new_page()
                try:
                    lab.open_notebook(page, path)
                    page.wait_for_timeout(2000)
                    text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
                finally:
                    page.close()
                assert "Error displaying widget" not in text, "the reopened notebook cannot display its widget"
    print("longest stretch a running cell showed nothing new: "
          + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in silences.items()))
