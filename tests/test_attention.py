import torch
from torch.nn.attention import SDPBackend

from gpuguide_utils.models import load_model, load_tokenizer, make_inputs
from gpuguide_utils.attention import (
    attempt,
    attention_flops,
    capture_warnings,
    eager_attention_peak_bytes,
    flash_path,
    fused_sdpa_check,
    heads_and_head_dim,
    kv_cache_dimensions,
    peak_tflops,
    profiled_attention_ops,
    score_matrix_bytes,
    supported_implementations,
)
from tests.test_env import fake_env


def test_flash_path_labels_what_runs(monkeypatch):
    import gpuguide_utils.env as env_module

    monkeypatch.setattr(env_module, "flash_attn_importable", lambda: (True, "ok"))
    assert flash_path(fake_env(compute_capability=(9, 0), versions={"flash-attn": "2.8.3"})).label == "flash_attention_2"
    no_package = flash_path(fake_env(compute_capability=(8, 0)))
    assert no_package.sdpa_backend == SDPBackend.FLASH_ATTENTION and no_package.label == "sdpa flash backend"
    assert "flash_attn is not installed" in no_package.reason
    t4 = flash_path(fake_env())
    assert t4.sdpa_backend is None and t4.label == "sdpa" and "sm80+" in t4.reason
    cpu = flash_path(fake_env(device_type="cpu", compute_capability=None))
    assert cpu.label == "sdpa flash backend" and "CPU kernel" in cpu.reason


def test_flash_attention_2_needs_a_kernel_that_imports_not_just_package_metadata(monkeypatch):
    import gpuguide_utils.env as env_module

    monkeypatch.setattr(env_module, "flash_attn_importable",
                        lambda: (False, "ImportError: undefined symbol: _ZN3c104cuda"))
    path = flash_path(fake_env(compute_capability=(9, 0), versions={"flash-attn": "2.8.3"}))
    assert path.attn_implementation == "sdpa" and "does not load: ImportError: undefined symbol" in path.reason


def test_falcon_is_reported_as_not_eligible_for_fused_sdpa_kernels():
    tokenizer = load_tokenizer("tiny-falcon")
    inputs = make_inputs(tokenizer, 2, 16)
    falcon = load_model("tiny-falcon", attn_implementation="sdpa")
    check = fused_sdpa_check(falcon, inputs)
    assert not check.eligible and "not eligible" in check.reason and "1 key/value head(s) for 8 query heads" in check.reason
    llama = load_model("tiny-llama", attn_implementation="sdpa")
    assert fused_sdpa_check(llama, make_inputs(load_tokenizer("tiny-llama"), 2, 16)).eligible


def test_profiler_shows_which_sdpa_kernel_ran():
    from torch.nn.attention import sdpa_kernel
    from torch.profiler import ProfilerActivity, profile

    q = torch.randn(1, 2, 64, 16)
    with profile(activities=[ProfilerActivity.CPU]) as prof, sdpa_kernel(SDPBackend.MATH):
        torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    names = [name for name, _ in profiled_attention_ops(prof)]
    assert any("scaled_dot_product_attention_math" in n for n in names)
    with profile(activities=[ProfilerActivity.CPU]) as prof, sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert any("flash" in name for name, _ in profiled_attention_ops(prof))


def test_supported_implementations_and_shapes():
    model = load_model("tiny-llama")
    support = supported_implementations(model)
    assert support["eager"] and support["sdpa"]
    assert heads_and_head_dim(model.config) == (8, 32)
    assert score_matrix_bytes(1, 8, 1024, torch.float16) == 8 * 1024 * 1024 * 2
    assert attention_flops(1, 1, 2, 3, causal=False) == 4 * 4 * 3 == 2 * attention_flops(1, 1, 2, 3, causal=True)


def test_kv_cache_dimensions_match_the_cache_a_forward_keeps():
    """The formula 2 x layers x kv heads x head size x tokens x batch x bytes equals what the cache holds."""
    for name in ["tiny-llama", "tiny-falcon"]:  # one key-value head per query head; multi-query (one)
        model = load_model(name)
        layers, kv_heads, head_dim = kv_cache_dimensions(model.config)
        inputs = make_inputs(load_tokenizer(name), 2, 16)
        with torch.inference_mode():
            cache = model(**inputs, use_cache=True).past_key_values
        held = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
        assert held == 2 * layers * kv_heads * head_dim * 16 * 2 * model.dtype.itemsize, name
    assert kv_cache_dimensions(model.config)[1] == 1


def test_eager_transient_peak_is_more_than_one_score_matrix():
    one = score_matrix_bytes(1, 32, 4096, torch.bfloat16)
    assert eager_attention_peak_bytes(1, 32, 4096, torch.bfloat16) == 4 * one
    assert eager_attention_peak_bytes(1, 32, 4096, torch.float32) == 3 * score_matrix_bytes(1, 32, 4096, torch.float32)


def test_refusal_message():
    q = torch.randn(1, 2, 16, 8)
    from torch.nn.attention import sdpa_kernel

    def only_efficient():
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(q, q, q)

    if not torch.cuda.is_available():
        outcome = attempt(only_efficient)
        assert not outcome.ok and outcome.error.startswith("RuntimeError: No viable backend")


def test_peak_tflops_matches_exact_models_only():
    assert peak_tflops("NVIDIA H100 80GB HBM3") == (989.0, "NVIDIA H100 datasheet (SXM, dense BF16)")
    assert peak_tflops("NVIDIA H100 PCIe")[0] == 756.0
    assert peak_tflops("NVIDIA H100 NVL")[0] == 835.0
    assert peak_tflops("NVIDIA L40S")[0] == 362.0 and peak_tflops("NVIDIA L4")[0] == 121.0
    assert peak_tflops("NVIDIA A10G") is None and peak_tflops("NVIDIA A10")[0] == 125.0
    assert peak_tflops("AMD EPYC") is None


def test_capture_warnings_collects_transformers_logs():
    from transformers.utils import logging as hf_logging

    with capture_warnings() as captured:
        hf_logging.get_logger("transformers.test").warning("a logged warning")
        import warnings

        warnings.warn("a python warning")
    assert "a logged warning" in captured.messages and "a python warning" in captured.messages
