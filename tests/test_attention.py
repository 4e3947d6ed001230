import torch
from torch.nn.attention import SDPBackend

from gpuguide_utils import load_model
from gpuguide_utils.attention import (
    attempt,
    attention_flops,
    capture_warnings,
    chosen_backend,
    flash_path,
    heads_and_head_dim,
    peak_tflops,
    score_matrix_bytes,
    supported_implementations,
    switch_attention,
)
from tests.test_env import fake_env


def test_flash_path_labels_what_runs():
    assert flash_path(fake_env(compute_capability=(9, 0), versions={"flash-attn": "2.8.3"})).attn_implementation == "flash_attention_2"
    no_package = flash_path(fake_env(compute_capability=(8, 0)))
    assert no_package.sdpa_backend == SDPBackend.FLASH_ATTENTION and "FLASH_ATTENTION backend" in no_package.label
    assert "flash_attn is not installed" in no_package.reason
    t4 = flash_path(fake_env())
    assert t4.sdpa_backend is None and "sm80+" in t4.reason
    cpu = flash_path(fake_env(device_type="cpu", compute_capability=None))
    assert "CPU kernel" in cpu.label


def test_switch_attention_in_place_and_by_reload():
    llama = load_model("tiny-llama", attn_implementation="eager")
    assert switch_attention(llama, "sdpa") is llama and llama.config._attn_implementation == "sdpa"
    falcon = load_model("tiny-falcon", attn_implementation="sdpa")
    switched = switch_attention(falcon, "eager")
    assert switched.config._attn_implementation == "eager"


def test_supported_implementations_and_shapes():
    model = load_model("tiny-llama")
    support = supported_implementations(model)
    assert support["eager"] and support["sdpa"]
    assert heads_and_head_dim(model.config) == (8, 32)
    assert score_matrix_bytes(1, 8, 1024, torch.float16) == 8 * 1024 * 1024 * 2
    assert attention_flops(1, 1, 2, 3, causal=False) == 4 * 4 * 3 == 2 * attention_flops(1, 1, 2, 3, causal=True)


def test_chosen_backend_and_refusal_message():
    q = torch.randn(1, 2, 16, 8)
    assert chosen_backend(q, q, q) in {"FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH", "CUDNN_ATTENTION"} or \
        chosen_backend(q, q, q).startswith("unknown")
    from torch.nn.attention import sdpa_kernel

    def only_efficient():
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(q, q, q)

    if not torch.cuda.is_available():
        outcome = attempt(only_efficient)
        assert not outcome.ok and outcome.error.startswith("RuntimeError: No viable backend")


def test_peak_tflops_names_its_source():
    assert peak_tflops("NVIDIA H100 80GB HBM3") == (989.0, "NVIDIA H100 datasheet (SXM, dense BF16)")
    assert peak_tflops("NVIDIA H100 PCIe")[0] == 756.0
    assert peak_tflops("AMD EPYC") is None


def test_capture_warnings_collects_transformers_logs():
    from transformers.utils import logging as hf_logging

    with capture_warnings() as captured:
        hf_logging.get_logger("transformers.test").warning("a logged warning")
        import warnings

        warnings.warn("a python warning")
    assert "a logged warning" in captured.messages and "a python warning" in captured.messages
