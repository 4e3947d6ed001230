"""The runner's view of the run profiles (defined once in gpuguide_utils.profiles): pick one for this machine."""

from __future__ import annotations

from gpuguide_utils.env import Environment
from gpuguide_utils.profiles import FULL_GPU_BYTES, PROFILES, SIZES, Profile, resolve_profile

__all__ = ["FULL_GPU_BYTES", "PROFILES", "SIZES", "Profile", "pick"]


def pick(name: str, env: Environment) -> Profile:
    """Resolve 'auto' by the hardware found; refuse a GPU profile where there is no CUDA device."""
    return resolve_profile(name, env.device_type == "cuda", env.total_memory_bytes)
