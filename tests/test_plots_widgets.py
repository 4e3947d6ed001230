import matplotlib

matplotlib.use("Agg")

from gpuguide_utils import plots  # noqa: E402
from gpuguide_utils.results import Results  # noqa: E402
from gpuguide_utils.timing import Timing  # noqa: E402
from gpuguide_utils.widgets import explorer  # noqa: E402


def _results() -> Results:
    r = Results("nb", device="CPU: test")
    for variant, ms in [("eager", 4.0), ("sdpa", 2.0)]:
        for seq in (128, 256):
            with r.case("attn", variant, baseline="eager", seq_len=seq) as case:
                case.record(Timing.from_samples([ms * seq / 128e3], "perf_counter"), peak_memory_bytes=seq * 2**20)
    with r.case("attn", "eager", baseline="eager", seq_len=512):
        raise MemoryError()
    return r


def test_charts_are_labelled_with_the_device(tmp_path):
    r = _results()
    fig = plots.line_chart(r.rows, x="seq_len", metric="latency_s", device="CPU: test", path=tmp_path / "l.png")
    assert "CPU: test" in fig.axes[0].get_title() and fig.axes[0].get_ylabel() == "latency (ms)"
    assert (tmp_path / "l.png").stat().st_size > 1000
    fig = plots.bar_chart(r.rows, "peak_memory_bytes", device="CPU: test", path=tmp_path / "b.png")
    assert fig.axes[0].get_ylabel() == "peak memory (MiB)"
    fig = plots.speedup_chart(r.table("attn"), path=tmp_path / "s.png")
    assert "CPU: test" in fig.axes[0].get_title()
    fig = plots.grouped_bar_chart({"en": {"a": 0.001}, "ja": {"a": 0.002}}, path=tmp_path / "g.png")
    assert (tmp_path / "g.png").exists()


def test_explorer_does_nothing_until_run_is_pressed():
    calls = []

    def run(variant, batch, seq):
        calls.append((variant, batch, seq))
        return Timing.from_samples([0.001], "perf_counter")

    ex = explorer(run, ["eager", "sdpa"], [1, 2], [64, 128], device="CPU: test")
    assert ex is not None and calls == []
    ex.variant.value, ex.batch_size.value = "sdpa", 2
    row = ex.run()
    assert calls == [("sdpa", 2, 64)] and row["metrics"]["latency_s"] == 0.001 and len(ex.history) == 1
