"""Check a notebook's parameters up front: one clear message naming the parameter, its value and the valid choices.

Sizes left at None come from the run profile that fits this machine (gpuguide_utils.profiles), so a notebook opened
by hand in Jupyter or Colab picks sizes for the hardware it finds, and the runner's profile and overrides win.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from . import models, profiles

__all__ = ["DEVICES", "ParameterError", "native_bf16", "half_dtype", "resolve_dtype", "Settings", "check_range",
           "check_environment", "check_parameters"]


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


def _resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a CUDA device exists, else 'cpu'; 'cuda' without one is a ParameterError."""
    if device not in DEVICES and not re.fullmatch(r"cuda:\d+", device):
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


def native_bf16(device: str) -> bool:
    """True where bfloat16 runs natively: every CPU build of torch, and NVIDIA GPUs of compute capability 8.0+.

    torch.cuda.is_bf16_supported() also says True on a T4 (sm75), where bf16 is only emulated (no tensor cores, and
    SDPA's fused kernels refuse it), so this asks for the compute capability instead.
    """
    if not device.startswith("cuda"):
        return True
    return torch.cuda.get_device_capability(torch.device(device)) >= (8, 0)


def half_dtype(device: str) -> str:
    """The 16-bit dtype to compute in on this device: bfloat16 where native, else float16."""
    return "bfloat16" if native_bf16(device) else "float16"


def resolve_dtype(dtype: str, device: str) -> str:
    """'auto' -> the device's 16-bit dtype on CUDA (bf16 on sm80+, fp16 before), float32 on CPU."""
    choices = ("auto", *models.DTYPES)
    if dtype not in choices:
        raise ParameterError(f"dtype={dtype!r} is not supported; choose one of: {', '.join(choices)}")
    if dtype == "auto":
        return half_dtype(device) if device.startswith("cuda") else "float32"
    return dtype


@dataclass(frozen=True)
class Settings:
    """Checked parameters, with 'auto' and None resolved: what the rest of the notebook uses."""

    notebook: str
    profile: str
    model_id: str
    device: str
    dtype: str
    sizes: dict[str, Any]
    sources: dict[str, models.ModelSource] = field(default_factory=dict)  # every *_id parameter, resolved
    from_profile: tuple[str, ...] = ()  # the names whose value came from the profile

    def __getattr__(self, name: str) -> Any:
        sizes = object.__getattribute__(self, "sizes")
        if name in sizes:
            return sizes[name]
        sources = object.__getattribute__(self, "sources")
        if name in sources:  # e.g. settings.encoder_id: the id as given (settings.checkpoints[name] is the path)
            return sources[name].model_id
        raise AttributeError(name)

    @property
    def torch_dtype(self) -> torch.dtype:
        """The dtype as a torch.dtype, for from_pretrained(dtype=...)."""
        return models.DTYPES[self.dtype]

    @property
    def half_dtype(self) -> torch.dtype:
        """The 16-bit dtype this device computes in natively (bf16 on CPUs and sm80+ GPUs, fp16 before)."""
        return models.DTYPES[half_dtype(self.device)]

    @property
    def source(self) -> models.ModelSource:
        return self.sources["model_id"]

    @property
    def checkpoint(self) -> str:
        """What from_pretrained receives for model_id: a local directory (presets are built there) or a hub id."""
        return self.sources["model_id"].path

    @property
    def model_ids(self) -> dict[str, str]:
        """Every model parameter's id as given ({"model_id": "tiny-llama", ...}): what stored runs are matched by."""
        return {name: source.model_id for name, source in self.sources.items()}

    @property
    def checkpoints(self) -> dict[str, str]:
        """from_pretrained's argument for every model parameter, e.g. settings.checkpoints["encoder_id"]."""
        return {name: source.path for name, source in self.sources.items()}

    def rows(self) -> list[tuple[str, str]]:
        """(parameter, value and where it came from) in reading order."""
        out = [("profile", self.profile)]
        for name in ("model_id", *[n for n in self.sources if n != "model_id"], "device", "dtype", *self.sizes):
            value = {"model_id": self.model_id, "device": self.device, "dtype": self.dtype}.get(name)
            if value is None:
                value = self.sources[name].model_id if name in self.sources else self.sizes.get(name)
            note = ""
            if name in self.sources:
                source = self.sources[name]
                note = f" [{source.kind}{', ' + source.weights if source.weights != 'pretrained' else ''}]"
            origin = " (profile)" if name in self.from_profile else ""
            out.append((name, f"{value!r}{note}{origin}"))
        return out

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.rows())


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


