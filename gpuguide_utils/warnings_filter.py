"""Silence the library warnings that every run prints and that teach nothing here, once, by exact message.

Each entry says why it appears. Anything not listed still shows, so a new warning is never hidden.
"""

from __future__ import annotations

import logging
import os
import re
import warnings

__all__ = ["KNOWN_WARNINGS", "QUIET_LOGGERS", "KNOWN_LOG_MESSAGES", "quiet_known_warnings"]


#: (message regex, category, why it is safe to hide here)
KNOWN_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    (r".*nested tensors is in prototype stage.*", UserWarning,
     "PyTorch's nested tensors (BetterTransformer's padding skip) are labelled prototype; 04 explains them"),
    (r".*does not support padding during training.*", UserWarning,
     "BetterTransformer warns about training with padding; the notebooks only run inference"),
    (r".*`torch_dtype` is deprecated.*", UserWarning,
     "optimum-onnx 0.1.0 passes the old keyword to transformers 4.57 itself"),
    (r".*(Converting a tensor to a Python|results are registered as constants in the trace|"
     r"might cause the trace to be incorrect).*", Warning,
     "the ONNX exporter's tracer freezes transformers' shape logic; the exported graph is checked for agreement"),
    (r".*torch\.jit\.script_method.*", DeprecationWarning, "raised inside torch by third-party modules at import"),
    (r".*MatMul8bitLt: inputs will be cast from.*", UserWarning,
     "bitsandbytes casts activations to the compute dtype on every int8 call; 03 explains the compute dtype"),
    (r".*Device [0-9]+ is not available.*", UserWarning,
     "03 plans a device map for GPUs this machine may not have, from shapes alone, on purpose"),
    (r".*The attention mask and the pad token id were not set.*", UserWarning,
     "generate() on a prompt without padding; the notebooks pass the mask where it matters"),
)

#: Loggers whose INFO/WARNING chatter repeats on every call (level raised to ERROR).
QUIET_LOGGERS = {
    "bitsandbytes.autograd._functions": "logs a dtype cast per layer and call",
    "bitsandbytes.backends": "logs that the optional 'kernels' package (hub kernels) is not installed",
    "bitsandbytes.backends.cpu.ops": "logs that the optional 'kernels' package (hub kernels) is not installed",
    "optimum.bettertransformer.transformation": "repeats the deprecation notice on every conversion",
}

#: Logged messages (logger name, message regex, why) dropped by a filter on that logger alone.
KNOWN_LOG_MESSAGES: tuple[tuple[str, str, str], ...] = (
    ("accelerate.utils.modeling", r"Device \d+ is not available",
     "03 plans a device map for GPUs this machine may not have, from shapes alone, on purpose"),
    ("accelerate.big_modeling", r"Some parameters are on the meta device",
     "03 offloads on purpose under max_memory; the notebook prints where each module went"),
    ("transformers.configuration_utils", r"`torch_dtype` is deprecated",
     "optimum-onnx 0.1.0 passes the old keyword to transformers 4.57 itself (05's environment)"),
    ("transformers.pipelines.base", r"Device set to use",
     "the pipeline announces its device; the notebook prints the session's provider instead"),
)


class _DropMessages(logging.Filter):
    def __init__(self, patterns: list[str]) -> None:
        super().__init__()
        self.patterns = [re.compile(p) for p in patterns]

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(p.search(record.getMessage()) for p in self.patterns)


_done = False


def quiet_known_warnings() -> None:
    """Install the filters above (idempotent); called by check_parameters in every notebook's first cells."""
    global _done
    if _done:
        return
    for pattern, category, _why in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern, category=category)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    by_logger: dict[str, list[str]] = {}
    for name, pattern, _why in KNOWN_LOG_MESSAGES:
        by_logger.setdefault(name, []).append(pattern)
    for name, patterns in by_logger.items():
        logging.getLogger(name).addFilter(_DropMessages(patterns))
    # torch.profiler's tracing library (kineto) prints a "profiler_start"/"profiler_stop" line to stderr on every
    # use; level 6 keeps its errors and drops that chatter. Read when the profiler first starts.
    os.environ.setdefault("KINETO_LOG_LEVEL", "6")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    _done = True
