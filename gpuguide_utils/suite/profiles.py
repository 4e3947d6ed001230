"""Run profiles: how big the models are and how long a notebook may take, picked by hardware when 'auto'."""

from __future__ import annotations

from dataclasses import dataclass

from ..env import Environment


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    needs_cuda: bool
    timeout_s: int  # per notebook, enforced by the runner


PROFILES = {
    "cpu": Profile("cpu", "tiny presets on the CPU; each notebook <= 30 s on 2 cores", False, 600),
    "gpu-small": Profile("gpu-small", "small real shapes that fit a 16 GB T4; minutes per notebook", True, 1800),
    "gpu-full": Profile("gpu-full", "real-size shapes (Llama-2-7B, Falcon-7B) on a >= 40 GB GPU", True, 3600),
}
FULL_GPU_BYTES = 40 * 10**9


def pick(name: str, env: Environment) -> Profile:
    """Resolve 'auto' by the hardware found; refuse a GPU profile where there is no CUDA device."""
    if name == "auto":
        if env.device_type != "cuda":
            return PROFILES["cpu"]
        return PROFILES["gpu-full" if (env.total_memory_bytes or 0) >= FULL_GPU_BYTES else "gpu-small"]
    if name not in PROFILES:
        raise ValueError(f"profile={name!r} is not valid; choose one of: auto, {', '.join(PROFILES)}")
    profile = PROFILES[name]
    if profile.needs_cuda and env.device_type != "cuda":
        raise ValueError(f"profile={name!r} needs a CUDA device and this machine has none; use --profile cpu")
    return profile
