"""gpuguide_utils: measure memory and time the same way in every gpuguide notebook.

Modules, one job each: env (hardware, versions, capabilities), memory, timing, models (offline presets and one
loader), params (parameter checks), results (recorded rows, comparison tables), plots, widgets, and suite
(build, check and run the multilingual notebooks).
"""

from .env import capabilities, capability, describe, report
from .memory import format_bytes, model_footprint, parameter_count, track_memory
from .models import PRESETS, load_model, load_tokenizer, make_inputs
from .params import ParameterError, check_parameters
from .results import Results
from .timing import benchmark, measure_bandwidth, roofline_decode_s, time_generation

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "ParameterError",
    "Results",
    "benchmark",
    "capabilities",
    "capability",
    "check_parameters",
    "describe",
    "format_bytes",
    "load_model",
    "load_tokenizer",
    "make_inputs",
    "measure_bandwidth",
    "model_footprint",
    "parameter_count",
    "report",
    "roofline_decode_s",
    "time_generation",
    "track_memory",
]
