"""Attention implementations: what a model supports, which flash path can run here, and SDPA's backends.

Every path is labelled by what actually runs ("flash_attention_2 (flash_attn package)" vs "sdpa, FLASH_ATTENTION
backend"), so a chart never credits a kernel that did not run.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from .env import Environment, capability, describe_cached

__all__ = ["SDPA_BACKENDS", "supported_implementations", "FlashPath", "flash_path", "FusedCheck", "fused_sdpa_check",
           "SDPA_OPERATORS", "sdpa_backend", "profiled_attention_ops", "attention_flops", "score_matrix_bytes",
           "eager_attention_peak_bytes", "heads_and_head_dim", "kv_cache_dimensions", "PEAK_TFLOPS_16BIT", "peak_tflops",
           "Attempt", "attempt", "Captured", "capture_warnings"]


#: SDPA's backends by short name, in PyTorch's order of preference on CUDA.
SDPA_BACKENDS: dict[str, SDPBackend] = {
    "flash": SDPBackend.FLASH_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "cudnn": SDPBackend.CUDNN_ATTENTION,
    "math": SDPBackend.MATH,
}


def supported_implementations(model: torch.nn.Module) -> dict[str, bool]:
    """Which attn_implementation values this model's class declares support for (transformers' own flags)."""
    cls = type(model)
    return {
        "eager": True,
        "sdpa": bool(getattr(cls, "_supports_sdpa", False)),
        "flash_attention_2": bool(getattr(cls, "_supports_flash_attn", False)),
        "flex_attention": bool(getattr(cls, "_supports_flex_attn", False)),
    }


@dataclass(frozen=True)
class FlashPath:
    """How this machine reaches the FlashAttention algorithm, and the honest label for it."""

    attn_implementation: str  # what from_pretrained receives
    sdpa_backend: SDPBackend | None  # forced with sdpa_kernel around the call, or None
    label: str
    reason: str

    def context(self) -> contextlib.AbstractContextManager:
        """Wrap each call in this: it forces the SDPA backend when the path needs one."""
        return sdpa_kernel(self.sdpa_backend) if self.sdpa_backend is not None else contextlib.nullcontext()


def flash_path(env: Environment | None = None) -> FlashPath:
    """flash_attention_2 where the kernel loads on an sm80+ GPU, else SDPA's FLASH_ATTENTION backend, else plain SDPA.

    Labels are short and say what runs: "flash_attention_2", "sdpa flash backend" (PyTorch's own kernel; on a CPU
    its CPU kernel), or "sdpa" when no flash kernel exists here (e.g. a T4).
    """
    env = env or describe_cached()
    fa2 = capability("flash_attention_2", env)
    if fa2:
        return FlashPath("flash_attention_2", None, "flash_attention_2", fa2.reason)
    backend = capability("sdpa_flash_backend", env)
    if backend:
        where = "PyTorch's CPU kernel" if env.device_type == "cpu" else "PyTorch's CUDA kernel"
        return FlashPath("sdpa", SDPBackend.FLASH_ATTENTION, "sdpa flash backend",
                         f"{fa2.reason}; using SDPA's FLASH_ATTENTION backend ({where}) instead")
    return FlashPath("sdpa", None, "sdpa", f"no flash kernel here: {fa2.reason}; {backend.reason}")


def _attention_in_use(model: torch.nn.Module) -> str:
    """The attention implementation the model's config says is in use (what transformers dispatches to)."""
    return model.config._attn_implementation


@dataclass(frozen=True)
class FusedCheck:
    """Whether SDPA's fused kernels (flash, memory-efficient, cuDNN) accept this model's attention calls."""

    eligible: bool
    reason: str


