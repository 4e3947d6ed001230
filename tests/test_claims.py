"""Claims bound to rows: evaluation on synthetic rows, the evidence lines, and the check's heuristic."""

import nbformat
import pytest

from gpuguide_suite import claims
from gpuguide_suite.site_strings import STRINGS


def row(variant, group="g", status="ok", **metrics):
    return dict(group=group, variant=variant, baseline="base", status=status, reason="" if status == "ok" else "why",
                params={}, metrics=metrics)


def timed(variant, samples, paired="r1"):
    ordered = sorted(samples)
    return row(variant, latency_s=ordered[len(ordered) // 2], latency_s_samples=samples, paired_rounds=paired)


FAST = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0]
SLOW = [2.0, 2.02, 1.98, 2.04, 1.96, 2.0]


@pytest.mark.parametrize("relation, a, status", [
    ("better", "fast", "holds"), ("worse", "fast", "fails"), ("tie", "fast", "fails"), ("not_worse", "fast", "holds"),
    ("worse", "slow", "holds"), ("within", "fast", "fails"),
])
def test_paired_relations_use_the_tables_interval_rule(relation, a, status):
    rows = [timed("fast", FAST), timed("slow", SLOW)]
    claim = dict(id="c", group="g", metric="latency_s", a=a, b="slow" if a == "fast" else "fast", relation=relation,
                 value=1.25, says="...")
    assert claims.evaluate(claim, rows, "cpu").status == status


def test_value_ratio_series_and_missing_rows():
    rows = [row("int8 dynamic, avx2", size_bytes=25), row("fp32", size_bytes=100)]
    quarter = dict(id="q", group="g", metric="size_bytes", a="int8 dynamic", variant_prefix=True, b="fp32",
                   relation="ratio_at_most", value=0.35, says="about a quarter")
    assert claims.evaluate(quarter, rows, "cpu").status == "holds"
    series = [dict(row("eager", peak=v), params={"seq_len": s}) for s, v in [(128, 1), (512, 4), (1024, 16)]]
    grows = dict(id="s", group="g", metric="peak", a="eager", relation="grows_with", param="seq_len", says="grows")
    assert claims.evaluate(grows, series, "cpu").status == "holds"
    skipped = [row("flash", status="skipped")]
    missing = dict(id="m", group="g", metric="latency_s", a="flash", b="eager", relation="better", says="...")
    outcome = claims.evaluate(missing, skipped, "cpu")
    assert outcome.status == "unmeasured" and "skipped: why" in outcome.evidence
    gpu_only = dict(missing, profiles=["gpu-small", "gpu-full"])
    assert claims.evaluate(gpu_only, skipped, "cpu").status == "elsewhere"


def test_every_claimed_cell_gets_a_line_in_its_language_and_old_lines_are_replaced(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("fast beats slow.", id="speed-discussion")
    cell.metadata["gpuguide"] = {"claims": [dict(id="c", group="g", metric="latency_s", a="fast", b="slow",
                                                 relation="better", says="fast beats slow")]}
    nb.cells = [cell, nbformat.v4.new_code_cell("1", id="next")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    rows = [timed("fast", FAST), timed("slow", SLOW)]
    for _ in range(2):  # annotating twice leaves one line
        found = claims.annotate(path, rows, "n", "cpu", STRINGS, "en")
    cells = nbformat.read(path, 4).cells
    assert [c.id for c in cells] == ["speed-discussion", "speed-discussion-evidence", "next"]
    assert found[0].status == "holds" and "This run agrees" in cells[1].source and "paired rounds" in found[0].evidence
    claims.annotate(path, rows, "n", "cpu", STRINGS, "ar")
    assert nbformat.read(path, 4).cells[1].source.startswith('<div dir="rtl"')


def test_check_flags_a_discussion_that_compares_without_claims():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("SDPA is faster here.", id="speed-discussion"),
                nbformat.v4.new_markdown_cell("An intro that is faster to read.", id="speed-intro")]
    assert claims.discussion_problems(nb) == [
        "cell speed-discussion states a comparison (faster) but has no claims (metadata.gpuguide.claims, see "
        "tools/gpuguide_suite/claims.py) and no claims_note"]
    nb.cells[0].metadata["gpuguide"] = {"claims": [dict(id="x", relation="fastest")]}
    problems = claims.discussion_problems(nb)
    assert any("relation 'fastest' is not one of" in p for p in problems) and any("group is missing" in p for p in problems)


def test_every_relation_has_a_translatable_phrase():
    assert all(f"claim.{relation}" in STRINGS for relation in claims.RELATIONS)
