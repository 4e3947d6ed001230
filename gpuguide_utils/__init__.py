"""gpuguide_utils: measure memory and time the same way in every gpuguide notebook.

Import it as `gg` and every call site shows whose code runs, beside `torch.…` and `transformers.…`:

    import gpuguide_utils as gg
    settings = gg.check_parameters("00_measuring", globals())
    timing = gg.benchmark(lambda: model(**inputs), device=settings.device)

`gg.__all__` is the learner API: the names every notebook uses, plus four topic namespaces for the helpers of one
technique (`gg.attention`, `gg.quantization`, `gg.plots` with `gg.widgets`, `gg.exercises`) and the statistics
behind every comparison (`gg.stats`). Everything else in the
package is internal and may change. The API page of the docs site lists each name with its docstring.
"""

from . import attention, exercises, plots, quantization, stats, widgets
from .attention import attempt, capture_warnings
from .env import capabilities, capability, describe, report
from .memory import empty_cache, format_bytes, model_footprint, track_memory
from .models import make_inputs, make_padded_inputs
from .params import ParameterError, check_environment, check_parameters, check_range
from .quality import compare_logits, perplexity
from .recommend import pareto_front, recommend
from .results import Results, compare_timings, compare_values
from .stored import StoredResults
from .timing import (Timing, benchmark, forward_kwargs, interleave, matmul_chain, measure_bandwidth,
                     time_forward, time_generation)
from .training import heldout_text

__version__ = "0.2.0"

#: Grouped as the notebooks meet them: set-up, inputs, time, memory, results, quality, choosing, namespaces.
__all__ = [
    # set-up: parameters and what this machine can run
    "check_parameters", "check_range", "check_environment", "ParameterError", "describe", "report", "capability",
    "capabilities",
    # inputs
    "make_inputs", "make_padded_inputs",
    # time
    "benchmark", "interleave", "time_forward", "forward_kwargs", "time_generation", "Timing", "matmul_chain",
    "measure_bandwidth",
    # memory
    "track_memory", "empty_cache", "model_footprint", "format_bytes",
    # results: rows, comparisons with their intervals, stored GPU runs
    "Results", "compare_values", "compare_timings", "StoredResults",
    # quality
    "compare_logits", "perplexity", "heldout_text",
    # choosing a set-up
    "recommend", "pareto_front",
    # running something that may refuse
    "attempt", "capture_warnings",
    # topic namespaces
    "attention", "quantization", "plots", "widgets", "exercises", "stats",
]
