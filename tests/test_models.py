import math

import pytest
import torch

from gpuguide_utils import models
from gpuguide_utils.models import PRESETS, load_model, load_tokenizer, make_inputs, resolve

TINY = [name for name, p in PRESETS.items() if p.tiny]


def test_preset_names_cover_the_guide():
    for name in ["tiny-llama", "tiny-falcon", "tiny-opt", "tiny-bloom", "tiny-bert", "tiny-distilbert-classifier",
                 "llama-2-7b", "falcon-7b", "opt-350m", "bloom-560m", "distilbert-base-classifier"]:
        assert name in PRESETS


@pytest.mark.parametrize("name", TINY)
def test_tiny_preset_loads_through_from_pretrained_with_its_tokenizer(name):
    path = models.build_preset(name)
    assert (path / "model.safetensors").exists() and not list(path.glob("*.bin"))
    model = load_model(name, dtype="float32")
    tokenizer = load_tokenizer(name)
    enc = tokenizer(["a short sentence", "a somewhat longer second sentence"], return_tensors="pt", padding=True)
    assert ("token_type_ids" in enc) == (PRESETS[name].family == "bert")
    assert tokenizer.decode(tokenizer("GPU 内存 ذاكرة", add_special_tokens=False)["input_ids"]) == "GPU 内存 ذاكرة"
    with torch.inference_mode():
        out = model(**enc)
    assert torch.isfinite(out.logits).all()


@pytest.mark.parametrize("name, expected", [
    ("llama-2-7b", 6.74e9), ("falcon-7b", 6.92e9), ("tinyllama-1.1b", 1.10e9), ("opt-350m", 331e6), ("bloom-560m", 559e6),
    ("distilbert-base-classifier", 67.0e6),
])
def test_real_size_shapes_have_the_real_parameter_counts(name, expected):
    preset = PRESETS[name]
    config = models._config_for(preset, vocab_size=4096)
    with torch.device("meta"):  # shapes only: nothing is allocated
        model = models._auto_class(preset.task).from_config(config)
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - expected) / expected < 0.01, n


def test_weights_are_normal_with_the_configs_initializer_range():
    model = load_model("tiny-llama", dtype="float32")
    w = model.model.layers[0].mlp.up_proj.weight.detach().flatten().double()
    std = w.std().item()
    kurtosis = (((w - w.mean()) / w.std()) ** 4).mean().item()
    assert math.isclose(std, model.config.initializer_range, rel_tol=0.05)
    assert abs(kurtosis - 3.0) < 0.3, "a normal distribution has kurtosis 3 (uniform: 1.8)"


def test_one_loader_for_preset_local_dir_and_hub_id(tmp_path):
    assert resolve("tiny-llama").kind == "preset"
    local = tmp_path / "ckpt"
    load_model("tiny-opt").save_pretrained(local)
    load_tokenizer("tiny-opt").save_pretrained(local)
    assert resolve(str(local)).kind == "local"
    assert load_model(str(local), dtype="float16").dtype == torch.float16
    with pytest.raises(ValueError, match="looks like a hub id but its config cannot be read"):
        resolve("meta-llama/Llama-2-7b-hf")  # offline (HF_HUB_OFFLINE=1): said clearly, not a random model


def test_unknown_model_id_lists_presets(tmp_path):
    with pytest.raises(ValueError, match="presets: tiny-llama"):
        resolve("tiny-lama")
    with pytest.raises(ValueError, match="not a preset"):
        resolve(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="without config.json"):
        resolve(str(tmp_path / "empty"))


def test_loader_options_take_the_real_path():
    model = load_model("tiny-llama", dtype="bfloat16", attn_implementation="eager")
    assert model.dtype == torch.bfloat16 and model.config._attn_implementation == "eager"
    model.set_attn_implementation("sdpa")
    assert model.config._attn_implementation == "sdpa"


def test_bitsandbytes_quantization_config_loads_on_this_device():
    from transformers import BitsAndBytesConfig

    model = load_model("tiny-llama", dtype="float32", quantization_config=BitsAndBytesConfig(load_in_8bit=True))
    assert model.model.layers[0].mlp.up_proj.weight.dtype == torch.int8


def test_classifier_preset_task_is_detected():
    model = load_model("tiny-distilbert-classifier")
    assert type(model).__name__ == "DistilBertForSequenceClassification"
    assert models.resolve(str(models.build_preset("tiny-bert"))).task == "sequence-classification"


def test_a_base_encoder_checkpoint_loads_without_an_invented_head(tmp_path):
    from transformers import AutoModel

    base = tmp_path / "bert-base"
    AutoModel.from_pretrained(models.build_preset("tiny-bert")).save_pretrained(base)  # drops the classifier head
    load_tokenizer("tiny-bert").save_pretrained(base)
    source = resolve(str(base))
    assert source.task == "encoder" and source.architecture == "BertModel"
    assert type(load_model(str(base))).__name__ == "BertModel"
    with pytest.raises(ValueError, match="refusing to fill them at random"):
        load_model(str(base), task="sequence-classification")


def test_random_presets_initialize_every_parameter_once():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Conv1d(1, 1, 3))
    with pytest.raises(RuntimeError, match="does not know how to initialize: 1.weight"):
        models.randomize_weights(model, 0.02)


def test_make_inputs_is_deterministic():
    tok = load_tokenizer("tiny-llama")
    a, b = make_inputs(tok, 3, 20), make_inputs(tok, 3, 20)
    assert a["input_ids"].shape == (3, 20) and torch.equal(a["input_ids"], b["input_ids"])


def test_changed_preset_definition_gets_a_new_cache_dir(monkeypatch):
    before = models.preset_dir("tiny-llama")
    changed = models.Preset(**{**PRESETS["tiny-llama"].__dict__, "config": {**PRESETS["tiny-llama"].config, "num_hidden_layers": 2}})
    monkeypatch.setitem(PRESETS, "tiny-llama", changed)
    assert models.preset_dir("tiny-llama") != before


def test_a_saved_quantized_checkpoint_reloads_through_the_same_loader(tmp_path):
    from transformers import BitsAndBytesConfig

    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
    model = load_model("tiny-llama", dtype="float32", quantization_config=config)
    model.save_pretrained(tmp_path / "nf4")
    reloaded = load_model(str(tmp_path / "nf4"))
    assert type(reloaded.model.layers[0].mlp.up_proj.weight).__name__ == "Params4bit"
    inputs = make_inputs(load_tokenizer("tiny-llama"), 1, 8)
    with torch.inference_mode():
        assert torch.equal(model(**inputs).logits, reloaded(**inputs).logits)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75])
def test_padded_inputs_reach_the_asked_padding(fraction):
    from gpuguide_utils.models import make_padded_inputs

    for name in ("tiny-bert", "tiny-llama"):
        tok = load_tokenizer(name)
        inputs, reached = make_padded_inputs(tok, 8, 64, fraction)
        assert abs(reached - fraction) < 0.02
        assert inputs["attention_mask"][0].all(), "the first row sets the padded length"
        pad_side_col = 0 if tok.padding_side == "left" else -1
        if fraction:
            assert not inputs["attention_mask"][1, pad_side_col]
    with pytest.raises(ValueError, match="pad_fraction=0.9"):
        make_padded_inputs(load_tokenizer("tiny-bert"), 8, 64, 0.9)
