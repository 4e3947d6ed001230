import json

import pytest
import torch

from gpuguide_utils.results import Results, is_out_of_memory
from gpuguide_utils.timing import Timing


def timing(ms: float, spread: float = 0.0) -> Timing:
    return Timing.from_samples([(ms - spread) / 1e3, ms / 1e3, (ms + spread) / 1e3], "perf_counter")


def test_rows_are_saved_after_every_record(tmp_path):
    path = tmp_path / "r.json"
    results = Results("nb", path, device="CPU: test")
    with results.case("attention", "eager", baseline="eager", seq_len=128) as case:
        case.record(timing(10.0), note="x")
    data = json.loads(path.read_text())
    assert data["device"] == "CPU: test"
    assert data["rows"][0]["metrics"]["latency_s"] == pytest.approx(0.010)
    assert data["rows"][0]["baseline"] == "eager"


def test_oom_is_recorded_and_the_notebook_goes_on(tmp_path):
    results = Results("nb", tmp_path / "r.json")
    with results.case("attention", "eager", seq_len=65536):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 64.00 GiB")
    with results.case("attention", "sdpa", seq_len=65536) as case:
        case.record(timing(5.0))
    statuses = [(r["variant"], r["status"]) for r in results.rows]
    assert statuses == [("eager", "oom"), ("sdpa", "ok")]
    assert "out of memory" in results.rows[0]["reason"]


def test_other_errors_are_recorded_as_failed_and_raised(tmp_path):
    results = Results("nb", tmp_path / "r.json")
    with pytest.raises(ZeroDivisionError):
        with results.case("g", "v"):
            1 / 0
    assert results.rows[0]["status"] == "failed"


def test_cpu_allocation_failure_counts_as_oom():
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 TB"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_table_speedup_matches_params_and_skips():
    results = Results("nb")
    for variant, ms in [("eager", 10.0), ("sdpa", 4.0)]:
        for seq in (128, 256):
            with results.case("attn", variant, baseline="eager", seq_len=seq) as case:
                case.record(timing(ms * seq / 128))
    results.skip("attn", "flash_attention_2", "no CUDA device", seq_len=128)
    table = results.table("attn")
    speedups = [d["speedup"] for d in table.data]
    assert speedups[:4] == [pytest.approx(1.0), pytest.approx(1.0), pytest.approx(2.5), pytest.approx(2.5)]
    assert speedups[4] is None and len(table.rows) == 4, "rows that did not run are not table rows"
    text = table.to_markdown()
    assert "speed-up vs eager" in text and "time (ms)" in text and "tokens" in text
    assert "Not run here: flash_attention_2 (seq_len=128): skipped (no CUDA device)" in text


def test_ratio_for_non_time_metrics():
    results = Results("nb")
    results.add("footprint", "float32", baseline="float32", footprint_bytes=400)
    results.add("footprint", "float16", baseline="float32", footprint_bytes=200)
    table = results.table("footprint", metric="footprint_bytes")
    assert [d["speedup"] for d in table.data] == [1.0, 0.5]
    assert "ratio vs float32" in table.columns


def test_kernel_refusal_is_recorded_as_skipped_with_the_message():
    results = Results("nb")
    with results.case("attn", "flash backend", batch="padded"):
        raise RuntimeError("No available kernel. Aborting execution.")
    assert results.rows[0]["status"] == "skipped" and "No available kernel" in results.rows[0]["reason"]


def test_differences_inside_the_spread_are_ties():
    results = Results("nb")
    with results.case("attn", "eager", baseline="eager") as case:
        case.record(timing(10.0, spread=1.0))
    with results.case("attn", "sdpa", baseline="eager") as case:
        case.record(timing(9.5, spread=1.0))
    with results.case("attn", "flash", baseline="eager") as case:
        case.record(timing(5.0, spread=0.5))
    table = results.table("attn", extra=())
    assert [row[-1] for row in table.rows] == ["1.00x (baseline)", "1.05x (tie)", "2.00x"]
    assert "tie: the 95% interval of the ratio includes 1" in table.to_markdown()


def test_memory_held_by_the_failing_frames_is_released_after_an_oom():
    import weakref

    refs = []

    def allocate_then_fail():
        block = torch.ones(1 << 20)
        refs.append(weakref.ref(block))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    results = Results("nb")
    with results.case("g", "big"):
        allocate_then_fail()
    assert results.rows[0]["status"] == "oom"
    assert refs[0]() is None, "the tensor of the failed call is still alive after the case"


def test_expected_errors_are_skipped_rows_with_their_first_line():
    results = Results("nb")
    with results.case("backends", "cudnn", expected_errors=(RuntimeError,)):
        raise RuntimeError("cuDNN Frontend error: No execution plans support the graph.\nmore detail")
    assert results.rows[0]["status"] == "skipped"
    assert results.rows[0]["reason"] == "RuntimeError: cuDNN Frontend error: No execution plans support the graph."


def test_columns_are_words_with_units_and_fractions_are_percentages():
    from gpuguide_utils.results import format_metric, metric_label

    assert metric_label("latency_s") == "time (ms)" and metric_label("decode_tokens_per_s") == "decode (tokens/s)"
    assert format_metric("top1_agreement", 0.9375) == "93.8%" and format_metric("latency_s", 0.0123) == "12.3"
    assert format_metric("max_abs_diff", 3.725e-08) == "3.7e-08"


def test_markdown_table_keeps_its_shape_when_a_column_or_cell_holds_a_pipe():
    import mistune  # nbconvert's Markdown renderer, as the docs site and JupyterLab's exporter use it

    results = Results("nb")
    results.add("quality", "float32", baseline="float32", top1_agreement=1.0, max_abs_diff=0.0)
    results.add("quality", "a|b", baseline="float32", top1_agreement=0.9, max_abs_diff=0.5)
    text = results.table("quality", metric="top1_agreement", higher_is_better=True, extra=("max_abs_diff",)).to_markdown()
    assert "max \\|diff\\|" in text and "a\\|b" in text
    html = mistune.create_markdown(plugins=["table"])(text)
    assert html.count("<tr>") == 3 and "<th>max |diff|</th>" in html


def test_rows_read_as_a_dataframe(tmp_path):
    results = Results("nb", tmp_path / "r.json")
    for name, value in [("eager", 2.0), ("sdpa", 1.0)]:
        results.add("attn", name, {"seq_len": 128}, latency_s=value, latency_s_samples=[value] * 3)
    results.skip("attn", "flash", "no kernel")
    frame = results.frame("attn")
    assert list(frame.variant) == ["eager", "sdpa", "flash"] and "latency_s_samples" not in frame.columns
    ok = frame[frame.status == "ok"]
    assert ok.sort_values("latency_s").variant.iloc[0] == "sdpa" and set(ok.seq_len) == {128}
