import pytest
import torch

from gpuguide_utils.params import ParameterError, check_parameters


def test_good_parameters_resolve_auto():
    s = check_parameters("tiny-llama", "auto", "auto", batch_size=2)
    assert s.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert s.batch_size == 2 and s.source.kind == "preset"


@pytest.mark.parametrize("kwargs, message", [
    (dict(model_id="nope"), "model_id='nope' is not a preset"),
    (dict(model_id="tiny-llama", dtype="float8"), "dtype='float8' is not supported; choose one of: auto, float32"),
    (dict(model_id="tiny-llama", device="tpu"), "device='tpu' is not valid; choose one of: auto, cpu, cuda"),
    (dict(model_id="tiny-llama", batch_size=0), "batch_size=0 must be a positive integer"),
    (dict(model_id="tiny-llama", seq_len=-3), "seq_len=-3 must be a positive integer"),
    (dict(model_id="tiny-llama", repeats=2.5), "repeats=2.5 must be a positive integer"),
])
def test_bad_parameters_name_parameter_value_and_choices(kwargs, message):
    with pytest.raises(ParameterError) as info:
        check_parameters(**kwargs)
    assert message in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_parameter_error():
    with pytest.raises(ParameterError, match="device='cuda' but no CUDA device"):
        check_parameters("tiny-llama", device="cuda")


def test_lists_of_sizes_and_ranges():
    from gpuguide_utils.params import check_range

    assert check_parameters("tiny-llama", "cpu", batch_sizes=[1, 2]).batch_sizes == [1, 2]
    with pytest.raises(ParameterError, match=r"batch_sizes=\[1, 0\] must be a non-empty list of positive integers"):
        check_parameters("tiny-llama", "cpu", batch_sizes=[1, 0])
    with pytest.raises(ParameterError, match=r"pad_fraction=0.7 must be a number in \[0, 0.5\)"):
        check_range("pad_fraction", 0.7, 0, 0.5)


def test_wrong_environment_is_named_in_one_message():
    from gpuguide_utils.params import check_environment

    with pytest.raises(ParameterError, match=r"runs in the 'ort' environment .* transformers 5\.\S+ \(needs 4\.57\.6\)"):
        check_environment("ort")