def _check_size(name: str, value: Any, default: Any) -> None:
    """Positive integers (or lists of them); a positive number where the profile's own value is a float."""
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ParameterError(f"{name}={value!r} must be a positive number")
    elif isinstance(value, (list, tuple)):
        if not value or not all(_positive_int(v) for v in value):
            raise ParameterError(f"{name}={value!r} must be a non-empty list of positive integers")
    elif not _positive_int(value):
        raise ParameterError(f"{name}={value!r} must be a positive integer")


def _device_index(device: str) -> int:
    """The CUDA index a device string names ("cuda:1" -> 1); 0 for "cuda", "auto" and what _resolve_device refuses."""
    match = re.fullmatch(r"cuda:(\d+)", device)
    index = int(match.group(1)) if match else 0
    return index if index < torch.cuda.device_count() else 0


def _pick_profile(profile: str, device: str) -> str:
    """The profile by name, or by the memory of the GPU `device` names ("auto")."""
    cuda = torch.cuda.is_available() and device != "cpu"
    memory = None
    if cuda:
        memory = torch.cuda.get_device_properties(_device_index(device)).total_memory
    try:
        return profiles.resolve_profile(str(profile), cuda, memory).name
    except ValueError as error:
        raise ParameterError(str(error)) from None


def check_parameters(notebook: str, profile: str | Mapping[str, Any] = "auto", **params: Any) -> Settings:
    """Validate a notebook's parameters cell; values left at None come from `profile` ("auto": by hardware).

    `check_parameters(notebook, globals())` reads `profile` and every size the notebook has (profiles.SIZES) from the
    parameters cell's namespace, so each name is written once. Every model parameter (model_id, *_model_id, encoder_id, decoder_id) is resolved here, building a preset when
    needed, so a bad id or a checkpoint without the weights the notebook needs fails in this cell, not ten cells
    later. Other values must be positive integers (or non-empty lists of them).
    """
    _quiet_tracebacks()
    from .warnings_filter import quiet_known_warnings

    quiet_known_warnings()
    if notebook not in profiles.SIZES:
        raise ParameterError(f"notebook={notebook!r} is not known; known: {', '.join(profiles.SIZES)}")
    if isinstance(profile, Mapping):
        namespace = profile
        profile = namespace.get("profile", "auto")
        known = profiles.sizes_for(notebook, "cpu")
        params = {name: namespace[name] for name in known if name in namespace} | params
    device_param = params.get("device") if params.get("device") is not None else "auto"
    chosen = _pick_profile(profile, str(device_param))
    defaults = profiles.sizes_for(notebook, chosen)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ParameterError(f"{', '.join(unknown)} is not a parameter of {notebook}; parameters: {', '.join(defaults)}")
    values = {name: params.get(name) if params.get(name) is not None else default for name, default in defaults.items()}
    from_profile = tuple(name for name in defaults if params.get(name) is None)
    device = _resolve_device(str(values.pop("device", "auto")))
    dtype = resolve_dtype(str(values.pop("dtype", "auto")), device)
    sources = {}
    for name in [n for n in values if profiles.is_model_parameter(n)]:
        model_id = values.pop(name)
        if not isinstance(model_id, str) or not model_id:
            raise ParameterError(f"{name}={model_id!r} must be a preset name, a checkpoint directory or a hub id")
        try:
            sources[name] = models.resolve(model_id)
            models.check_role(sources[name], profiles.role_of(notebook, name), name)
        except ValueError as error:
            raise ParameterError(str(error).replace("model_id=", f"{name}=", 1)) from None
    for name, value in values.items():
        _check_size(name, value, defaults[name])
    return Settings(notebook, chosen, sources["model_id"].model_id if "model_id" in sources else "", device, dtype,
                    values, sources, from_profile)
