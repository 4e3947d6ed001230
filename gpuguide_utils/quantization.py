"""bitsandbytes formats side by side: their configs, their expected size, and small numeric demonstrations.

The demonstrations (LLM.int8's outlier split, the FP4 and NF4 code books) are plain tensor arithmetic, so a reader
can see why the formats behave as they do before loading a model with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["FORMAT_BITS", "BLOCK_SIZE", "NESTED_BLOCK_SIZE", "expected_footprint", "quantized_modules", "int8_matmul",
           "OutlierDemo", "llm_int8_demo", "code_book", "round_trip_error", "onnx_int8_config_name"]


#: Format name -> bits per quantized weight (storage of the values themselves, before per-block scales).
FORMAT_BITS = {"int8": 8, "fp4": 4, "nf4": 4, "nf4 + double quant": 4}

#: bitsandbytes' 4-bit block size: one scale (absmax) per 64 weights.
BLOCK_SIZE = 64
#: Double quantization quantizes those scales to 8 bits, in blocks of 256 with one float32 scale each.
NESTED_BLOCK_SIZE = 256


def _scale_bytes(shape: tuple[int, int], fmt: str) -> int:
    """Bytes of the scales bitsandbytes keeps beside one quantized (out, in) weight matrix.

    int8: one float32 scale per output row. FP4/NF4: one float32 absmax per block of 64 weights (0.5 bits per
    weight, +12.5% over the 4-bit values) plus the 16-entry code book. With double quantization the absmax values are
    stored in 8 bits, plus one float32 scale per 256 of them, a 256-entry nested code book and an offset: about
    0.127 bits per weight, the QLoRA paper's saving of about 0.37 bits per parameter.
    """
    out_features, in_features = shape
    n = out_features * in_features
    if fmt == "int8":
        return out_features * 4
    blocks = -(-n // BLOCK_SIZE)
    code_book = 16 * 4
    if fmt == "nf4 + double quant":
        nested = -(-blocks // NESTED_BLOCK_SIZE)
        return blocks * 1 + nested * 4 + 256 * 4 + 4 + code_book
    return blocks * 4 + code_book


def expected_footprint(reference: torch.nn.Module, fmt: str | int, skip: tuple[str, ...] = ("lm_head",),
                       with_scales: bool = True) -> int:
    """Parameters x bits for a format: linear-layer weights at the format's bits plus their per-block scales,
    everything else (embeddings, norms, skipped modules) as stored in the reference model.

    `fmt` is a FORMAT_BITS name; an int means bits without scales (the plain arithmetic).
    """
    bits = fmt if isinstance(fmt, int) else FORMAT_BITS[fmt]
    total = 0
    seen: set[int] = set()
    for name, module in reference.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            if p.data_ptr() in seen:
                continue
            seen.add(p.data_ptr())
            quantized = isinstance(module, torch.nn.Linear) and pname == "weight" and not any(s in name for s in skip)
            if quantized:
                total += p.numel() * bits // 8
                if with_scales and isinstance(fmt, str):
                    total += _scale_bytes(tuple(p.shape), fmt)
            else:
                total += p.numel() * p.element_size()
    for b in reference.buffers():
        total += b.numel() * b.element_size()
    return total


def quantized_modules(model: torch.nn.Module) -> dict[str, int]:
    """How many linear layers are quantized (by bitsandbytes class name) and how many stayed plain nn.Linear."""
    counts: dict[str, int] = {}
    for module in model.modules():
        name = type(module).__name__
        if name in ("Linear8bitLt", "Linear4bit") or type(module) is torch.nn.Linear:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _absmax_quantize(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8: scale each slice along `dim` so its largest |value| maps to 127."""
    scale = x.abs().amax(dim=dim, keepdim=True).clamp(min=1e-12) / 127
    return torch.round(x / scale).to(torch.int8), scale


def int8_matmul(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """x @ w with x quantized per row and w per column (vector-wise int8), accumulated exactly, then rescaled."""
    qx, sx = _absmax_quantize(x, dim=1)
    qw, sw = _absmax_quantize(w, dim=0)
    return (qx.to(torch.int64) @ qw.to(torch.int64)).to(x.dtype) * sx * sw


@dataclass(frozen=True)
class OutlierDemo:
    """What llm_int8_demo found: the outlier columns and the error of plain int8 against LLM.int8's split."""

    outlier_columns: list[int]
    error_int8: float  # mean |error| of plain vector-wise int8
    error_llm_int8: float  # mean |error| with the outlier columns kept in 16 bits


def llm_int8_demo(x: torch.Tensor, w: torch.Tensor, threshold: float = 6.0) -> OutlierDemo:
    """Compare plain int8 with LLM.int8's decomposition on x @ w.

    Feature columns of x holding any |value| > threshold go through a 16-bit matmul; the rest through int8.
    """
    reference = x @ w
    outliers = (x.abs() > threshold).any(dim=0)
    regular = ~outliers
    mixed = int8_matmul(x[:, regular], w[regular, :]) + (
        x[:, outliers].half().float() @ w[outliers, :].half().float())
    plain = int8_matmul(x, w)
    return OutlierDemo(
        outlier_columns=outliers.nonzero().flatten().tolist(),
        error_int8=(plain - reference).abs().mean().item(),
        error_llm_int8=(mixed - reference).abs().mean().item(),
    )


def code_book(quant_type: str) -> torch.Tensor:
    """The 16 values a 4-bit weight can take (before its block's scale), sorted: FP4's or NF4's."""
    import bitsandbytes.functional as bnbf

    return torch.sort(bnbf.get_4bit_type(quant_type, device="cpu").float()).values


def round_trip_error(weights: torch.Tensor, quant_type: str, blocksize: int = 64) -> float:
    """Mean |w - dequantize(quantize(w))| relative to mean |w|, with bitsandbytes' own 4-bit functions."""
    import bitsandbytes.functional as bnbf

    packed, state = bnbf.quantize_4bit(weights, quant_type=quant_type, blocksize=blocksize)
    restored = bnbf.dequantize_4bit(packed, state)
    return ((restored - weights).abs().mean() / weights.abs().mean()).item()


def onnx_int8_config_name() -> str:
    """The optimum AutoQuantizationConfig constructor for this CPU's int8 instructions (avx512_vnni, avx512, avx2,
    arm64), read from /proc/cpuinfo or the machine type."""
    import platform

    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return "arm64"
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        pass
    for flag, name in (("avx512_vnni", "avx512_vnni"), ("avx512f", "avx512"), ("avx2", "avx2")):
        if f" {flag}" in flags:
            return name
    return "avx2"
