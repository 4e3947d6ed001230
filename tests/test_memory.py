import pytest
import torch

from gpuguide_utils.memory import MemoryTracker, format_bytes, model_footprint


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.50 KiB"
    assert format_bytes(3 * 2**30) == "3.00 GiB"
    assert format_bytes(None) == "n/a"


def test_cpu_tracker_measures_a_known_allocation_within_10_percent():
    size = 256 * 2**20
    with MemoryTracker("cpu") as mem:
        block = torch.ones(size // 4, dtype=torch.float32)  # touched pages: really resident
        del block
    report = mem.report
    assert report.method.startswith("CPU peak RSS")
    assert abs(report.increase_bytes - size) / size < 0.10, str(report)


def test_footprint_is_parameters_times_bytes(tiny_llama):
    model, _ = tiny_llama
    n = model.num_parameters()  # what 00 teaches
    # Buffers (rotary tables) add a little; parameters dominate.
    assert n * 4 <= model_footprint(model) <= n * 4 * 1.01
    half = model.to(torch.float16)
    try:
        assert n * 2 <= model_footprint(half) <= n * 2 * 1.01
    finally:
        model.to(torch.float32)


@pytest.mark.gpu
def test_cuda_peak_equals_max_memory_allocated():
    with MemoryTracker("cuda") as mem:
        x = torch.ones(64 * 2**20, device="cuda")
        y = x * 2
        del x, y
    assert mem.report.peak_bytes == torch.cuda.max_memory_allocated()
    assert mem.report.peak_reserved_bytes >= mem.report.peak_bytes
    assert mem.report.increase_bytes >= 2 * 64 * 2**20 * 4


def test_quantized_footprint_counts_the_scales_beside_the_weights():
    from gpuguide_utils.models import load_model
    from transformers import BitsAndBytesConfig

    four = dict(load_in_4bit=True, bnb_4bit_compute_dtype=torch.float32, bnb_4bit_quant_type="nf4")
    nf4 = model_footprint(load_model("tiny-llama", dtype="float32", quantization_config=BitsAndBytesConfig(**four)))
    double = model_footprint(load_model("tiny-llama", dtype="float32",
                                        quantization_config=BitsAndBytesConfig(**four, bnb_4bit_use_double_quant=True)))
    assert double < nf4, "double quantization shrinks the block scales, which the footprint must see"
