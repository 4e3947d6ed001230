from dataclasses import replace

import pytest

from gpuguide_utils.env import Environment, capabilities, capability, describe, report


def fake_env(**overrides) -> Environment:
    base = Environment(
        device_type="cuda", device_name="Tesla T4", compute_capability=(7, 5), total_memory_bytes=16 * 2**30,
        driver_version="550.54", cuda_version="12.8", cpu_name="test cpu", cpu_threads=2, python_version="3.11",
        versions={"torch": "2.13.0", "bitsandbytes": "0.50.2", "flash-attn": None, "onnxruntime": None},
        ort_providers=[],
    )
    return replace(base, **overrides)


def test_describe_names_device_and_versions():
    env = describe()
    assert env.device_type in ("cpu", "cuda")
    assert env.device_name
    for package in ("torch", "transformers", "bitsandbytes", "flash-attn", "optimum", "onnxruntime"):
        assert package in env.versions
    assert env.versions["torch"]
    text = str(report(env))
    assert env.label in text and "FlashAttention-2" in text


def test_flash_attention_needs_sm80_with_exact_reason():
    cap = capability("flash_attention_2", fake_env())
    assert not cap and cap.reason == "FlashAttention-2 needs sm80+, this GPU is sm75: eager and SDPA only"


def test_flash_attention_needs_the_package():
    cap = capability("flash_attention_2", fake_env(compute_capability=(8, 0), device_name="A100"))
    assert not cap and cap.reason.startswith("flash_attn is not installed")
    installed = fake_env(compute_capability=(9, 0), versions={"flash-attn": "2.8.3"})
    cap = capability("flash_attention_2", installed)  # metadata alone is not enough: the kernel must import
    assert not cap and "installed but its kernel does not load" in cap.reason


def test_no_cuda_reasons():
    env = fake_env(device_type="cpu", device_name="cpu", compute_capability=None)
    caps = capabilities(env)
    assert caps["cuda"].reason == "no CUDA device"
    assert caps["sdpa_flash_backend"] and "CPU flash-attention kernel" in caps["sdpa_flash_backend"].reason
    assert not caps["flash_attention_2"]
    assert caps["sdpa"]
    assert caps["bitsandbytes_4bit"], "bitsandbytes >= 0.48 runs on CPU"
    old = fake_env(device_type="cpu", compute_capability=None, versions={"bitsandbytes": "0.45.0"})
    assert not capability("bitsandbytes_8bit", old)


def test_bf16_needs_ampere_on_gpu():
    assert capability("bf16", fake_env()).reason == "bfloat16 needs sm80+, this GPU is sm75: the notebooks compute in float16 here"


@pytest.mark.parametrize("capability_, expected", [((7, 5), "float16"), ((8, 0), "bfloat16"), ((9, 0), "bfloat16")])
def test_auto_dtype_never_picks_emulated_bf16_and_agrees_with_the_report(monkeypatch, capability_, expected):
    import torch

    from gpuguide_utils.params import resolve_dtype

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability_)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)  # as on a T4
    assert resolve_dtype("auto", "cuda") == expected
    report_says = bool(capability("bf16", fake_env(compute_capability=capability_)))
    assert report_says == (expected == "bfloat16")


def test_report_is_short_by_default_and_full_on_request():
    env = fake_env(device_type="cpu", device_name="cpu", compute_capability=None)
    short, full = str(report(env)), str(report(env, full=True))
    assert "transformers" in short and "Python" not in short and "not here: CUDA device" in short
    assert "Python" in full and len(full.splitlines()) > len(short.splitlines())


def test_unknown_technique_lists_the_known_ones():
    with pytest.raises(KeyError, match="flash_attention_2"):
        capability("warp_drive", fake_env())