def fused_sdpa_check(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> FusedCheck:
    """Try one forward pass with only SDPA's fused backends allowed (no math fallback) and report what happened.

    An empirical check, because eligibility depends on the model's code: Falcon-7B, for one, builds an explicit
    attention mask and passes one key/value head against 71 query heads without enable_gqa, which no fused kernel
    accepts, so its "sdpa" is the math kernel. Needs a model loaded with attn_implementation="sdpa".
    """
    if _attention_in_use(model) != "sdpa":
        raise ValueError(f"fused_sdpa_check needs a model using 'sdpa', this one uses {_attention_in_use(model)!r}")
    device = inputs["input_ids"].device
    fused = [SDPBackend.FLASH_ATTENTION] if device.type == "cpu" else [
        SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]
    try:
        with torch.inference_mode(), sdpa_kernel(fused), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch explains each refusal in a warning; the reason is given below
            model(**{k: v[:1, :16] for k, v in inputs.items()}, use_cache=False)
    except RuntimeError as error:
        if "No available kernel" not in str(error) and "No viable backend" not in str(error):
            raise
        config = model.config
        heads = getattr(config, "num_attention_heads", None)
        kv = getattr(config, "num_key_value_heads", None) or (1 if getattr(config, "multi_query", False) else heads)
        detail = f"; {kv} key/value head(s) for {heads} query heads" if kv and heads and kv != heads else ""
        return FusedCheck(False, f"SDPA fused kernels not eligible: no fused backend accepts this model's attention "
                                 f"call{detail} (it runs SDPA's math kernel)")
    return FusedCheck(True, "SDPA's fused kernels accept this model's attention calls")


#: The backend behind each operator scaled_dot_product_attention dispatches to, by the name torch registers it under
#: (aten::_scaled_dot_product_<suffix>, the same on every build: a CPU build's registry lists the CUDA ones too).
SDPA_OPERATORS: dict[str, str] = {
    "flash_attention": "flash",
    "flash_attention_for_cpu": "flash (CPU kernel)",
    "efficient_attention": "efficient",
    "cudnn_attention": "cudnn",
    "attention_math": "math",
    "attention_math_for_mps": "math (MPS kernel)",
    "fused_attention_overrideable": "overrideable",
}
_SDPA_OPERATOR = re.compile(r"^(?:aten::)?_scaled_dot_product_(\w+?)(?:_backward)?(?:\.\w+)?$")


# The operator SDPA dispatched to (aten::_scaled_dot_product_<backend>, forward or backward) is the one row of a profile
# that names the backend on every device: CUDA's names (…_flash_attention, …_cudnn_attention) share no longer
# substring with the CPU's (…_flash_attention_for_cpu, …_attention_math). The public entry point and the kernels' inner
# operators (aten::_flash_attention_forward) give None; a backend newer than SDPA_OPERATORS gives its own suffix.
def sdpa_backend(operator: str) -> str | None:
    """The SDPA backend ("flash", "efficient", "cudnn", "math", …) a profiler operator belongs to, on any device."""
    match = _SDPA_OPERATOR.match(operator.strip())
    if match is None:
        return None
    return SDPA_OPERATORS.get(match.group(1), match.group(1))


def profiled_attention_ops(prof: Any, limit: int = 8) -> list[tuple[str, int]]:
    """(operator name, calls) of the attention-related operators a torch.profiler run recorded, most calls first.

    The public way to see which SDPA kernel ran: e.g. aten::_scaled_dot_product_flash_attention_for_cpu for the CPU
    flash kernel, aten::_scaled_dot_product_flash_attention on CUDA, or bmm + softmax for eager attention. The SDPA
    backend operators (sdpa_backend) are always kept, also beyond `limit`, so a GPU's kernel names never crowd out
    the one row that says which backend ran.
    """
    keys = ("scaled_dot_product", "flash", "efficient_attention", "cudnn_attention", "softmax", "bmm", "baddbmm")
    rows = sorted(((e.key, e.count) for e in prof.key_averages() if any(k in e.key.lower() for k in keys)),
                  key=lambda r: (-r[1], r[0]))
    return rows[:limit] + [r for r in rows[limit:] if sdpa_backend(r[0])]


def attention_flops(batch: int, heads: int, seq_len: int, head_dim: int, causal: bool = False) -> float:
    """Matmul FLOPs of one attention call: QK^T and PV, 2 * b * h * s^2 * d each; half of it when causal.

    Half for causal counts the work a kernel that skips masked tiles does (flash, memory-efficient); the math
    kernel computes the full matrix and masks it, so count its causal calls with causal=False.
    """
    flops = 4.0 * batch * heads * seq_len * seq_len * head_dim
    return flops / 2 if causal else flops


def score_matrix_bytes(batch: int, heads: int, seq_len: int, dtype: torch.dtype) -> int:
    """Bytes of the full (seq x seq) score matrix that eager attention materializes per layer."""
    return batch * heads * seq_len * seq_len * torch.empty((), dtype=dtype).element_size()


def eager_attention_peak_bytes(batch: int, heads: int, seq_len: int, dtype: torch.dtype) -> int:
    """Transient peak of transformers' eager attention in one layer: more than one score matrix.

    eager_attention_forward holds the scores QK^T, the masked scores (a new tensor), then the float32 softmax and
    its cast back to the model's dtype: at its worst moment about two matrices in the model's dtype plus one in
    float32 (4x one bf16 matrix, 3x one float32 matrix), before any output.
    """
    elements = batch * heads * seq_len * seq_len
    size = torch.empty((), dtype=dtype).element_size()
    return elements * (2 * size + 4)


def heads_and_head_dim(config: Any) -> tuple[int, int]:
    """(query heads, head size) from a transformers config, whatever the family calls them."""
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "n_head", None) or config.n_heads
    hidden = getattr(config, "hidden_size", None) or getattr(config, "dim", None)
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    return int(heads), int(head_dim)


