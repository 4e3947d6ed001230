"""An ipywidgets explorer for workshops: pick a variant, batch size and sequence length, run it, see the chart grow.

Nothing is measured until someone presses Run, so a headless run (papermill, CI) only builds the controls.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .timing import Timing

RunFn = Callable[[str, int, int], Timing]


class Explorer:
    """Holds the controls and the measured history; `widget` is what a notebook displays."""

    def __init__(self, run: RunFn, variants: Sequence[str], batch_sizes: Sequence[int], seq_lens: Sequence[int],
                 device: str = "") -> None:
        import ipywidgets as w

        if not variants or not batch_sizes or not seq_lens:
            raise ValueError("explorer needs at least one variant, one batch size and one sequence length")
        self.run_fn = run
        self.device = device
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

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def explorer(run: RunFn, variants: Sequence[str], batch_sizes: Sequence[int], seq_lens: Sequence[int],
             device: str = "") -> Explorer | None:
    """Build an Explorer, or print why not (ipywidgets missing) and return None."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        print("ipywidgets is not installed: the interactive explorer is skipped (pip install ipywidgets)")
        return None
    return Explorer(run, variants, batch_sizes, seq_lens, device)
