"""The workshop layer: lesson headers from metadata, exercises with solutions, learner copies, slides."""

from pathlib import Path

import nbformat

from gpuguide_suite import check
from gpuguide_suite.lessons import (
    exercise_problems,
    learner_copy,
    render_lesson,
    slide_type,
    with_generated_cells,
    with_solutions_to_run,
)
from gpuguide_suite.notebooks import LANGUAGES, Notebook, discover, dumps

ROOT = Path(__file__).resolve().parents[1]


def _cell(kind, source, id, tags=()):
    cell = (nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell)(source, id=id)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


SOLUTION = "<details>\n<summary>Solution</summary>\n\n```python\nanswer = 42\nassert answer == 42\n```\n\n</details>"


def test_every_notebook_has_a_lesson_exercises_solutions_and_key_points():
    for notebook in discover(ROOT):
        nb = notebook.read()
        tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
        assert tags.count("exercise") >= 1 and tags.count("exercise") == tags.count("solution"), notebook.name
        ids = [c.id for c in nb.cells]
        assert "lesson" in ids and "key-points" in ids, notebook.name
        assert notebook.meta["lesson"]["key_points"][0] in nb.cells[ids.index("key-points")].source


def test_the_lesson_header_comes_from_metadata_and_a_stale_one_fails_the_check(tmp_path):
    notebook = discover(ROOT)[1]
    lesson = notebook.meta["lesson"]
    header = render_lesson(lesson)
    assert lesson["objectives"][0] in header and f"{lesson['teaching_minutes']} min teaching" in header
    assert all(section in header for section, _ in lesson["sections"])
    nb = notebook.read()
    nb.metadata["gpuguide"]["lesson"]["objectives"].append("a new objective")
    assert "a new objective" in next(c.source for c in with_generated_cells(nb).cells if c.id == "lesson")
    copy = Notebook(notebook.name, tmp_path)
    (tmp_path / "notebooks" / "en").mkdir(parents=True)
    copy.path().write_text(dumps(nb), encoding="utf-8")
    assert any("generated from metadata.gpuguide.lesson: edit the metadata" in p.message
               for p in check.source_problems(copy))


def test_exercise_structure_is_checked():
    nb = nbformat.v4.new_notebook(cells=[_cell("md", "Do it", "ex", ["exercise"]), _cell("code", "x = None", "ans")])
    assert exercise_problems(nb) == ["exercise ex has no solution cell"]
    nb.cells.append(_cell("md", "no details here", "sol", ["solution"]))
    assert any("must be a markdown cell with a <details> block" in p for p in exercise_problems(nb))
    nb.cells[-1].source = SOLUTION
    assert exercise_problems(nb) == []


def test_solutions_are_executed_right_after_their_cell():
    nb = nbformat.v4.new_notebook(cells=[_cell("md", "Do it", "ex", ["exercise"]), _cell("md", SOLUTION, "sol", ["solution"]),
                                         _cell("md", "after", "next")])
    runnable = with_solutions_to_run(nb)
    assert [c.id for c in runnable.cells] == ["ex", "sol", "sol-run", "next"]
    assert runnable.cells[2].source == "answer = 42\nassert answer == 42"
    assert runnable.cells[2].metadata["tags"] == ["solution-run"]


def test_learner_copies_have_no_solution_or_instructor_cell_and_are_up_to_date():
    for notebook in discover(ROOT):
        for lang in LANGUAGES:
            learner = nbformat.read(notebook.learner_path(lang), 4)
            tags = {t for c in learner.cells for t in c.metadata.get("tags", [])}
            assert not tags & {"solution", "instructor", "solution-run"}, f"{lang}/{notebook.name}"
            assert not any("<details>" in c.source for c in learner.cells)
            assert learner.metadata["gpuguide"]["copy"] == "learner"
            assert dumps(learner) == dumps(learner_copy(notebook.read(lang), notebook.sources(lang)))


def test_slide_types_follow_headings_and_hide_set_up_and_solutions():
    assert slide_type(_cell("md", "# Title", "title")) == "slide"
    assert slide_type(_cell("md", "## Section", "s")) == "slide"
    assert slide_type(_cell("md", '<div dir="rtl" lang="ar">\n\n## قسم\n\n</div>', "s")) == "slide"
    assert slide_type(_cell("md", "text", "t")) == "-"
    assert slide_type(_cell("code", "x = 1", "c")) == "subslide"
    assert slide_type(_cell("code", "x = 1", "parameters")) == "skip"
    assert slide_type(_cell("md", SOLUTION, "sol", ["solution"])) == "skip"
    assert slide_type(_cell("md", "note", "n", ["instructor"])) == "notes"


def test_a_prediction_needs_its_answer_cell_and_a_check_after_the_measurement():
    from gpuguide_suite.lessons import prediction_problems

    md = nbformat.v4.new_markdown_cell("Predict first", id="predict")
    md.metadata["tags"] = ["prediction"]
    cells = [md, nbformat.v4.new_code_cell("my_prediction = None", id="a"), nbformat.v4.new_code_cell("measure()", id="m"),
             nbformat.v4.new_code_cell("gg.exercises.check_prediction(my_prediction, verdict, what='x')", id="c")]
    assert prediction_problems(nbformat.v4.new_notebook(cells=cells)) == []
    assert "no gg.exercises.check_prediction" in prediction_problems(nbformat.v4.new_notebook(cells=cells[:3]))[0]
    assert "no prediction" in prediction_problems(nbformat.v4.new_notebook(cells=cells[1:]))[0]
