import pytest
import torch

from gpuguide_utils.params import ParameterError, check_parameters
from gpuguide_utils.profiles import SIZES, by_hardware


def test_values_left_at_none_come_from_the_profile():
    s = check_parameters("00_measuring", "cpu", batch_size=2)
    assert s.profile == "cpu" and s.device == "cpu" and s.dtype == "float32"
    assert s.batch_size == 2 and "batch_size" not in s.from_profile
    assert s.prompt_len == SIZES["00_measuring"]["cpu"]["prompt_len"] and "prompt_len" in s.from_profile
    assert s.source.kind == "preset" and s.checkpoint == s.checkpoints["model_id"]


def test_auto_profile_follows_the_hardware():
    s = check_parameters("00_measuring", "auto")
    assert s.profile == ("cpu" if not torch.cuda.is_available() else s.profile)
    assert by_hardware(False, None) == "cpu"
    assert by_hardware(True, 16 * 2**30) == "gpu-small"
    assert by_hardware(True, 40 * 10**9) == "gpu-small", "a 40 GB card does not hold gpu-full's sizes"
    assert by_hardware(True, 80 * 10**9) == "gpu-full"


@pytest.mark.parametrize("kwargs, message", [
    (dict(model_id="nope"), "model_id='nope' is not a preset"),
    (dict(dtype="float8"), "dtype='float8' is not supported; choose one of: auto, float32"),
    (dict(device="tpu"), "device='tpu' is not valid; choose one of: auto, cpu, cuda"),
    (dict(batch_size=0), "batch_size=0 must be a positive integer"),
    (dict(prompt_len=-3), "prompt_len=-3 must be a positive integer"),
    (dict(repeats=2.5), "repeats=2.5 must be a positive integer"),
    (dict(seq_len=4), "seq_len is not a parameter of 00_measuring; parameters: model_id, device"),
])
def test_bad_parameters_name_parameter_value_and_choices(kwargs, message):
    with pytest.raises(ParameterError) as info:
        check_parameters("00_measuring", "cpu", **kwargs)
    assert message in str(info.value)


def test_bad_profile_and_notebook():
    with pytest.raises(ParameterError, match="profile='huge' is not valid; choose one of: auto, cpu, gpu-small, gpu-full"):
        check_parameters("00_measuring", "huge")
    with pytest.raises(ParameterError, match="notebook='99_nope' is not known"):
        check_parameters("99_nope")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_parameter_error():
    with pytest.raises(ParameterError, match="needs a CUDA device"):
        check_parameters("00_measuring", "gpu-small")
    with pytest.raises(ParameterError, match="device='cuda' but no CUDA device"):
        check_parameters("00_measuring", "cpu", device="cuda")


def test_lists_of_sizes_and_ranges():
    from gpuguide_utils.params import check_range

    assert check_parameters("01_flash_attention_2", "cpu", batch_sizes=[1, 2]).batch_sizes == [1, 2]
    with pytest.raises(ParameterError, match=r"batch_sizes=\[1, 0\] must be a non-empty list of positive integers"):
        check_parameters("01_flash_attention_2", "cpu", batch_sizes=[1, 0])
    with pytest.raises(ParameterError, match=r"pad_fraction=0.7 must be a number in \[0, 0.5\)"):
        check_range("pad_fraction", 0.7, 0, 0.5)


def test_a_checkpoint_without_the_head_a_notebook_needs_is_refused(tmp_path):
    from transformers import AutoConfig, AutoModel

    from gpuguide_utils.models import resolve

    base = tmp_path / "base-llama"
    config = AutoConfig.from_pretrained(resolve("tiny-llama").path)
    AutoModel.from_config(config).save_pretrained(base)
    with pytest.raises(ParameterError, match="without a language-model head"):
        check_parameters("00_measuring", "cpu", model_id=str(base))


def test_wrong_environment_is_named_in_one_message():
    from gpuguide_utils.params import check_environment

    with pytest.raises(ParameterError, match=r"runs in the 'ort' environment .* transformers 5\.\S+ \(needs 4\.57\.6\)"):
        check_environment("ort")
