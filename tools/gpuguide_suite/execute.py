"""Execute one notebook with papermill and write its status: run by the runner in a child process.

A child per notebook gives a hard per-notebook timeout (the whole process group is killed), parallel jobs,
and isolation: one notebook's crash or leaked memory never touches the next.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .notebooks import dumps, read_notebook, write_atomic
from .lessons import with_solutions_to_run


def executed_problems(output: Path, results_path: Path) -> str | None:
    """Why a notebook that raised nothing still did not really run, or None when it did."""
    nb = read_notebook(output)
    code = [c for c in nb.cells if c.cell_type == "code"]
    skipped = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is None]
    if not code:
        return "has no code cells"
    if skipped:
        return f"passed without executing {len(skipped)} of {len(code)} code cells (first: cell {skipped[0]})"
    if not results_path.exists():
        return f"passed but wrote no results file ({results_path})"
    rows = json.loads(results_path.read_text(encoding="utf-8")).get("rows", [])
    if not rows:
        return "passed but recorded no measured rows"
    return None


def _failing_cell(output: Path) -> dict[str, Any]:
    """Index and id of the cell holding the error in the saved notebook (papermill adds a banner cell on top)."""
    for index, cell in enumerate(read_notebook(output).cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return {"failing_cell": index, "failing_cell_id": cell.get("id")}
    return {}


def execute(input_path: Path, output_path: Path, parameters: dict[str, Any], results_path: Path, timeout_s: int,
            kernel: str = "python3", cwd: Path | None = None) -> dict:
    """Run the notebook; return {status, reason, failing_cell, seconds}. Output is written atomically.

    Every exercise solution in the notebook is executed too (as a `solution-run` cell right after it), so a
    solution that stops working fails the run. The kernel runs in `cwd` (default: the output's top folder), and
    results_path is given relative to it, so no absolute path appears in the executed notebook.
    """
    import papermill

    output_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.unlink(missing_ok=True)
    cwd = (cwd or output_path.parent).resolve()
    results_arg = os.path.relpath(results_path.resolve(), cwd)
    fd, tmp = tempfile.mkstemp(prefix=f".{output_path.stem}.", suffix=".ipynb", dir=output_path.parent)
    os.close(fd)
    fd, prepared = tempfile.mkstemp(prefix=f".{output_path.stem}.in.", suffix=".ipynb", dir=output_path.parent)
    os.close(fd)
    Path(prepared).write_text(dumps(with_solutions_to_run(read_notebook(input_path))), encoding="utf-8")
    started = time.perf_counter()
    status: dict[str, Any] = {"status": "ok", "reason": "", "failing_cell": None}
    try:
        papermill.execute_notebook(
            prepared, tmp, parameters={**parameters, "results_path": results_arg},
            kernel_name=kernel, cwd=str(cwd), execution_timeout=timeout_s,
            progress_bar=False, log_output=False, report_mode=False,
        )
    except papermill.PapermillExecutionError as error:
        status = {"status": "failed", "reason": f"{error.ename}: {error.evalue}".strip()[:500],
                  "failing_cell": error.cell_index, "exec_count": error.exec_count}
    except Exception as error:  # kernel died, timeout, bad parameters to papermill itself
        status = {"status": "failed", "reason": f"{type(error).__name__}: {error}"[:500], "failing_cell": None}
    Path(prepared).unlink(missing_ok=True)
    if os.path.exists(tmp) and os.path.getsize(tmp) > 0:
        os.replace(tmp, output_path)
        if status["status"] == "failed":
            status.update(_failing_cell(output_path))
    else:
        Path(tmp).unlink(missing_ok=True)
    if status["status"] == "ok":
        problem = executed_problems(output_path, results_path)
        if problem:
            status = {"status": "failed", "reason": problem, "failing_cell": None}
    status["seconds"] = round(time.perf_counter() - started, 2)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--parameters", default="{}", help="JSON object of papermill parameters")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel (gpuguide-<env> for side environments)")
    parser.add_argument("--cwd", type=Path, default=None, help="the kernel's working directory")
    args = parser.parse_args(argv)
    status = execute(args.input, args.output, json.loads(args.parameters), args.results, args.timeout, args.kernel,
                     args.cwd)
    write_atomic(args.status, json.dumps(status, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
