import matplotlib

matplotlib.use("Agg")

from gpuguide_utils.env import Capability  # noqa: E402
from gpuguide_utils.plots import pareto_chart  # noqa: E402
from gpuguide_utils.recommend import GOALS, pareto_front, recommend  # noqa: E402


def row(variant, peak, ttft, decode, top1, diff=0.0, status="ok", reason="", spread=0.01):
    metrics = dict(peak_memory_bytes=peak, ttft_s=ttft, decode_tokens_per_s=decode, top1_agreement=top1,
                   max_abs_diff=diff)
    for name in ("ttft_s", "decode_tokens_per_s"):
        metrics[f"{name}_q1"], metrics[f"{name}_q3"] = metrics[name] * (1 - spread), metrics[name] * (1 + spread)
    return dict(variant=variant, status=status, reason=reason, params={}, metrics=metrics)


ROWS = [
    row("bf16 + eager", 1000, 0.010, 100, 1.0),
    row("bf16 + sdpa", 900, 0.006, 110, 1.0, 1e-3),
    row("int8 + sdpa", 600, 0.012, 60, 0.97, 0.03),
    row("nf4 + sdpa", 400, 0.008, 120, 0.90, 0.3),
    row("nf4 + eager", 450, 0.011, 90, 0.90, 0.3),
    dict(variant="bf16 + flash_attention_2", status="skipped", reason="flash_attn is not installed", params={}, metrics={}),
]


def test_pareto_front_keeps_only_undominated_points():
    assert pareto_front(ROWS) == ["nf4 + sdpa"]
    assert pareto_front(ROWS, cost="peak_memory_bytes", benefit="top1_agreement") == ["nf4 + sdpa", "int8 + sdpa", "bf16 + sdpa"]


def test_recommendation_per_goal_with_reasons_and_what_was_not_measured():
    caps = {"flash_attention_2": Capability("FlashAttention-2", False, "no CUDA device")}
    recs = {r.goal: r for r in recommend(ROWS, caps, baseline="bf16 + eager", memory_budget_bytes=700)}
    assert list(recs) == list(GOALS)
    assert recs["least memory"].variant == "nf4 + sdpa" and "2.50x less than bf16 + eager" in recs["least memory"].reason
    assert recs["fastest prefill"].variant == "bf16 + sdpa"
    assert recs["fastest decode"].variant == "nf4 + sdpa"
    assert recs["best quality within a memory budget"].variant == "int8 + sdpa"
    assert "flash_attn is not installed" in recs["fastest decode"].reason and "no CUDA device" in recs["least memory"].reason


def test_no_combination_fits_the_budget():
    recs = {r.goal: r for r in recommend(ROWS, {}, baseline="bf16 + eager", memory_budget_bytes=10)}
    assert recs["best quality within a memory budget"].variant is None


def test_pareto_chart(tmp_path):
    fig = pareto_chart(ROWS, ["nf4 + sdpa"], device="CPU: test", path=tmp_path / "p.png")
    assert "CPU: test" in fig.axes[0].get_title() and (tmp_path / "p.png").exists()


def test_winners_inside_the_noise_are_ties_on_the_front_and_in_the_recommendation():
    rows = [row("a", 400, 0.010, 100, 1.0, spread=0.05), row("b", 400, 0.010, 103, 1.0, spread=0.05),
            row("c", 800, 0.010, 200, 1.0, spread=0.05)]
    assert pareto_front(rows) == ["b", "a", "c"], "a and b tie on speed at the same memory: neither dominates"
    recs = {r.goal: r for r in recommend(rows, {}, baseline="a")}
    assert recs["fastest decode"].variant == "c" and recs["fastest decode"].ties == []
    assert set([recs["least memory"].variant] + recs["least memory"].ties) == {"a", "b"}
    fastest_small = recommend(rows[:2], {}, baseline="a")[2]
    assert fastest_small.variant == "b" and fastest_small.ties == ["a"] and "Within the noise of it: a" in fastest_small.reason


def test_a_real_difference_of_a_few_percent_is_not_a_tie_when_the_intervals_are_narrow():
    """With enough rounds (06 runs ten on a CPU) a 4% difference is known, and the recommendation names no tie."""
    rows = [row("best", 400, 0.010, 100, 1.0, spread=0.002), row("close", 400, 0.010, 96, 1.0, spread=0.002)]
    fastest = recommend(rows, {}, baseline="best")[2]
    assert fastest.variant == "best" and fastest.ties == [], fastest
