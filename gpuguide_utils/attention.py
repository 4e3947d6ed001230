"""Attention implementations: what a model supports, which flash path can run here, and SDPA's backends.

Every path is labelled by what actually runs ("flash_attention_2 (flash_attn package)" vs "sdpa, FLASH_ATTENTION
backend"), so a chart never credits a kernel that did not run.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from .env import Environment, capability, describe_cached

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
    """flash_attention_2 where the package and an sm80+ GPU are present, else SDPA's FLASH_ATTENTION backend."""
    env = env or describe_cached()
    fa2 = capability("flash_attention_2", env)
    if fa2:
        return FlashPath("flash_attention_2", None, "flash_attention_2 (flash_attn package)", fa2.reason)
    backend = capability("sdpa_flash_backend", env)
    if backend:
        where = "PyTorch's CPU kernel" if env.device_type == "cpu" else "PyTorch's CUDA kernel"
        return FlashPath("sdpa", SDPBackend.FLASH_ATTENTION, f"sdpa, FLASH_ATTENTION backend ({where})",
                         f"{fa2.reason}; using SDPA's flash backend instead")
    return FlashPath("sdpa", None, "sdpa (backend chosen by PyTorch)", f"{fa2.reason}; {backend.reason}")


def switch_attention(model: torch.nn.Module, attn_implementation: str) -> torch.nn.Module:
    """The model with `attn_implementation` in use: switched in place where the class allows it (most models),
    else reloaded with the arguments load_model used (e.g. Falcon, which cannot switch after loading).

    Always returns a model whose config names the implementation asked for, so a measurement's label is true.
    """
    if model.config._attn_implementation == attn_implementation:
        return model
    model.set_attn_implementation(attn_implementation)  # logs a warning and keeps the old one when unsupported
    if model.config._attn_implementation == attn_implementation:
        return model
    args = getattr(model, "gpuguide_load_args", None)
    if args is None:
        raise ValueError(f"{type(model).__name__} cannot switch to {attn_implementation!r} after loading; "
                         "load it with attn_implementation=... (or through gpuguide_utils.load_model)")
    from .memory import empty_cache
    from .models import load_model

    device = args["device"]
    del model
    empty_cache(device)
    return load_model(**{**args, "attn_implementation": attn_implementation})


def chosen_backend(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attn_mask: torch.Tensor | None = None,
                   is_causal: bool = False) -> str:
    """The backend SDPA would pick for these inputs, asked from PyTorch's dispatcher (a private API, guarded)."""
    try:
        choice = torch._fused_sdp_choice(query, key, value, attn_mask, 0.0, is_causal)
        return SDPBackend(choice).name
    except Exception as error:  # the private function moved or refused these inputs
        return f"unknown ({type(error).__name__})"


def attention_flops(batch: int, heads: int, seq_len: int, head_dim: int, causal: bool = False) -> float:
    """Matmul FLOPs of one attention call: QK^T and PV, 2 * b * h * s^2 * d each; half of it when causal."""
    flops = 4.0 * batch * heads * seq_len * seq_len * head_dim
    return flops / 2 if causal else flops


def score_matrix_bytes(batch: int, heads: int, seq_len: int, dtype: torch.dtype) -> int:
    """Bytes of the full (seq x seq) score matrix that eager attention materializes per layer."""
    return batch * heads * seq_len * seq_len * torch.empty((), dtype=dtype).element_size()


def heads_and_head_dim(config: Any) -> tuple[int, int]:
    """(query heads, head size) from a transformers config, whatever the family calls them."""
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "n_head", None) or config.n_heads
    hidden = getattr(config, "hidden_size", None) or getattr(config, "dim", None)
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    return int(heads), int(head_dim)


#: Dense (no sparsity) peak tensor-core TFLOP/s for 16-bit inputs, from NVIDIA's datasheets.
PEAK_TFLOPS_16BIT = {
    "H200": (989.0, "NVIDIA H200 datasheet (SXM, dense BF16)"),
    "H100 PCIe": (756.0, "NVIDIA H100 datasheet (PCIe, dense BF16)"),
    "H100": (989.0, "NVIDIA H100 datasheet (SXM, dense BF16)"),
    "A100": (312.0, "NVIDIA A100 datasheet (dense BF16)"),
    "L4": (121.0, "NVIDIA L4 datasheet (dense FP16)"),
    "A10": (125.0, "NVIDIA A10 datasheet (dense FP16)"),
    "T4": (65.0, "NVIDIA T4 datasheet (FP16 mixed precision)"),
}


def peak_tflops(device_name: str) -> tuple[float, str] | None:
    """(peak 16-bit TFLOP/s, source) for a known GPU name, else None; the first matching key wins."""
    for key, value in PEAK_TFLOPS_16BIT.items():
        if key in device_name:
            return value
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
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield captured
        captured.messages.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(handler)
