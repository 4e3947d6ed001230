"""An ipywidgets explorer for workshops: pick a variant, batch size and sequence length, run it, see the chart grow.

Nothing is measured until someone presses Run, so a headless run (papermill, CI) only builds the controls. Where no
widget frontend runs (a static page, GitHub, the docs site) the explorer shows a picture of the rows it was given
instead of an empty box.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .timing import Timing

__all__ = ["RunFn", "Explorer", "explorer"]


#: What the explorer calls: run(variant, batch_size, seq_len) -> the Timing of that set-up.
RunFn = Callable[[str, int, int], Timing]


class Explorer:
    """Holds the controls and the measured history; `widget` is what a notebook displays."""

    def __init__(self, run: RunFn, variants: Sequence[str], batch_sizes: Sequence[int], seq_lens: Sequence[int],
                 device: str = "", preview_rows: Sequence[dict[str, Any]] = (), preview_metric: str = "latency_s") -> None:
        import ipywidgets as w

        if not variants or not batch_sizes or not seq_lens:
            raise ValueError("explorer needs at least one variant, one batch size and one sequence length")
        self.run_fn = run
        self.device = device
        self.preview_rows = list(preview_rows)
        self.preview_metric = preview_metric
        self.history: list[dict[str, Any]] = []
        self.variant = w.Dropdown(options=list(variants), description="variant")
        self.batch_size = w.Dropdown(options=list(batch_sizes), description="batch size")
        self.seq_len = w.Dropdown(options=list(seq_lens), description="seq length")
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.output = w.Output()
        self.button.on_click(lambda _: self.run())
        self.widget = w.VBox([w.HBox([self.variant, self.batch_size, self.seq_len, self.button]), self.output])

    def run(self) -> dict[str, Any]:
        """Measure the selected combination once (what the Run button does) and redraw the chart."""
        variant, batch, seq = self.variant.value, int(self.batch_size.value), int(self.seq_len.value)
        timing = self.run_fn(variant, batch, seq)
        row = dict(variant=f"{variant} b{batch} s{seq}", status="ok", params=dict(batch_size=batch, seq_len=seq),
                   metrics=dict(latency_s=timing.median_s))
        self.history.append(row)
        self._redraw()
        return row

    def _redraw(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        from .plots import bar_chart

        self.output.clear_output(wait=True)
        with self.output:
            fig = bar_chart(self.history, "latency_s", title="your runs", device=self.device)
            display(fig)
            plt.close(fig)

    def _static_png(self) -> bytes | None:
        """The preview rows as a PNG chart (what a page without a widget frontend shows)."""
        if not self.preview_rows:
            return None
        import io

        import matplotlib.pyplot as plt

        from .plots import bar_chart

        fig = bar_chart(self.preview_rows, self.preview_metric, device=self.device,
                        title="measured above (static picture: the interactive explorer needs a live notebook)")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        return buffer.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """The widget for live notebooks, plus a static PNG and a text line for everything else."""
        import base64

        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = "Explorer: open this notebook in Jupyter or Colab and press Run to measure a combination."
        png = self._static_png()
        if png is not None:
            bundle["image/png"] = base64.b64encode(png).decode()
        return bundle


def explorer(run: RunFn, variants: Sequence[str], batch_sizes: Sequence[int], seq_lens: Sequence[int],
             device: str = "", preview_rows: Sequence[dict[str, Any]] = (), preview_metric: str = "latency_s"
             ) -> Explorer | None:
    """Build an Explorer, or print why not (ipywidgets missing) and return None."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        print("ipywidgets is not installed: the interactive explorer is skipped (pip install ipywidgets)")
        return None
    return Explorer(run, variants, batch_sizes, seq_lens, device, preview_rows, preview_metric)
