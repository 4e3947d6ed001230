"""Run profiles and each notebook's sizes per profile: the one source for both the runner and a notebook opened by hand.

A notebook's parameters cell leaves sizes at None; `check_parameters` fills them from the profile that fits this
machine (or the one named), so a notebook opened in Colab on a T4 runs T4 sizes without any edit, and the runner's
`--profile` and `-p` overrides go through the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Profile", "PROFILES", "FULL_GPU_BYTES", "SIZES", "is_model_parameter", "role_of", "by_hardware",
           "resolve_profile", "sizes_for"]


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    needs_cuda: bool
    timeout_s: int  # per notebook, enforced by the runner


PROFILES = {
    "cpu": Profile("cpu", "tiny presets on the CPU; each notebook within about a minute on 2 cores", False, 900),
    "gpu-small": Profile("gpu-small", "small real shapes that fit a 16 GB GPU such as a T4; minutes per notebook",
                         True, 1800),
    "gpu-full": Profile("gpu-full", "real-size shapes (Llama-2-7B, Falcon-7B) on a GPU with >= 70 GB, such as an "
                        "A100 80GB or H100", True, 3600),
}
#: gpu-full keeps several 7B models, 64k-token sequences and batch 8 x 4096 resident: it is sized for an 80 GB card.
FULL_GPU_BYTES = 70 * 10**9

#: Sizes of every notebook per profile. Keys are the notebook's parameter names; the parameters cell leaves them None.
#: gpu-small fits a 16 GB T4 (sm75: float16, no flash kernel, so 01 compares eager attention with SDPA's
#: memory-efficient kernel); 01's memory sweep reaches 32768 tokens so that eager runs out of memory on an 80 GB card
#: too (on a T4 it does from 8192), and 03 decodes 32 tokens so that its int8 rows fit the GPU recipe's second call.
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "00_measuring": {
        "cpu": dict(model_id="tiny-llama", device="cpu", dtype="float32", batch_size=1, prompt_len=64, new_tokens=16,
                    repeats=5, matmul_size=256),
        "gpu-small": dict(model_id="opt-350m", device="cuda", dtype="auto", batch_size=1, prompt_len=256, new_tokens=64,
                          repeats=10, matmul_size=4096),
        "gpu-full": dict(model_id="llama-2-7b", device="cuda", dtype="auto", batch_size=1, prompt_len=512,
                         new_tokens=64, repeats=10, matmul_size=8192),
    },
    "01_flash_attention_2": {
        "cpu": dict(model_id="tiny-llama", second_model_id="tiny-falcon", quality_model_id="trained-llama",
                    device="cpu", dtype="float32", seq_lens=[128, 512], batch_sizes=[1, 4], memory_seq_lens=[128, 512, 1024],
                    padded_seq_lens=[64, 256], repeats=5),
        "gpu-small": dict(model_id="tinyllama-1.1b", second_model_id="opt-350m", quality_model_id="trained-llama",
                          device="cuda", dtype="auto", seq_lens=[512, 2048], batch_sizes=[1, 2, 4],
                          memory_seq_lens=[1024, 2048, 4096, 8192, 16384, 32768], padded_seq_lens=[256, 2048],
                          repeats=5),
        "gpu-full": dict(model_id="llama-2-7b", second_model_id="falcon-7b", quality_model_id="trained-llama",
                         device="cuda", dtype="auto", seq_lens=[512, 4096], batch_sizes=[1, 2, 4, 8],
                         memory_seq_lens=[1024, 2048, 4096, 8192, 16384, 32768, 65536], padded_seq_lens=[512, 4096],
                         repeats=5),
    },
    "02_sdpa": {
        "cpu": dict(model_id="tiny-llama", encoder_id="tiny-bert", quality_model_id="trained-llama", device="cpu",
                    dtype="float32", seq_lens=[128, 256, 512, 1024], batch_size=1, encoder_batch=8,
                    encoder_seq_len=128, repeats=5),
        "gpu-small": dict(model_id="tinyllama-1.1b", encoder_id="distilbert-base-classifier",
                          quality_model_id="trained-llama", device="cuda", dtype="auto",
                          seq_lens=[512, 1024, 2048, 4096, 8192], batch_size=1, encoder_batch=32, encoder_seq_len=256,
                          repeats=10),
        "gpu-full": dict(model_id="llama-2-7b", encoder_id="distilbert-base-classifier",
                         quality_model_id="trained-llama", device="cuda", dtype="auto",
                         seq_lens=[512, 1024, 2048, 4096, 8192, 16384], batch_size=4, encoder_batch=64,
                         encoder_seq_len=512, repeats=10),
    },
    "03_bitsandbytes": {
        "cpu": dict(model_id="tiny-llama", quality_model_id="trained-llama", device="cpu", dtype="float32",
                    batch_sizes=[1, 8], prompt_len=32, new_tokens=8, repeats=3, memory_cap_fraction=0.6),
        "gpu-small": dict(model_id="tinyllama-1.1b", quality_model_id="trained-llama", device="cuda", dtype="auto",
                          batch_sizes=[1, 8], prompt_len=128, new_tokens=32, repeats=5, memory_cap_fraction=0.6),
        "gpu-full": dict(model_id="llama-2-7b", quality_model_id="trained-llama", device="cuda", dtype="auto",
                         batch_sizes=[1, 8], prompt_len=128, new_tokens=64, repeats=5, memory_cap_fraction=0.6),
    },
    "04_bettertransformer": {
        "cpu": dict(model_id="tiny-bert", decoder_id="tiny-opt", device="cpu", dtype="float32", batch_size=8,
                    seq_len=64, repeats=3),
        "gpu-small": dict(model_id="distilbert-base-classifier", decoder_id="opt-350m", device="cuda",
                          dtype="float16", batch_size=64, seq_len=256, repeats=10),
        "gpu-full": dict(model_id="distilbert-base-classifier", decoder_id="opt-350m", device="cuda",
                         dtype="float16", batch_size=128, seq_len=512, repeats=10),
    },
    "05_optimum_onnxruntime": {
        "cpu": dict(model_id="tiny-distilbert-classifier", device="cpu", batch_sizes=[1, 8], seq_lens=[32, 128],
                    repeats=5),
        "gpu-small": dict(model_id="distilbert-base-classifier", device="cuda", batch_sizes=[1, 16, 64],
                          seq_lens=[64, 256, 512], repeats=10),
        "gpu-full": dict(model_id="distilbert-base-classifier", device="cuda", batch_sizes=[1, 16, 64, 128],
                         seq_lens=[64, 256, 512], repeats=10),
    },
    "06_combining": {
        # cpu: a round of all nine combinations takes about a second; with three rounds the intervals were so wide
        # that the recommendation's ties changed between runs, with ten it agrees in every run (stability.md)
        "cpu": dict(model_id="tiny-llama", quality_model_id="trained-llama", device="cpu", dtype="float32",
                    batch_size=1, prompt_len=64, new_tokens=8, repeats=10),
        "gpu-small": dict(model_id="tinyllama-1.1b", quality_model_id="trained-llama", device="cuda", dtype="auto",
                          batch_size=1, prompt_len=512, new_tokens=64, repeats=5),
        "gpu-full": dict(model_id="llama-2-7b", quality_model_id="trained-llama", device="cuda", dtype="auto",
                         batch_size=1, prompt_len=1024, new_tokens=64, repeats=5),
    },
    "setup_check": {  # quality_model_id: built (trained) here once, so the later notebooks find it ready
        "cpu": dict(model_id="tiny-llama", quality_model_id="trained-llama", device="cpu"),
        "gpu-small": dict(model_id="tiny-llama", quality_model_id="trained-llama", device="cuda"),
        "gpu-full": dict(model_id="tiny-llama", quality_model_id="trained-llama", device="cuda"),
    },
}


#: What a notebook uses each model parameter for (models.check_role); "causal-lm" unless listed here.
_ENCODER_PARAMETERS = {("02_sdpa", "encoder_id"), ("04_bettertransformer", "model_id"),
                       ("05_optimum_onnxruntime", "model_id")}


def is_model_parameter(name: str) -> bool:
    """Whether a notebook parameter names a model (model_id, *_model_id, encoder_id, decoder_id)."""
    return name == "model_id" or name.endswith("_model_id") or name in ("encoder_id", "decoder_id")


def role_of(notebook: str, parameter: str) -> str:
    """"encoder" for the encoder parameters above, else "causal-lm" (the notebook generates or scores tokens)."""
    return "encoder" if (notebook, parameter) in _ENCODER_PARAMETERS else "causal-lm"


def by_hardware(cuda: bool, total_memory_bytes: int | None) -> str:
    """The profile that fits a machine: cpu without CUDA, gpu-full from FULL_GPU_BYTES of GPU memory, else gpu-small."""
    if not cuda:
        return "cpu"
    return "gpu-full" if (total_memory_bytes or 0) >= FULL_GPU_BYTES else "gpu-small"


def resolve_profile(name: str, cuda: bool, total_memory_bytes: int | None) -> Profile:
    """'auto' resolved by the hardware; a GPU profile where there is no CUDA device is refused (ValueError)."""
    if name == "auto":
        return PROFILES[by_hardware(cuda, total_memory_bytes)]
    if name not in PROFILES:
        raise ValueError(f"profile={name!r} is not valid; choose one of: auto, {', '.join(PROFILES)}")
    profile = PROFILES[name]
    if profile.needs_cuda and not cuda:
        raise ValueError(f"profile={name!r} needs a CUDA device and this machine has none; use 'cpu' or 'auto'")
    return profile


def sizes_for(notebook: str, profile: str) -> dict[str, Any]:
    """A copy of one notebook's sizes on one profile (KeyError naming the known notebooks otherwise)."""
    if notebook not in SIZES:
        raise KeyError(f"no sizes for notebook {notebook!r}; known: {', '.join(SIZES)}")
    return {k: list(v) if isinstance(v, list) else v for k, v in SIZES[notebook][profile].items()}
