"""The workshop layer of a notebook: lesson header and key points from metadata, exercises and their solutions,
instructor notes, learner copies and slide types.

Conventions (cell tags):
- `exercise`: a markdown cell stating an exercise; the code cell after it is the learner's to fill in.
- `solution`: a markdown cell `<details><summary>…</summary> … </details>` holding a fenced ```python block that
  solves the exercise and ends with its self-check. The runner executes that code (as a `solution-run` cell right
  after it), so a solution that stops working fails CI.
- `prediction`: a markdown cell asking the learner to predict what the next measurement shows; the code cell after it
  holds `my_prediction = None`, and a code cell after the measurement checks it (gg.exercises.check_prediction), so
  the measurement, not the text above, answers it. Every technique notebook (01-06) has one.
- `instructor`: a markdown note for the teacher; left out of learner copies, the learner site and the slides
  (it becomes speaker notes there).
The cells with ids `lesson` and `key-points` are generated from metadata.gpuguide.lesson by `suite build`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import nbformat

from .notebooks import mark_generated, marked, unmarked

LESSON_CELL = "lesson"
KEY_POINTS_CELL = "key-points"
LESSON_FIELDS = ("difficulty", "teaching_minutes", "exercise_minutes", "objectives", "prerequisites", "sections",
                 "key_points")
DIFFICULTIES = ("introductory", "intermediate", "advanced")
LEARNER_DROPS = ("solution", "instructor")
_PYTHON_FENCE = re.compile(r"```python\n(.*?)```", re.S)


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def lesson_problems(meta: dict[str, Any]) -> list[str]:
    """What is missing or malformed in metadata.gpuguide.lesson (empty when it is complete)."""
    lesson = meta.get("lesson")
    if not isinstance(lesson, dict):
        return ["metadata.gpuguide.lesson is missing"]
    problems = [f"metadata.gpuguide.lesson.{key} is missing" for key in LESSON_FIELDS if key not in lesson]
    if lesson.get("difficulty") not in DIFFICULTIES:
        problems.append(f"metadata.gpuguide.lesson.difficulty must be one of {', '.join(DIFFICULTIES)}")
    for key in ("objectives", "prerequisites", "key_points"):
        if key in lesson and (not isinstance(lesson[key], list) or not lesson[key]):
            problems.append(f"metadata.gpuguide.lesson.{key} must be a non-empty list")
    sections = lesson.get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, list) and len(s) == 2 for s in sections):
        problems.append("metadata.gpuguide.lesson.sections must be a list of [section, what it needs] pairs")
    return problems


#: Says in the English source that these two cells are generated, and from what.
LESSON_SOURCE = "metadata.gpuguide.lesson (Edit → Notebook metadata in JupyterLab)"


def render_lesson(lesson: dict[str, Any]) -> str:
    """The lesson header cell (English): difficulty, minutes, objectives, prerequisites, hardware per section."""
    return marked(_lesson_text(lesson), LESSON_SOURCE)


def _lesson_text(lesson: dict[str, Any]) -> str:
    lines = [
        f"**Lesson at a glance:** {lesson['difficulty']} · {lesson['teaching_minutes']} min teaching · "
        f"{lesson['exercise_minutes']} min exercises",
        "",
        "**Objectives.** After this notebook you can:",
        "",
        *[f"- {item}" for item in lesson["objectives"]],
        "",
        "**Prerequisites.**",
        "",
        *[f"- {item}" for item in lesson["prerequisites"]],
        "",
        "| section | runs on |",
        "|---|---|",
        *[f"| {section} | {needs} |" for section, needs in lesson["sections"]],
    ]
    return "\n".join(lines)


def render_key_points(lesson: dict[str, Any]) -> str:
    """The closing key-points cell (English)."""
    return marked("\n".join(["## Key points", "", *[f"- {item}" for item in lesson["key_points"]]]), LESSON_SOURCE)


def generated_cells(meta: dict[str, Any]) -> dict[str, str]:
    """cell id -> the source `suite build` writes into the English notebook."""
    lesson = meta.get("lesson")
    if not isinstance(lesson, dict) or lesson_problems(meta):
        return {}
    return {LESSON_CELL: render_lesson(lesson), KEY_POINTS_CELL: render_key_points(lesson)}


def with_generated_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with its lesson and key-points cells rendered from metadata (cells must exist, by id)."""
    out = copy.deepcopy(nb)
    wanted = generated_cells(out.metadata.get("gpuguide", {}))
    for cell in out.cells:
        if cell.get("id") in wanted:
            cell.source = wanted[cell.id]
    return out