def kv_cache_dimensions(config: Any) -> tuple[int, int, int]:
    """(layers, key-value heads, head size) that size a model's KV cache, from its transformers config.

    Grouped-query models name their key-value heads (num_key_value_heads, or Falcon's num_kv_heads with its new
    decoder architecture); Falcon's multi-query attention keeps one; otherwise every query head has its own.
    """
    heads, head_dim = heads_and_head_dim(config)
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None) or config.num_layers
    if getattr(config, "multi_query", False) and not getattr(config, "new_decoder_architecture", False):
        kv_heads = 1
    else:
        kv_heads = getattr(config, "num_key_value_heads", None) or getattr(config, "num_kv_heads", None) or heads
    return int(layers), int(kv_heads), int(head_dim)


#: Dense (no sparsity) peak tensor-core TFLOP/s for 16-bit inputs, from NVIDIA's datasheets; matched as whole words
#: against torch.cuda.get_device_name(), most specific first ("H100 NVL" before "H100", "L40S" never as "L4").
PEAK_TFLOPS_16BIT: tuple[tuple[str, float, str], ...] = (
    (r"H200 NVL", 835.0, "NVIDIA H200 NVL datasheet (dense BF16)"),
    (r"H200", 989.0, "NVIDIA H200 datasheet (SXM, dense BF16)"),
    (r"H100 NVL", 835.0, "NVIDIA H100 NVL datasheet (dense BF16)"),
    (r"H100 PCIe", 756.0, "NVIDIA H100 datasheet (PCIe, dense BF16)"),
    (r"H100", 989.0, "NVIDIA H100 datasheet (SXM, dense BF16)"),
    (r"A100", 312.0, "NVIDIA A100 datasheet (dense BF16)"),
    (r"L40S", 362.0, "NVIDIA L40S datasheet (dense BF16)"),
    (r"L40", 181.0, "NVIDIA L40 datasheet (dense BF16)"),
    (r"L4", 121.0, "NVIDIA L4 datasheet (dense FP16)"),
    (r"A10", 125.0, "NVIDIA A10 datasheet (dense FP16)"),
    (r"T4", 65.0, "NVIDIA T4 datasheet (FP16 mixed precision)"),
)


def peak_tflops(device_name: str) -> tuple[float, str] | None:
    """(peak 16-bit TFLOP/s, source) for a known GPU name, else None: better no fraction than a wrong one."""
    for pattern, value, source in PEAK_TFLOPS_16BIT:
        if re.search(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", device_name):
            return value, source
    return None


@dataclass
class Attempt:
    """The outcome of a call that may fail on purpose (reproducing an error for the reader)."""

    ok: bool
    value: Any = None
    error: str = ""

    def __str__(self) -> str:
        return "ok" if self.ok else self.error


def attempt(fn: Callable[[], Any]) -> Attempt:
    """Run fn; on an exception return its type and first line instead of raising."""
    try:
        return Attempt(True, fn())
    except Exception as error:  # noqa: BLE001 - shown to the reader, not hidden
        first = (str(error).strip().splitlines() or [""])[0]
        return Attempt(False, error=f"{type(error).__name__}: {first}")


@dataclass
class Captured:
    """The warnings capture_warnings() collected, in the order they were raised."""

    messages: list[str] = field(default_factory=list)


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextlib.contextmanager
def capture_warnings() -> Iterator[Captured]:
    """Collect Python warnings and transformers' logged warnings raised inside the block (shown, not lost)."""
    from transformers.utils import logging as hf_logging

    captured = Captured()
    logger = hf_logging.get_logger("transformers")
    handler = _ListHandler(captured.messages)
    others = list(logger.handlers)
    for other in others:  # captured messages are shown once, by the caller, not also on stderr
        logger.removeHandler(other)
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield captured
        captured.messages.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(handler)
        for other in others:
            logger.addHandler(other)
