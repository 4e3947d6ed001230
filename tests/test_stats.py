"""Interleaved timing and the interval rule, on synthetic timings with an injected disturbance (no real clock)."""

import random

import pytest

import gpuguide_utils as gg
from gpuguide_utils.stats import NOISE_THRESHOLD, ratio_interval


def synthetic(base: float, clock: dict, order: list | None = None, name: str = ""):
    """A variant whose one measurement takes `base` seconds, 4x during calls 10-15 of the whole run (a busy spell)."""
    rng = random.Random(name)  # a str seed is the same in every process (hash() is not)

    def call():
        clock["calls"] += 1
        if order is not None:
            order.append(name)
        busy = 4.0 if 10 <= clock["calls"] < 16 else 1.0
        return gg.Timing.from_samples([base * busy * (1 + 0.03 * rng.random())], "synthetic")

    return call


def test_a_busy_spell_makes_a_winner_of_blocks_but_a_tie_of_interleaved_rounds():
    clock = {"calls": 0}
    blocks = {name: gg.Timing.merge([synthetic(1.0, clock, name=name)() for _ in range(8)]) for name in ("a", "b")}
    assert not gg.compare_timings("a", blocks["a"], "b", blocks["b"]).tie, "measured apart, the spell decides"
    clock["calls"] = 0
    rounds = gg.interleave({name: synthetic(1.0, clock, name=name) for name in ("a", "b")}, rounds=8, warmup=0)
    verdict = gg.compare_timings("b", rounds["b"], "a", rounds["a"])
    assert verdict.tie and not verdict.better, verdict
    assert rounds["a"].paired == rounds["b"].paired != ""


def test_a_real_difference_survives_the_busy_spell():
    clock = {"calls": 0}
    rounds = gg.interleave({"fast": synthetic(1.0, clock, name="fast"), "slow": synthetic(1.3, clock, name="slow")},
                           rounds=8, warmup=0)
    verdict = gg.compare_timings("fast", rounds["fast"], "slow", rounds["slow"])
    assert verdict.better and 1.2 < verdict.ratio < 1.4 and verdict.low > 1, verdict


def test_rounds_start_one_variant_further_along_each_time():
    clock, order = {"calls": 0}, []
    gg.interleave({n: synthetic(1.0, clock, order, n) for n in "abc"}, rounds=3, max_rounds=3, warmup=0)
    assert order == list("abcbcacab")


def test_rounds_grow_until_the_ratio_is_precise_or_the_budget_ends():
    clock = {"calls": 0}
    rng = random.Random(0)

    def noisy():
        return gg.Timing.from_samples([1.0 + rng.random()], "synthetic")

    found = gg.interleave({"a": noisy, "b": noisy}, rounds=4, max_rounds=12, warmup=0, precision=0.001, budget_s=60)
    assert found["a"].n == 12, "a precision no run can reach goes on to max_rounds"
    steady = gg.interleave({"a": synthetic(1.0, clock, name="x"), "b": synthetic(2.0, clock, name="y")}, rounds=4,
                           max_rounds=12, warmup=0, budget_s=60)
    assert steady["a"].n < 12
    hurried = gg.interleave({"a": noisy, "b": noisy}, rounds=4, max_rounds=12, warmup=0, precision=0.001, budget_s=0)
    assert hurried["a"].n == 4, "an exhausted budget stops after the first rounds"


def test_the_interval_rule_includes_the_noise_threshold():
    same = ratio_interval([1.0, 1.001, 0.999] * 5, [1.0, 1.002, 1.001] * 5, paired=True)
    assert same.tie and same.high <= 1 + NOISE_THRESHOLD
    apart = ratio_interval([1.0] * 10, [2.0, 2.1] * 5)
    assert not apart.tie and apart.ratio == pytest.approx(2.05, rel=0.05)
    faster_is_higher = ratio_interval([10.0, 10.5, 9.8], [5.0, 5.1, 4.9], higher_is_better=True)
    assert faster_is_higher.ratio == pytest.approx(2.0, rel=0.05)
    with pytest.raises(ValueError, match="as many on each when paired"):
        ratio_interval([1.0, 2.0], [1.0], paired=True)


def test_rows_without_samples_fall_back_to_the_interquartile_rule():
    a = {"latency_s": 1.0, "latency_s_q1": 0.9, "latency_s_q3": 1.1}
    b = {"latency_s": 1.05, "latency_s_q1": 1.0, "latency_s_q3": 1.2}
    verdict = gg.compare_values("a", a, "b", b, "latency_s")
    assert verdict.tie and verdict.low is None and "interquartile" in verdict.method