def solution_code(cell: nbformat.NotebookNode) -> str:
    """The python code of a solution cell (every ```python block in it, joined)."""
    return "\n".join(block.rstrip() for block in _PYTHON_FENCE.findall(cell.source)).strip()


def prediction_problems(nb: nbformat.NotebookNode) -> list[str]:
    """A technique notebook's predictions: at least one, each with its answer cell next and a check further down."""
    cells = nb.cells
    found = [i for i, c in enumerate(cells) if "prediction" in tags(c)]
    if not found:
        return ["no prediction (a markdown cell tagged 'prediction' before a measurement, then my_prediction = None)"]
    problems = []
    for i in found:
        answer = cells[i + 1] if i + 1 < len(cells) else None
        if answer is None or answer.cell_type != "code" or "my_prediction = None" not in answer.source:
            problems.append(f"prediction {cells[i].get('id')}: the next cell must hold my_prediction = None")
        elif not any("check_prediction(my_prediction" in c.source for c in cells[i + 3:] if c.cell_type == "code"):
            problems.append(f"prediction {cells[i].get('id')}: no gg.exercises.check_prediction(my_prediction, ...) "
                            "after the measurement that answers it")
    return problems


def exercise_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Exercise structure: each exercise has a solution after it, and each solution has code inside <details>."""
    problems = []
    open_exercise = None
    for cell in nb.cells:
        cell_tags = tags(cell)
        if "exercise" in cell_tags:
            if open_exercise:
                problems.append(f"exercise {open_exercise} has no solution cell before the next exercise")
            open_exercise = cell.get("id")
        if "solution" in cell_tags:
            if cell.cell_type != "markdown" or "<details>" not in cell.source or "</details>" not in cell.source:
                problems.append(f"solution {cell.get('id')} must be a markdown cell with a <details> block")
            if not solution_code(cell):
                problems.append(f"solution {cell.get('id')} has no ```python block to run")
            if open_exercise is None:
                problems.append(f"solution {cell.get('id')} follows no exercise")
            open_exercise = None
    if open_exercise:
        problems.append(f"exercise {open_exercise} has no solution cell")
    return problems


def with_solutions_to_run(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with a `solution-run` code cell after every solution cell, holding that solution's code."""
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        cells.append(cell)
        if "solution" in tags(cell) and solution_code(cell):
            run = nbformat.v4.new_code_cell(solution_code(cell), id=f"{cell.get('id')}-run")
            run.metadata["tags"] = ["solution-run"]
            cells.append(run)
    out.cells = cells
    return out


def learner_copy(nb: nbformat.NotebookNode, sources: str) -> nbformat.NotebookNode:
    """A copy without solutions and instructor notes (nbconvert's TagRemovePreprocessor): what learners open."""
    from nbconvert.preprocessors import TagRemovePreprocessor

    remove = TagRemovePreprocessor(enabled=True, remove_cell_tags=set(LEARNER_DROPS) | {"solution-run"})
    out, _ = remove.preprocess(copy.deepcopy(nb), {})
    meta = out.metadata.setdefault("gpuguide", {})
    meta["copy"] = "learner"
    return mark_generated(out, f"{sources} (solutions and instructor notes left out)")


#: Cells that belong to the set-up, not to a slide.
_SKIPPED_ON_SLIDES = {"setup-intro", "setup", "parameters-intro", "parameters", "check-parameters"}


def slide_type(cell: nbformat.NotebookNode) -> str:
    """reveal.js slide type for a cell: a new slide at every heading, notes for instructors, set-up skipped."""
    cell_tags = tags(cell)
    if cell.get("id") in _SKIPPED_ON_SLIDES or "solution" in cell_tags or "solution-run" in cell_tags:
        return "skip"
    if "injected-parameters" in cell_tags:
        return "skip"
    if "instructor" in cell_tags:
        return "notes"
    text = unmarked(cell.source).lstrip()
    if cell.cell_type == "markdown" and (text.startswith("# ") or text.startswith("## ")
                                         or re.match(r"<div[^>]*>\s*\n\s*\n?#{1,2} ", text)):
        return "slide"
    return "subslide" if cell.cell_type == "code" else "-"


def with_slide_types(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy whose cells carry slideshow metadata (nbconvert --to slides reads it)."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        cell.metadata["slideshow"] = {"slide_type": slide_type(cell)}
    return out
