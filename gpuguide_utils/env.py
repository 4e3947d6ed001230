"""What this machine is and which techniques can run on it, with the exact reason when one cannot."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import torch

from .memory import format_bytes

__all__ = ["REPORTED_PACKAGES", "package_version", "Environment", "describe", "Capability", "TECHNIQUES",
           "flash_attn_importable", "capability", "capabilities", "describe_cached", "SHORT_PACKAGES",
           "CapabilityReport", "report", "environment_pins"]


#: Packages whose versions every report shows (distribution names on PyPI).
REPORTED_PACKAGES = (
    "torch",
    "transformers",
    "accelerate",
    "bitsandbytes",
    "flash-attn",
    "optimum",
    "optimum-onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "peft",
)


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_name() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else whatever platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _nvml_driver_version() -> str | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
            return version.decode() if isinstance(version, bytes) else version
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no NVML library, no driver, or not an NVIDIA device
        return None


def _ort_providers() -> list[str]:
    if importlib.util.find_spec("onnxruntime") is None:
        return []
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except Exception:
        return []


@dataclass(frozen=True)
class Environment:
    """A snapshot of the hardware and software a notebook runs on."""

    device_type: str  # "cuda" or "cpu"
    device_name: str
    compute_capability: tuple[int, int] | None
    total_memory_bytes: int | None
    driver_version: str | None
    cuda_version: str | None
    cpu_name: str
    cpu_threads: int
    python_version: str
    versions: dict[str, str | None] = field(default_factory=dict)
    ort_providers: list[str] = field(default_factory=list)

    @property
    def sm(self) -> str | None:
        """Compute capability written as NVIDIA does, e.g. 'sm80'."""
        if self.compute_capability is None:
            return None
        major, minor = self.compute_capability
        return f"sm{major}{minor}"

    @property
    def label(self) -> str:
        """Short device label for charts and tables, e.g. 'NVIDIA H100 80GB HBM3' or 'CPU: AMD EPYC ...'."""
        return self.device_name if self.device_type == "cuda" else f"CPU: {self.device_name}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["compute_capability"] = list(self.compute_capability) if self.compute_capability else None
        data["label"] = self.label
        return data

    def rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs in reading order, for a report."""
        rows = [("device", self.label)]
        if self.device_type == "cuda":
            rows += [
                ("compute capability", f"{self.sm} ({self.compute_capability[0]}.{self.compute_capability[1]})"),
                ("GPU memory", format_bytes(self.total_memory_bytes)),
                ("driver / CUDA", f"{self.driver_version or 'unknown'} / {self.cuda_version or 'unknown'}"),
                ("CPU", self.cpu_name),
            ]
        rows += [("CPU threads used by torch", str(self.cpu_threads)), ("Python", self.python_version)]
        rows += [(name, version or "not installed") for name, version in self.versions.items()]
        rows.append(("onnxruntime providers", ", ".join(self.ort_providers) or "none"))
        return rows

    def to_markdown(self) -> str:
        lines = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in self.rows()]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.rows())


def describe(device: str | None = None) -> Environment:
    """Describe `device` ("cuda:1", "cpu"; default: the current CUDA device if any, else the CPU) and the versions."""
    versions = {name: package_version(name) for name in REPORTED_PACKAGES}
    common = dict(
        cpu_name=_cpu_name(),
        cpu_threads=torch.get_num_threads(),
        python_version=platform.python_version(),
        versions=versions,
        ort_providers=_ort_providers(),
    )
    use_cuda = torch.cuda.is_available() and (device is None or str(device).startswith("cuda"))
    if use_cuda:
        index = torch.device(device).index if device and ":" in str(device) else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return Environment(
            device_type="cuda",
            device_name=props.name,
            compute_capability=(props.major, props.minor),
            total_memory_bytes=props.total_memory,
            driver_version=_nvml_driver_version(),
            cuda_version=torch.version.cuda or torch.version.hip,
            **common,
        )
    return Environment(
        device_type="cpu",
        device_name=common["cpu_name"],
        compute_capability=None,
        total_memory_bytes=_total_ram(),
        driver_version=None,
        cuda_version=None,
        **common,
    )


def _total_ram() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        return None


@dataclass(frozen=True)
class Capability:
    """Whether one technique can run here, and if not, exactly why."""

    name: str
    available: bool
    reason: str

    def __bool__(self) -> bool:
        return self.available


