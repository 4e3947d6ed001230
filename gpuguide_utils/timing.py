"""Timing that survives asynchronous GPUs: warm-up, synchronization, repeats, median and spread."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch

__all__ = ["Timing", "synchronize", "benchmark", "interleave", "matmul_chain", "GenerationTiming", "prefill", "time_generation",
           "Bandwidth", "measure_bandwidth", "forward_kwargs", "time_forward"]


@dataclass(frozen=True)
class Timing:
    """Summary of repeated measurements of one callable, in seconds."""

    median_s: float
    q1_s: float
    q3_s: float
    min_s: float
    max_s: float
    n: int
    method: str  # "CUDA events" or "perf_counter"
    samples_s: tuple[float, ...] = ()
    paired: str = ""  # the interleaved run these samples belong to (same id: sample i of each was taken in round i)

    @property
    def iqr_s(self) -> float:
        """Interquartile range: the spread of the middle half of the samples."""
        return self.q3_s - self.q1_s

    @property
    def median_ms(self) -> float:
        return self.median_s * 1e3

    @property
    def iqr_ms(self) -> float:
        return self.iqr_s * 1e3

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("samples_s")
        data.pop("paired")
        data["iqr_s"] = self.iqr_s
        return data

    def __str__(self) -> str:
        return f"{_format_seconds(self.median_s)} median (IQR {_format_seconds(self.iqr_s)}, min {_format_seconds(self.min_s)}, n={self.n}, {self.method})"

    @classmethod
    def merge(cls, timings: Sequence[Timing], paired: str = "") -> Timing:
        """One Timing from several (e.g. one per interleaved round), samples in order."""
        return cls.from_samples([s for t in timings for s in t.samples_s], timings[0].method, paired=paired)

    @classmethod
    def from_samples(cls, samples: list[float], method: str, paired: str = "") -> Timing:
        if not samples:
            raise ValueError("no samples to summarize")
        ordered = sorted(samples)
        if len(ordered) >= 2:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(
            median_s=statistics.median(ordered),
            q1_s=q1,
            q3_s=q3,
            min_s=ordered[0],
            max_s=ordered[-1],
            n=len(ordered),
            method=method,
            samples_s=tuple(samples),
            paired=paired,
        )


def _format_seconds(seconds: float) -> str:
    """0.0000123 -> '12.3 µs'; picks the unit that keeps three significant digits readable."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def synchronize(device: str | torch.device | None) -> None:
    """Wait for queued GPU work; a no-op on CPU, where work runs when it is called."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _cuda_device(device: torch.device) -> torch.device:
    """'cuda' means the current device; events and synchronization must name the one the work runs on."""
    return device if device.index is not None else torch.device("cuda", torch.cuda.current_device())


def benchmark(
    fn: Callable[[], Any],
    *,
    device: str | torch.device = "cpu",
    warmup: int = 3,
    repeats: int = 10,
) -> Timing:
    """Time fn() `repeats` times after `warmup` untimed calls.

    On CUDA each call is bracketed by CUDA events and the device is synchronized before the first and after the
    last, so the numbers are GPU execution time, not launch time. On CPU each call is timed with perf_counter.
    """
    if warmup < 0 or repeats < 1:
        raise ValueError(f"warmup must be >= 0 and repeats >= 1, got warmup={warmup}, repeats={repeats}")
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        device = _cuda_device(device)
        with torch.cuda.device(device):
            stream = torch.cuda.current_stream(device)
            torch.cuda.synchronize(device)
            events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeats)]
            for start, end in events:
                start.record(stream)
                fn()
                end.record(stream)
            torch.cuda.synchronize(device)
        return Timing.from_samples([start.elapsed_time(end) / 1e3 for start, end in events], "CUDA events")
    clock = time.perf_counter
    samples = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return Timing.from_samples(samples, "perf_counter")


def interleave(calls: dict[str, Callable[[], Timing | GenerationTiming]], *, rounds: int = 5, warmup: int = 1,
               max_rounds: int | None = None, budget_s: float | None = None, precision: float = 0.05
               ) -> dict[str, Timing | GenerationTiming]:
    """Measure variants in interleaved rounds, so a disturbance hits every variant of its round alike.

    Each call measures its variant once and returns a Timing (e.g. benchmark(fn, warmup=0, repeats=1)) or a
    GenerationTiming (time_generation(..., warmup=0, repeats=1)). Every round runs each variant once, starting one
    further along each time (A B C, B C A, C A B, ...), after `warmup` untimed rounds. After `rounds` rounds it goes
    on while the 95% interval of any variant's ratio to the first is wider than ±`precision`, until `max_rounds`
    (default 3 x rounds) or `budget_s` (default: twice the time the first rounds took) runs out. Returns each
    variant's samples merged, marked as paired, so comparisons resample whole rounds (gg.stats).
    """
    from .stats import ratio_interval

    names = list(calls)
    if not names or rounds < 2:
        raise ValueError(f"need at least one variant and rounds >= 2, got {len(names)} variants and rounds={rounds}")
    max_rounds = max_rounds or 3 * rounds
    for _ in range(warmup):
        for name in names:
            calls[name]()
    taken: dict[str, list] = {name: [] for name in names}
    started = time.perf_counter()
    done = 0
    while done < max_rounds:
        for name in names[done % len(names):] + names[:done % len(names)]:
            taken[name].append(calls[name]())
        done += 1
        if done == rounds and budget_s is None:
            budget_s = 2 * (time.perf_counter() - started)
        if done >= rounds:
            main = _main_samples(taken)
            widths = [ratio_interval(main[name], main[names[0]], paired=True).relative_halfwidth for name in names[1:]]
            if all(w <= precision for w in widths) or time.perf_counter() - started > budget_s:
                break
    paired = f"interleaved-{next(_RUNS)}"
    return {name: type(found[0]).merge(found, paired) for name, found in taken.items()}


_RUNS = itertools.count(1)


def _main_samples(taken: dict[str, list]) -> dict[str, list[float]]:
    """What interleave() steers its precision by: decode times where every round of every variant resolved one,
    else the whole call."""
    def samples(measured: list, part: str | None) -> list[float]:
        return [s for m in measured for s in (getattr(m, part) if part else m).samples_s]

    if isinstance(next(iter(taken.values()))[0], GenerationTiming):
        decode = {name: samples(found, "decode") for name, found in taken.items()}
        if all(s > 0 for found in decode.values() for s in found):
            return decode
        return {name: samples(found, "full_generate") for name, found in taken.items()}
    return {name: samples(found, None) for name, found in taken.items()}


def matmul_chain(size: int, length: int, device: str | torch.device, dtype: torch.dtype = torch.float32
                 ) -> Callable[[], torch.Tensor]:
    """A callable that queues `length` dependent matrix products and returns without reading any result.

    Nothing in it makes the host wait for the GPU, so an unsynchronized timer around it measures only the launches:
    the clean way to show the mistake (a transformers forward pass may synchronize on its own, hiding it).
    """
    generator = torch.Generator(device="cpu").manual_seed(0)
    a = (torch.randn(size, size, generator=generator) / size**0.5).to(device=device, dtype=dtype)
    x = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)

    def run() -> torch.Tensor:
        y = x
        for _ in range(length):
            y = a @ y
        return y

    return run


@dataclass(frozen=True)
class GenerationTiming:
    """Prefill (time to first token) and decode measured separately.

    Time to first token is one forward pass over the prompt with a fresh KV cache plus the argmax: what a server
    does before it can send the first token, without generate()'s own set-up. Decode is generate(new_tokens) minus
    generate(1), interleaved and differenced per pair, so generate()'s fixed set-up and any drift in machine speed
    cancel out; it covers the new_tokens - 1 steps after the first token.
    """

    time_to_first_token: Timing
    full_generate: Timing
    decode: Timing  # per pair: generate(new_tokens) - generate(1)
    batch_size: int
    prompt_tokens: int
    new_tokens: int

    @property
    def decode_s(self) -> float:
        """Median time of the new_tokens - 1 decode steps that follow the first token."""
        return self.decode.median_s

    @property
    def resolved(self) -> bool:
        """False when noise swamped the difference (decode measured as <= 0): use more tokens or repeats."""
        return self.decode_s > 0

    @property
    def decode_s_per_token(self) -> float:
        """Median time of one decode step (one new token for every sequence in the batch)."""
        return self.decode_s / max(self.new_tokens - 1, 1)

    @property
    def decode_tokens_per_s(self) -> float | None:
        """Tokens produced per second during decode, over the whole batch (None when not resolved)."""
        return self.batch_size / self.decode_s_per_token if self.resolved else None

    @classmethod
    def merge(cls, timings: Sequence[GenerationTiming], paired: str = "") -> GenerationTiming:
        """One GenerationTiming from several measured with the same inputs (e.g. one per interleaved round)."""
        first = timings[0]
        return cls(*(Timing.merge([getattr(t, part) for t in timings], paired)
                     for part in ("time_to_first_token", "full_generate", "decode")),
                   batch_size=first.batch_size, prompt_tokens=first.prompt_tokens, new_tokens=first.new_tokens)

    def to_dict(self) -> dict[str, Any]:
        steps = max(self.new_tokens - 1, 1)
        resolved = self.decode.q1_s > 0
        samples = {  # per repeat (per round when interleaved), for intervals of ratios
            "ttft_s_samples": list(self.time_to_first_token.samples_s),
            "decode_s_per_token_samples": [d / steps for d in self.decode.samples_s],
            "decode_tokens_per_s_samples": [self.batch_size * steps / d for d in self.decode.samples_s if d > 0],
            "paired_rounds": self.full_generate.paired,
        }
        return samples | {
            "ttft_s": self.time_to_first_token.median_s,
            "ttft_iqr_s": self.time_to_first_token.iqr_s,
            "ttft_s_q1": self.time_to_first_token.q1_s,
            "ttft_s_q3": self.time_to_first_token.q3_s,
            "generate_s": self.full_generate.median_s,
            "generate_iqr_s": self.full_generate.iqr_s,
            "decode_s_per_token": self.decode_s_per_token,
            "decode_s_per_token_q1": self.decode.q1_s / steps,
            "decode_s_per_token_q3": self.decode.q3_s / steps,
            "decode_iqr_s": self.decode.iqr_s,
            "decode_tokens_per_s": self.decode_tokens_per_s,
            # the interquartile range of the rate, from the decode times' quartiles (slow quartile = low rate)
            "decode_tokens_per_s_q1": self.batch_size * steps / self.decode.q3_s if resolved else None,
            "decode_tokens_per_s_q3": self.batch_size * steps / self.decode.q1_s if resolved else None,
            "batch_size": self.batch_size,
            "prompt_tokens": self.prompt_tokens,
            "new_tokens": self.new_tokens,
            "n": self.full_generate.n,
        }

    def __str__(self) -> str:
        head = (f"time to first token {_format_seconds(self.time_to_first_token.median_s)} "
                f"(IQR {_format_seconds(self.time_to_first_token.iqr_s)}); ")
        tail = f"(batch {self.batch_size}, {self.new_tokens} new tokens, n={self.full_generate.n})"
        if not self.resolved:
            return head + "decode not resolved: noise exceeded the decode time, use more new_tokens or repeats " + tail
        return (head + f"decode {_format_seconds(self.decode_s_per_token)}/step = {self.decode_tokens_per_s:.1f} tokens/s "
                + tail)


def prefill(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """One forward pass over the prompt with a fresh KV cache, and the first new token (greedy): the prefill phase."""
    outputs = model(**inputs, use_cache=True, logits_to_keep=1)
    return outputs.logits[:, -1].argmax(-1)


def time_generation(
    model: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    *,
    new_tokens: int = 32,
    warmup: int = 1,
    repeats: int = 5,
    **generate_kwargs: Any,
) -> GenerationTiming:
    """Time greedy generation of exactly `new_tokens` tokens, split into prefill and decode (see GenerationTiming).

    min_new_tokens pins the length so an early end-of-sequence cannot shorten it; generate_kwargs go to every
    generate() call (e.g. cache_implementation="static", whose time to first token is then generate(1)'s).
    """
    if new_tokens < 2:
        raise ValueError(f"new_tokens must be >= 2 to separate prefill from decode, got {new_tokens}")
    device = inputs["input_ids"].device
    kwargs = dict(do_sample=False, **generate_kwargs)

    def generate(n: int) -> Callable[[], None]:
        def call() -> None:
            model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, **kwargs)
        return call

    def first_token() -> None:
        prefill(model, inputs)

    one_fn, full_fn = generate(1), generate(new_tokens)
    # With a non-default cache (static: compiled on GPUs) the first token comes from generate() itself, so time to
    # first token measures that path, not a plain dynamic-cache forward pass.
    through_generate = "cache_implementation" in generate_kwargs
    firsts, ones, fulls = [], [], []
    with torch.inference_mode():
        for _ in range(warmup):
            first_token(), one_fn(), full_fn()
        for _ in range(repeats):
            if not through_generate:
                firsts.append(benchmark(first_token, device=device, warmup=0, repeats=1).median_s)
            ones.append(benchmark(one_fn, device=device, warmup=0, repeats=1).median_s)
            fulls.append(benchmark(full_fn, device=device, warmup=0, repeats=1).median_s)
    method = "CUDA events" if device.type == "cuda" else "perf_counter"
    batch, prompt = inputs["input_ids"].shape
    return GenerationTiming(
        Timing.from_samples(ones if through_generate else firsts,
                            method + (", generate(1)" if through_generate else ", prefill forward")),
        Timing.from_samples(fulls, method),
        Timing.from_samples([b - a for a, b in zip(ones, fulls)], method + ", paired difference"),
        batch_size=batch, prompt_tokens=prompt, new_tokens=new_tokens,
    )


@dataclass(frozen=True)
class Bandwidth:
    """Achievable memory bandwidth from a large device-to-device copy (bytes read + bytes written per second)."""

    bytes_per_s: float
    copy_bytes: int
    timing: Timing
    device: str
    source: str = "measured in this notebook"

    @property
    def gb_per_s(self) -> float:
        return self.bytes_per_s / 1e9

    def __str__(self) -> str:
        spread = (f"{2 * self.copy_bytes / self.timing.q3_s / 1e9:.1f}-{2 * self.copy_bytes / self.timing.q1_s / 1e9:.1f}"
                  if self.timing.q1_s > 0 else "?")
        return (f"{self.gb_per_s:.1f} GB/s achievable copy bandwidth on {self.device} (middle half of the copies: "
                f"{spread} GB/s; {self.copy_bytes / 2**20:.0f} MiB copied, n={self.timing.n}, {self.source})")

    def save(self, folder: str | Path) -> Path:
        """Keep this measurement for the other notebooks of a run (the runner measures once, before them)."""
        from .files import write_atomic

        path = Path(folder) / f"bandwidth-{_device_key(self.device)}.json"
        data = dict(bytes_per_s=self.bytes_per_s, copy_bytes=self.copy_bytes, device=self.device,
                    samples_s=list(self.timing.samples_s), method=self.timing.method)
        write_atomic(path, json.dumps(data))
        return path


def measure_bandwidth(device: str | torch.device = "cpu", size_bytes: int | None = None, repeats: int = 10) -> Bandwidth:
    """Copy a buffer much larger than any cache and count 2x its size (a read and a write) per copy.

    Defaults: 1 GiB on CUDA, 256 MiB on CPU (the copy then needs twice that in memory). Under the suite's runner every
    notebook of a run reuses the one measurement the runner took before them (so the roofline floor is the same in
    every notebook of a run); `size_bytes` forces a fresh one.
    """
    run_cache = os.environ.get("GPUGUIDE_RUN_CACHE")
    stored = Path(run_cache) / f"bandwidth-{_device_key(device)}.json" if run_cache and size_bytes is None else None
    if stored is not None and stored.is_file():
        data = json.loads(stored.read_text(encoding="utf-8"))
        return Bandwidth(data["bytes_per_s"], data["copy_bytes"], Timing.from_samples(data["samples_s"], data["method"]),
                         data["device"], source="measured once for this whole run, before its notebooks started")
    device = torch.device(device)
    if size_bytes is None:
        size_bytes = 2**30 if device.type == "cuda" else 2**28
    n = size_bytes // 4
    src = torch.ones(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    timing = benchmark(lambda: dst.copy_(src), device=device, warmup=2, repeats=repeats)
    moved = 2 * n * 4
    del src, dst
    return Bandwidth(bytes_per_s=moved / timing.median_s, copy_bytes=n * 4, timing=timing, device=str(device))


def _device_key(device: str | torch.device) -> str:
    """'cpu', 'cuda:0': one file name per physical device ('cuda' is the current one)."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = _cuda_device(device)
    return str(device).replace(":", "-")


def forward_kwargs(model: torch.nn.Module, last_logits_only: bool = True) -> dict[str, Any]:
    """What a measured forward pass passes besides the inputs: no KV cache, and one position's logits.

    use_cache=False: a prompt's forward pass would otherwise build (and keep) a KV cache of every layer, which is
    generation state, not the forward pass being measured. logits_to_keep=1: only the last position's logits, so a
    long sequence measures attention and the layers, not a (sequence x vocabulary) logits matrix.
    """
    import inspect

    parameters = inspect.signature(model.forward).parameters
    kwargs: dict[str, Any] = {}
    if "use_cache" in parameters:
        kwargs["use_cache"] = False
    if last_logits_only and "logits_to_keep" in parameters:
        kwargs["logits_to_keep"] = 1
    return kwargs


def time_forward(model: torch.nn.Module, inputs: dict[str, torch.Tensor], *, repeats: int = 5, warmup: int = 2,
                 context: Callable[[], Any] | None = None, last_logits_only: bool = True):
    """Time one forward pass and track its peak memory; returns (Timing, MemoryReport).

    Measures the forward pass only (see forward_kwargs): no KV cache, and no output is kept alive between calls,
    so the peak of the n-th call is the peak of the first. `context` (e.g. lambda: sdpa_kernel(...)) wraps every
    call. Compute outputs you want to inspect with a separate call.
    """
    import contextlib

    from .memory import track_memory

    device = inputs["input_ids"].device
    kwargs = forward_kwargs(model, last_logits_only)
    make_context = context or contextlib.nullcontext

    def call() -> None:
        with make_context():
            model(**inputs, **kwargs)  # the result is dropped at once: nothing outlives the call

    with torch.inference_mode(), track_memory(device) as mem:
        call()
        timing = benchmark(call, device=device, warmup=warmup, repeats=repeats)
    return timing, mem.report
