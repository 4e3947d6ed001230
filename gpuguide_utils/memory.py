"""Memory of a block of code and of a model: allocator peaks on CUDA, process RSS on CPU, readable sizes."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import torch

__all__ = ["format_bytes", "bytes_per_element", "model_footprint", "MemoryReport", "MemoryTracker",
           "track_memory", "empty_cache"]


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(n: int | float | None) -> str:
    """1536 -> '1.50 KiB'; binary units, because allocators and GPUs count in powers of two."""
    if n is None:
        return "n/a"
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def bytes_per_element(dtype: torch.dtype) -> float:
    """Storage size of one element of a dtype (int4-packed formats are handled by the caller)."""
    return torch.empty((), dtype=dtype).element_size()


def _side_tensors_bytes(obj: object, depth: int = 0) -> int:
    """Bytes of the tensors a bitsandbytes quantization state holds (scales, code book, nested state)."""
    if obj is None or depth > 3:
        return 0
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if type(obj).__name__ == "QuantState":
        return sum(_side_tensors_bytes(v, depth + 1) for v in vars(obj).values())
    return 0


def model_footprint(model: torch.nn.Module) -> int:
    """Bytes held by a model's parameters and buffers, as stored.

    Quantized weights count at their packed size plus their scales: bitsandbytes keeps 8-bit row scales (SCB) and
    4-bit block scales and code book (quant_state) beside the parameter, where parameters() does not see them.
    """
    seen: set[int] = set()
    total = 0
    for tensor in list(model.parameters()) + list(model.buffers()):
        if tensor.data_ptr() in seen:  # tied weights are stored once
            continue
        seen.add(tensor.data_ptr())
        total += tensor.numel() * tensor.element_size()
        total += _side_tensors_bytes(getattr(tensor, "quant_state", None))
        total += _side_tensors_bytes(getattr(tensor, "SCB", None))
    return total


@dataclass
class MemoryReport:
    """What a MemoryTracker saw. On CUDA the allocator's peaks; on CPU the process's peak RSS."""

    device: str
    method: str  # what was measured, in words, so a table never mixes RSS with allocator numbers silently
    peak_bytes: int  # peak allocated (CUDA) or peak RSS (CPU), absolute
    baseline_bytes: int  # the same quantity when the block started
    peak_reserved_bytes: int | None = None  # CUDA caching allocator only
    device_used_bytes: int | None = None  # NVML at the end of the block (not a peak): everything on the GPU

    @property
    def increase_bytes(self) -> int:
        """How much the block added on top of what was already held when it started."""
        return max(0, self.peak_bytes - self.baseline_bytes)

    def __str__(self) -> str:
        parts = [f"{self.method}: peak {format_bytes(self.peak_bytes)} (+{format_bytes(self.increase_bytes)})"]
        if self.peak_reserved_bytes is not None:
            parts.append(f"reserved {format_bytes(self.peak_reserved_bytes)}")
        if self.device_used_bytes is not None:
            parts.append(f"device used at the end (NVML) {format_bytes(self.device_used_bytes)}")
        return ", ".join(parts)


def _read_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_kernel_peak_rss() -> bool:
    """Reset Linux's VmHWM (peak RSS) for this process; False where the kernel or sandbox does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _current_rss() -> int:
    rss = _read_status_kib("VmRSS")
    if rss is not None:
        return rss
    import psutil

    return int(psutil.Process(os.getpid()).memory_info().rss)


def _nvml_used_bytes(device: torch.device) -> int | None:
    """NVML's used memory of the GPU torch calls `device`, matched by UUID (torch's index is not NVML's index under
    CUDA_VISIBLE_DEVICES or CUDA_DEVICE_ORDER)."""
    try:
        import pynvml

        uuid = str(torch.cuda.get_device_properties(device).uuid)
        pynvml.nvmlInit()
        try:
            for index in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                nvml_uuid = pynvml.nvmlDeviceGetUUID(handle)
                nvml_uuid = nvml_uuid.decode() if isinstance(nvml_uuid, bytes) else nvml_uuid
                if nvml_uuid.removeprefix("GPU-").removeprefix("MIG-") == uuid.removeprefix("GPU-"):
                    return int(pynvml.nvmlDeviceGetMemoryInfo(handle).used)
            return None
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no NVML, no driver, MIG slices NVML cannot match: report nothing rather than another GPU
        return None


class MemoryTracker:
    """Context manager measuring the peak memory of a block.

    CUDA: resets the allocator's peak counters first (after freeing its cached blocks when empty_cache=True, so
    "peak reserved" counts this block only); reports peak allocated (== torch.cuda.max_memory_allocated), peak
    reserved, and NVML's device-level used memory at the end (a snapshot, not a peak). CPU: peak resident set size
    of the process, read from the kernel's high-water mark where it can be reset, else sampled by a thread.
    """

    def __init__(self, device: str | torch.device = "cpu", sample_interval_s: float = 0.0005,
                 empty_cache: bool = False) -> None:
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", torch.cuda.current_device())
        self.empty_cache = empty_cache
        self.sample_interval_s = sample_interval_s
        self.report: MemoryReport | None = None
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        self._sampled_peak = 0
        self._kernel_hwm = False

    def __enter__(self) -> MemoryTracker:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            if self.empty_cache:
                import gc

                gc.collect()
                torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self._baseline = torch.cuda.memory_allocated(self.device)
        else:
            self._baseline = _current_rss()
            self._kernel_hwm = _reset_kernel_peak_rss() and _read_status_kib("VmHWM") is not None
            self._sampled_peak = self._baseline
            self._stop.clear()
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._sampled_peak = max(self._sampled_peak, _current_rss())
            time.sleep(self.sample_interval_s)

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.report = MemoryReport(
                device=str(self.device),
                method="CUDA peak allocated",
                peak_bytes=torch.cuda.max_memory_allocated(self.device),
                baseline_bytes=self._baseline,
                peak_reserved_bytes=torch.cuda.max_memory_reserved(self.device),
                device_used_bytes=_nvml_used_bytes(self.device),
            )
            return
        self._sampled_peak = max(self._sampled_peak, _current_rss())
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        if self._kernel_hwm:
            peak, method = max(_read_status_kib("VmHWM") or 0, self._sampled_peak), "CPU peak RSS (kernel high-water mark)"
        else:
            peak, method = self._sampled_peak, "CPU peak RSS (sampled)"
        self.report = MemoryReport(device="cpu", method=method, peak_bytes=peak, baseline_bytes=self._baseline)


def track_memory(device: str | torch.device = "cpu", empty_cache: bool = False) -> MemoryTracker:
    """`with track_memory(device) as mem: ...` then `mem.report`."""
    return MemoryTracker(device, empty_cache=empty_cache)


def empty_cache(device: str | torch.device) -> None:
    """Free cached blocks so the next measurement starts from what is really held."""
    import gc

    gc.collect()
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