#: Human names of the techniques, in the order the report lists them.
TECHNIQUES = {
    "cuda": "CUDA device",
    "bf16": "bfloat16 on the device",
    "sdpa": "PyTorch SDPA",
    "sdpa_flash_backend": "SDPA FLASH_ATTENTION backend",
    "sdpa_cudnn_backend": "SDPA CUDNN_ATTENTION backend",
    "flash_attention_2": "FlashAttention-2 (flash_attn package)",
    "bitsandbytes_8bit": "bitsandbytes 8-bit (LLM.int8)",
    "bitsandbytes_4bit": "bitsandbytes 4-bit (FP4/NF4)",
    "onnxruntime": "ONNX Runtime",
    "onnxruntime_cuda": "ONNX Runtime CUDA provider",
}


def _check(env: Environment, name: str) -> tuple[bool, str]:
    cuda = env.device_type == "cuda"
    sm = env.compute_capability
    if name == "cuda":
        return (True, f"{env.device_name} ({env.sm})") if cuda else (False, "no CUDA device")
    if name == "bf16":
        if not cuda:
            return True, "CPU supports bfloat16 (often slower than float32 without AMX/AVX512-BF16)"
        if sm < (8, 0):
            return False, f"bfloat16 needs sm80+, this GPU is {env.sm}: the notebooks compute in float16 here"
        return True, f"{env.sm} supports bfloat16"
    if name == "sdpa":
        return True, f"torch {env.versions.get('torch')} has torch.nn.functional.scaled_dot_product_attention"
    if name == "sdpa_flash_backend":
        if not cuda:
            return True, "PyTorch's own CPU flash-attention kernel (any float dtype; not the CUDA FlashAttention-2 kernel)"
        if sm < (8, 0):
            return False, (f"the SDPA flash backend needs sm80+, this GPU is {env.sm}: SDPA runs its memory-efficient "
                           "kernel instead")
        return True, f"{env.sm}, fp16/bf16 inputs only"
    if name == "sdpa_cudnn_backend":
        if not cuda:
            return False, "cuDNN attention runs on CUDA only"
        if sm < (8, 0):
            return False, f"cuDNN attention needs sm80+, this GPU is {env.sm}"
        if sm in ((9, 0), (10, 0)):
            return True, (f"{env.sm}, fp16/bf16: recent PyTorch builds (2.13 with CUDA 13 and cuDNN 9.20) try it "
                          "before the flash backend on sm90 and sm100")
        return True, f"{env.sm}, fp16/bf16 inputs only (the flash backend is tried first)"
    if name == "flash_attention_2":
        if not cuda:
            return False, "no CUDA device"
        if sm < (8, 0):
            return False, f"FlashAttention-2 needs sm80+, this GPU is {env.sm}: eager and SDPA only"
        if env.versions.get("flash-attn") is None:
            return False, "flash_attn is not installed (see requirements/flash.txt)"
        importable, why = flash_attn_importable()
        if not importable:
            return False, f"flash_attn {env.versions['flash-attn']} is installed but its kernel does not load: {why}"
        return True, f"flash_attn {env.versions['flash-attn']} on {env.sm}, fp16/bf16 only"
    if name in ("bitsandbytes_8bit", "bitsandbytes_4bit"):
        version = env.versions.get("bitsandbytes")
        if version is None:
            return False, "bitsandbytes is not installed"
        if not cuda and _version_tuple(version) < (0, 48):
            return False, f"bitsandbytes {version} needs CUDA; >= 0.48 also runs on CPU"
        return True, f"bitsandbytes {version} on {'CUDA' if cuda else 'CPU'}"
    if name == "onnxruntime":
        installed = env.versions.get("onnxruntime") or env.versions.get("onnxruntime-gpu")
        return (True, f"onnxruntime {installed}") if installed else (False, "onnxruntime is not installed in this environment")
    if name == "onnxruntime_cuda":
        if "CUDAExecutionProvider" in env.ort_providers:
            return True, "CUDAExecutionProvider is available"
        if not cuda:
            return False, "no CUDA device"
        return False, "CUDAExecutionProvider is missing (install onnxruntime-gpu instead of onnxruntime)"
    raise KeyError(f"unknown technique {name!r}; known: {', '.join(TECHNIQUES)}")


