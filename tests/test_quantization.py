import torch

from gpuguide_utils.models import load_model
from gpuguide_utils.quantization import (
    FORMAT_BITS, code_book, expected_footprint, int8_matmul, llm_int8_demo, quantized_modules, round_trip_error,
)


def test_llm_int8_decomposition_beats_plain_int8_with_an_outlier_column():
    torch.manual_seed(0)
    x = torch.randn(16, 64)
    x[:, 3] *= 50
    w = torch.randn(64, 8) * 0.05
    demo = llm_int8_demo(x, w)
    assert demo.outlier_columns == [3] and demo.error_llm_int8 < demo.error_int8 / 3
    assert torch.allclose(int8_matmul(torch.randn(4, 8) * 0, w[:8]), torch.zeros(4, 8))


def test_code_books_and_nf4_fits_normal_weights_better():
    assert len(code_book("nf4")) == 16 and code_book("nf4")[0] == -1.0
    weights = torch.randn(256, 256) * 0.02
    assert round_trip_error(weights, "nf4") < round_trip_error(weights, "fp4")


def test_expected_footprint_counts_linear_weights_at_the_format_bits():
    reference = load_model("tiny-llama", dtype="float32")
    full = expected_footprint(reference, 32)
    assert abs(full - sum(p.numel() * 4 for p in reference.parameters())) < 4096  # only buffers differ
    assert expected_footprint(reference, FORMAT_BITS["nf4"]) < expected_footprint(reference, FORMAT_BITS["int8"]) < full
    assert quantized_modules(reference) == {"Linear": 29}
