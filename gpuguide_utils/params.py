"""Check a notebook's parameters up front: one clear message naming the parameter, its value and the valid choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from . import models

DEVICES = ("auto", "cpu", "cuda")


class ParameterError(ValueError):
    """A notebook parameter is wrong. Shown in a notebook as one line, without a traceback."""


def _show_without_traceback(shell, etype, evalue, tb, tb_offset=None):  # IPython custom exception handler
    shell._showtraceback(etype, evalue, [f"{etype.__name__}: {evalue}"])


def _quiet_tracebacks() -> None:
    """In IPython, print ParameterError as its message alone; the cell still fails (papermill stops there)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((ParameterError,), _show_without_traceback)


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a CUDA device exists, else 'cpu'; 'cuda' without one is a ParameterError."""
    if device not in DEVICES and not device.startswith("cuda:"):
        raise ParameterError(f"device={device!r} is not valid; choose one of: {', '.join(DEVICES)} (or 'cuda:N')")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError(f"device={device!r} but no CUDA device is visible to torch {torch.__version__}; use 'cpu' or 'auto'")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ParameterError(f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """'auto' -> float16 on CUDA (bfloat16 where supported), float32 on CPU; anything else must be in models.DTYPES."""
    choices = ("auto", *models.DTYPES)
    if dtype not in choices:
        raise ParameterError(f"dtype={dtype!r} is not supported; choose one of: {', '.join(choices)}")
    if dtype == "auto":
        if device.startswith("cuda"):
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return "float32"
    return dtype


@dataclass(frozen=True)
class Settings:
    """Checked parameters, with 'auto' resolved: what the rest of the notebook uses."""

    model_id: str
    device: str
    dtype: str
    sizes: dict[str, int | list[int]]
    source: models.ModelSource

    def __getattr__(self, name: str) -> Any:
        sizes = object.__getattribute__(self, "sizes")
        if name in sizes:
            return sizes[name]
        raise AttributeError(name)

    def __str__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        weights = " (random weights)" if self.source.random_weights else ""
        return f"model_id={self.model_id!r} [{self.source.kind}{weights}], device={self.device!r}, dtype={self.dtype!r}, {sizes}"


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_range(name: str, value: Any, low: float, high: float) -> float:
    """A number with low <= value < high, else a ParameterError naming the parameter and the range."""
    _quiet_tracebacks()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < high:
        raise ParameterError(f"{name}={value!r} must be a number in [{low}, {high})")
    return float(value)


def check_environment(name: str) -> dict[str, str]:
    """Fail at once, in one line, when this kernel is not the side environment `name` a notebook needs.

    Returns {package: installed version} for the pinned packages, for the notebook to show.
    """
    from .env import environment_pins, package_version

    _quiet_tracebacks()
    pins = environment_pins(name)
    installed = {package: package_version(package) for package in pins}
    wrong = [f"{p} {installed[p] or 'missing'} (needs {v})" for p, v in pins.items() if installed[p] != v]
    if wrong:
        raise ParameterError(f"this notebook runs in the '{name}' environment (kernel gpuguide-{name}; make env-{name}), "
                             f"but this kernel has: {', '.join(wrong)}")
    return installed


def check_parameters(model_id: str, device: str = "auto", dtype: str = "auto", **sizes: int | list[int]) -> Settings:
    """Validate the parameters cell's values; every keyword in `sizes` must be a positive int (or a list of them).

    Builds the model preset if needed (so a bad model_id fails here, not ten cells later).
    """
    _quiet_tracebacks()
    for name, value in sizes.items():
        if isinstance(value, (list, tuple)):
            if not value or not all(_positive_int(v) for v in value):
                raise ParameterError(f"{name}={value!r} must be a non-empty list of positive integers")
        elif not _positive_int(value):
            raise ParameterError(f"{name}={value!r} must be a positive integer")
    if not isinstance(model_id, str) or not model_id:
        raise ParameterError(f"model_id={model_id!r} must be a preset name, a checkpoint directory or a hub id")
    resolved_device = resolve_device(str(device))
    resolved_dtype = resolve_dtype(str(dtype), resolved_device)
    try:
        source = models.resolve(model_id)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    return Settings(model_id, resolved_device, resolved_dtype, dict(sizes), source)
