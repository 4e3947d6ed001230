"""Self-checks and predictions print one line and return a Check; a prediction is answered by the run's verdict."""

import gpuguide_utils as gg
from gpuguide_utils.results import Verdict


def verdict(ratio: float, tie: bool) -> Verdict:
    return Verdict("flash", "eager", ratio, tie=tie, known_spread=True, low=ratio * 0.9, high=ratio * 1.1, method="8 paired rounds")


def test_a_prediction_is_answered_by_the_verdict_in_the_words_of_its_choices(capsys):
    assert gg.exercises.check_prediction("faster", verdict(1.5, False), what="flash vs eager")
    assert not gg.exercises.check_prediction("faster", verdict(1.0, True), what="flash vs eager")
    assert gg.exercises.check_prediction("smaller", verdict(2.0, False), what="size",
                                         choices=("smaller", "the same", "larger"))
    assert gg.exercises.check_prediction("slower", verdict(0.5, False), what="flash vs eager")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("✔ your prediction held") and "the run disagrees" in lines[1]


def test_no_prediction_and_no_measurement_each_say_so_in_one_line(capsys):
    assert gg.exercises.check_prediction(None, verdict(1.5, False), what="flash vs eager").ok is None
    assert gg.exercises.check_prediction("faster", None, what="flash vs eager").ok is None
    assert not gg.exercises.check_prediction("quicker", "faster", what="x")
    out = capsys.readouterr().out.splitlines()
    assert "The run says 'faster'" in out[0] and "did not measure" in out[1] and "not one of" in out[2]


def test_results_compare_finds_the_rows_at_the_params(tmp_path):
    results = gg.Results("t", tmp_path / "r.json")
    for name, value in (("eager", 2.0), ("sdpa", 1.0)):
        results.add("speed", name, dict(seq_len=128), baseline="eager", latency_s=value, latency_s_q1=value * 0.99,
                    latency_s_q3=value * 1.01)
    found = results.compare("speed", "sdpa", "eager", seq_len=128)
    assert found is not None and found.ratio == 2.0 and not found.tie
    assert results.compare("speed", "sdpa", "eager", seq_len=512) is None
    assert results.compare("speed", "flash", "eager", seq_len=128) is None


def test_written_code_is_checked_by_what_it_does(capsys):
    assert gg.exercises.check_that(None, lambda a: True, what="loaded", expect="a model").ok is None
    assert gg.exercises.check_that(3, lambda a: a == 3 or "not three", what="three", expect="a number")
    assert not gg.exercises.check_that(4, lambda a: a == 3 or "not three", what="three", expect="a number")
    assert not gg.exercises.check_that("x", lambda a: a.missing, what="loaded", expect="a model")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Your turn") and "(a model)" in out[0] and out[1].startswith("✔")
    assert out[2] == "✘ not yet: three: not three" and "AttributeError" in out[3]


def test_a_timing_exercise_prints_the_verdict_of_the_learners_own_measurement(capsys):
    timings = {"math": gg.Timing.from_samples([2.0, 2.1, 2.0, 1.9, 2.0], "t"),
               "fused": gg.Timing.from_samples([1.0, 1.1, 1.0, 0.9, 1.0], "t")}
    assert gg.exercises.check_timings(timings, ("math", "fused"), what="fused against math")
    assert not gg.exercises.check_timings({"math": 1}, ("math", "fused"), what="fused against math")
    out = capsys.readouterr().out.splitlines()
    assert "fused is 2.00x better than math" in out[0] and out[1].startswith("✘")