@lru_cache(maxsize=1)
def flash_attn_importable() -> tuple[bool, str]:
    """Import the compiled FlashAttention-2 kernel itself: package metadata says nothing about whether a wheel built
    for another torch or CUDA loads (it fails with an undefined symbol only when imported)."""
    try:
        import flash_attn_2_cuda  # noqa: F401  (the extension module flash_attn's functions call)
        from transformers.utils import is_flash_attn_2_available

        if not is_flash_attn_2_available():
            return False, "transformers does not consider it usable (is_flash_attn_2_available() is False)"
        return True, "ok"
    except Exception as error:  # ImportError, OSError (undefined symbol), RuntimeError
        return False, f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:160]}"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def capability(name: str, env: Environment | None = None) -> Capability:
    """One technique's capability, e.g. capability("flash_attention_2")."""
    env = env or describe_cached()
    return Capability(TECHNIQUES.get(name, name), *_check(env, name))


def capabilities(env: Environment | None = None) -> dict[str, Capability]:
    """Every technique in TECHNIQUES with whether it can run here and why (not)."""
    env = env or describe_cached()
    return {name: capability(name, env) for name in TECHNIQUES}


@lru_cache(maxsize=1)
def describe_cached() -> Environment:
    """describe(), computed once per process (the hardware does not change under a notebook)."""
    return describe()


#: The packages a short report shows (the full report shows every one in REPORTED_PACKAGES).
SHORT_PACKAGES = ("torch", "transformers")


class CapabilityReport:
    """The environment and the capability table together, as one displayable object.

    Short by default: the device, the two versions every result depends on, and one line per technique that
    cannot run here, with the reason. `full=True` lists every package and every technique.
    """

    def __init__(self, env: Environment | None = None, full: bool = False, techniques: tuple[str, ...] | None = None) -> None:
        self.env = env or describe_cached()
        self.full = full
        caps = capabilities(self.env)
        self.capabilities = {k: v for k, v in caps.items() if techniques is None or k in techniques}

    def _short_rows(self) -> list[tuple[str, str]]:
        env = self.env
        rows = [("device", env.label)]
        if env.device_type == "cuda":
            rows.append(("compute capability, memory", f"{env.sm}, {format_bytes(env.total_memory_bytes)}"))
        rows.append(("versions", ", ".join(f"{p} {env.versions.get(p) or 'not installed'}" for p in SHORT_PACKAGES)))
        missing = [c for c in self.capabilities.values() if not c.available]
        ready = [c.name for c in self.capabilities.values() if c.available]
        rows.append(("can run here", ", ".join(ready) or "none of the listed techniques"))
        rows += [(f"not here: {c.name}", c.reason) for c in missing]
        return rows

    def to_markdown(self) -> str:
        if not self.full:
            return "\n".join(["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in self._short_rows()])
        rows = ["| technique | here | why |", "|---|---|---|"]
        for cap in self.capabilities.values():
            rows.append(f"| {cap.name} | {'yes' if cap.available else 'no'} | {cap.reason} |")
        return self.env.to_markdown() + "\n\n" + "\n".join(rows)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        if not self.full:
            width = max(len(k) for k, _ in self._short_rows())
            return "\n".join(f"{k:<{width}}  {v}" for k, v in self._short_rows())
        width = max(len(c.name) for c in self.capabilities.values())
        caps = "\n".join(
            f"{c.name:<{width}}  {'yes' if c.available else 'no ':<3}  {c.reason}" for c in self.capabilities.values()
        )
        return f"{self.env}\n\n{caps}"


def report(env: Environment | None = None, full: bool = False, techniques: tuple[str, ...] | None = None
           ) -> CapabilityReport:
    """Hardware, versions and capabilities; displays as a table in a notebook and as text elsewhere.

    Short by default (device, torch and transformers, and why each technique that cannot run here cannot);
    full=True lists every package and capability. `techniques` limits the list to the ones a notebook uses.
    """
    return CapabilityReport(env, full=full, techniques=techniques)


def environment_pins(name: str) -> dict[str, str]:
    """The exact pins (name -> version) of a side environment, read from environments/<name>/requirements.txt.

    Empty when the repository's environments/ folder is not next to the package (a non-editable install).
    """
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "environments" / name / "requirements.txt"
    pins: dict[str, str] = {}
    if not path.exists():
        return pins
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            package, version = line.split("==", 1)
            pins[package.strip().lower()] = version.strip()
    return pins
