"""Models that work offline: presets built from configs with random weights, saved once, loaded like any checkpoint.

One loader takes a preset name, a local checkpoint directory or a hub id, and always goes through
`from_pretrained`, so `dtype`, `attn_implementation`, `quantization_config` and `device_map` take the real path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

TASKS = ("causal-lm", "sequence-classification")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_DECODER_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]  # ids 0..3 in every decoder preset's tokenizer
_ENCODER_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # ids 0..4 in every encoder preset's tokenizer


@dataclass(frozen=True)
class Preset:
    """A model shape with random weights: a config family, its arguments and the task head."""

    name: str
    family: str  # the transformers model_type: llama, falcon, opt, bloom, bert, distilbert
    task: str
    config: dict[str, Any]
    description: str
    save_dtype: str = "float32"  # real-size shapes are stored in bfloat16 to halve disk and build time
    tiny: bool = True

    @property
    def fingerprint(self) -> str:
        """Changes whenever the preset's definition (or the transformers release that writes it) does, so a stale
        cached build is never reused; environments pinned to other transformers versions build their own copy."""
        import transformers

        release = ".".join(transformers.__version__.split(".")[:2])
        spec = json.dumps([self.family, self.task, self.config, self.save_dtype, _TOKENIZER_VERSION, release],
                          sort_keys=True)
        return hashlib.sha256(spec.encode()).hexdigest()[:10]


_TOKENIZER_VERSION = 2
_TINY_VOCAB = 1024  # tokenizer (and so model) vocabulary of the tiny presets

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        # Tiny shapes: a few MB, fast on two CPU cores; same architecture code as the real models.
        Preset("tiny-llama", "llama", "causal-lm", dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4,
               num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=4096), "Llama-shaped, 4 layers, d=256"),
        Preset("tiny-falcon", "falcon", "causal-lm", dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=8,
               multi_query=True, parallel_attn=True, new_decoder_architecture=False, bias=False, alibi=False,
               max_position_embeddings=4096), "Falcon-shaped (multi-query attention), 4 layers, d=256"),
        Preset("tiny-opt", "opt", "causal-lm", dict(hidden_size=256, ffn_dim=768, num_hidden_layers=4, num_attention_heads=8,
               word_embed_proj_dim=256, max_position_embeddings=2048), "OPT-shaped, 4 layers, d=256"),
        Preset("tiny-bloom", "bloom", "causal-lm", dict(hidden_size=256, n_layer=4, n_head=8), "BLOOM-shaped (ALiBi), 4 layers, d=256"),
        Preset("tiny-bert", "bert", "sequence-classification", dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4,
               num_attention_heads=8, max_position_embeddings=512, num_labels=2), "BERT-shaped classifier, 4 layers, d=256"),
        Preset("tiny-distilbert-classifier", "distilbert", "sequence-classification", dict(dim=256, hidden_dim=768, n_layers=4,
               n_heads=8, max_position_embeddings=512, num_labels=2), "DistilBERT-shaped classifier, 4 layers, d=256"),
        # Real-size shapes (random weights): the guide's models, for GPU profiles.
        Preset("llama-2-7b", "llama", "causal-lm", dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
               num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096,
               rms_norm_eps=1e-5), "Llama-2-7B shape (6.7B parameters)", "bfloat16", False),
        Preset("falcon-7b", "falcon", "causal-lm", dict(vocab_size=65024, hidden_size=4544, num_hidden_layers=32,
               num_attention_heads=71, multi_query=True, parallel_attn=True, new_decoder_architecture=False, bias=False,
               alibi=False, max_position_embeddings=8192), "Falcon-7B shape (6.9B parameters)", "bfloat16", False),
        Preset("tinyllama-1.1b", "llama", "causal-lm", dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632,
               num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=4096,
               rms_norm_eps=1e-5), "TinyLlama-1.1B shape (1.1B parameters, grouped-query attention)", "bfloat16", False),
        Preset("opt-350m", "opt", "causal-lm", dict(vocab_size=50272, hidden_size=1024, ffn_dim=4096, num_hidden_layers=24,
               num_attention_heads=16, word_embed_proj_dim=512, max_position_embeddings=2048, do_layer_norm_before=False),
               "OPT-350m shape (331M parameters)", "float32", False),
        Preset("bloom-560m", "bloom", "causal-lm", dict(vocab_size=250880, hidden_size=1024, n_layer=24, n_head=16),
               "BLOOM-560m shape (559M parameters)", "float32", False),
        Preset("distilbert-base-classifier", "distilbert", "sequence-classification", dict(vocab_size=30522, dim=768,
               hidden_dim=3072, n_layers=6, n_heads=12, max_position_embeddings=512, num_labels=2),
               "DistilBERT-base classifier shape (67M parameters)", "float32", False),
    ]
}


def cache_dir() -> Path:
    """Where built presets live: $GPUGUIDE_CACHE, else ~/.cache/gpuguide."""
    return Path(os.environ.get("GPUGUIDE_CACHE", Path.home() / ".cache" / "gpuguide"))


def corpus_text() -> str:
    """The small multilingual text bundled with the package: tokenizer training data and a fixed token stream."""
    return (Path(__file__).parent / "data" / "corpus.txt").read_text(encoding="utf-8")


def is_encoder(family: str) -> bool:
    return family in ("bert", "distilbert")


def build_tokenizer(family: str, vocab_size: int):
    """Train a byte-level BPE on the bundled corpus: any text encodes, nothing is downloaded.

    Decoder tokenizers pad on the left (generation appends on the right); encoder ones wrap input in [CLS] ... [SEP].
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = _ENCODER_SPECIALS if is_encoder(family) else _DECODER_SPECIALS
    tok = Tokenizer(models.BPE(unk_token=specials[1] if is_encoder(family) else specials[0]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus_text().splitlines(), trainer)
    if is_encoder(family):
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
        )
        # DistilBERT has no segment embeddings, so its tokenizer must not produce token_type_ids.
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if family == "bert" else [])
        return PreTrainedTokenizerFast(
            tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
            mask_token="[MASK]", padding_side="right", model_max_length=512, model_input_names=names,
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        padding_side="left", model_max_length=1_000_000,
    )


def _config_for(preset: Preset, vocab_size: int):
    from transformers import AutoConfig

    kwargs = dict(preset.config)
    kwargs.setdefault("vocab_size", vocab_size)
    if is_encoder(preset.family):
        kwargs.update(pad_token_id=0)
    else:
        kwargs.update(bos_token_id=1, eos_token_id=2, pad_token_id=3)
    return AutoConfig.for_model(preset.family, **kwargs)


def dtype_keyword() -> str:
    """transformers >= 4.56 calls the loading dtype `dtype`; older releases (pinned in some environments) `torch_dtype`."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def init_std(config) -> float:
    """The config's own initializer scale (initializer_range, or init_std for OPT)."""
    return float(getattr(config, "initializer_range", None) or getattr(config, "init_std", None) or 0.02)


@torch.no_grad()
def randomize_weights(model: torch.nn.Module, std: float, seed: int = 0) -> None:
    """Normal(0, std) weights for linear and embedding layers, zero biases, unit norms: how the real models start."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            w = module.weight
            w.copy_(torch.randn(w.shape, generator=generator, dtype=torch.float32).mul_(std).to(w.dtype))
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
            if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                w[module.padding_idx].zero_()
        elif isinstance(module, torch.nn.LayerNorm) or type(module).__name__.endswith("RMSNorm"):
            if getattr(module, "weight", None) is not None:
                module.weight.fill_(1.0)
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()


def _quiet_progress_bars() -> None:
    """Loading bars would fill every executed notebook with noise; the loading itself is unchanged."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _auto_class(task: str):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    return {"causal-lm": AutoModelForCausalLM, "sequence-classification": AutoModelForSequenceClassification}[task]


def preset_dir(name: str) -> Path:
    preset = PRESETS[name]
    return cache_dir() / "models" / f"{name}-{preset.fingerprint}"


def build_preset(name: str, *, force: bool = False) -> Path:
    """Build a preset's checkpoint (config, safetensors weights, tokenizer) once; return its directory.

    Written to a temporary directory and renamed into place, so parallel notebooks never see half a checkpoint.
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    target = preset_dir(name)
    if target.is_dir() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _quiet_progress_bars()
    tokenizer = build_tokenizer(preset.family, vocab_size=_TINY_VOCAB if preset.tiny else 4096)
    # Tiny models get exactly the tokenizer's vocabulary; real shapes keep their real vocabulary size.
    config = _config_for(preset, vocab_size=len(tokenizer))
    with torch.device("cpu"):
        model = _auto_class(preset.task).from_config(config, **{dtype_keyword(): DTYPES[preset.save_dtype]})
    randomize_weights(model, init_std(config))
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "gpuguide_preset.json").write_text(
            json.dumps({"preset": name, "description": preset.description, "random_weights": True}, indent=2)
        )
        if force and target.exists():
            shutil.rmtree(target)
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first: keep its build
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


@dataclass(frozen=True)
class ModelSource:
    """Where a model_id points: a preset (built locally), a local directory, or a hub id."""

    model_id: str
    kind: str  # "preset", "local", "hub"
    path: str  # what from_pretrained receives
    random_weights: bool = False
    notes: list[str] = field(default_factory=list)


def resolve(model_id: str) -> ModelSource:
    """Classify model_id and build the preset if needed. Raises ValueError naming the valid choices."""
    if model_id in PRESETS:
        return ModelSource(model_id, "preset", str(build_preset(model_id)), random_weights=True)
    path = Path(model_id).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"model_id={model_id!r} is a directory without config.json; expected a saved checkpoint")
        return ModelSource(model_id, "local", str(path))
    if _HUB_ID.match(model_id) and not model_id.startswith((".", "/", "~")):
        return ModelSource(model_id, "hub", model_id)
    raise ValueError(
        f"model_id={model_id!r} is not a preset, an existing checkpoint directory or an 'org/name' hub id; "
        f"presets: {', '.join(PRESETS)}"
    )


def task_of(path: str) -> str:
    """The task head a checkpoint was saved with, from config.architectures (default: causal-lm)."""
    from transformers import AutoConfig

    architectures = AutoConfig.from_pretrained(path).architectures or []
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return "sequence-classification"
    return "causal-lm"


def to_dtype(dtype: str | torch.dtype) -> torch.dtype | str:
    """'float16' -> torch.float16; 'auto' passes through (the checkpoint's own dtype)."""
    if isinstance(dtype, torch.dtype) or dtype == "auto":
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not supported; choose one of: auto, {', '.join(DTYPES)}")
    return DTYPES[dtype]


def load_model(
    model_id: str,
    *,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "auto",
    attn_implementation: str | None = None,
    quantization_config: Any = None,
    device_map: Any = None,
    task: str | None = None,
    **kwargs: Any,
):
    """Load a preset, local checkpoint or hub id with from_pretrained: safetensors only, no remote code.

    Without device_map the whole model goes to `device` at load time (device_map={"": device}).
    """
    source = resolve(model_id)
    task = task or task_of(source.path)
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not supported; choose one of: {', '.join(TASKS)}")
    _quiet_progress_bars()
    # Only options that were given: an explicit quantization_config=None makes transformers 5 ignore the one
    # saved in a quantized checkpoint's config.json, and reloading it then fails.
    optional = {k: v for k, v in dict(attn_implementation=attn_implementation, quantization_config=quantization_config).items()
                if v is not None}
    model = _auto_class(task).from_pretrained(
        source.path,
        **{dtype_keyword(): to_dtype(dtype)},
        device_map=device_map if device_map is not None else {"": str(torch.device(device))},
        use_safetensors=True,
        trust_remote_code=False,
        **optional,
        **kwargs,
    )
    model.eval()
    # Remembered so switch_attention can reload a model whose class cannot change attention after loading.
    model.gpuguide_load_args = dict(model_id=model_id, device=device, dtype=dtype, quantization_config=quantization_config,
                                    device_map=device_map, task=task, **kwargs)
    return model


def load_tokenizer(model_id: str):
    """The tokenizer saved with the model (presets ship a trained offline one). Decoders pad on the left."""
    from transformers import AutoTokenizer

    source = resolve(model_id)
    tokenizer = AutoTokenizer.from_pretrained(source.path, trust_remote_code=False)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def make_inputs(tokenizer, batch_size: int, seq_len: int, device: str | torch.device = "cpu", seed: int = 0):
    """A batch of exactly seq_len tokens per row, cut from the bundled corpus: same input on every run."""
    ids = tokenizer(corpus_text(), add_special_tokens=False, verbose=False)["input_ids"]
    while len(ids) < seq_len * batch_size + seed:
        ids = ids + ids
    rows = [ids[seed + i * seq_len : seed + (i + 1) * seq_len] for i in range(batch_size)]
    input_ids = torch.tensor(rows, dtype=torch.long, device=device)
    return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}


def make_padded_inputs(tokenizer, batch_size: int, seq_len: int, pad_fraction: float,
                       device: str | torch.device = "cpu"):
    """A batch padded to seq_len in which about `pad_fraction` of all positions are padding.

    The first row is full length (it sets the padded length); the others are equally shorter. Rows are cut from the
    bundled corpus; padding goes on the tokenizer's padding side (left for decoders). Returns the inputs and the
    padding fraction actually reached (0 for a single row: nothing to pad against).
    """
    if batch_size > 1 and not 0 <= pad_fraction < 1 - 1 / batch_size:
        raise ValueError(f"pad_fraction={pad_fraction!r} must be in [0, {1 - 1 / batch_size:.3g}) for batch_size="
                         f"{batch_size}, so that one row is full and the others keep real tokens")
    full = make_inputs(tokenizer, batch_size, seq_len)["input_ids"]
    if batch_size == 1:
        lengths = [seq_len]
    else:
        others = (seq_len * (1 - pad_fraction) * batch_size - seq_len) / (batch_size - 1)
        lengths = [seq_len] + [max(1, round(others))] * (batch_size - 1)
    ids = torch.full((batch_size, seq_len), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((batch_size, seq_len), dtype=torch.long)
    for row, length in enumerate(lengths):
        span = slice(seq_len - length, seq_len) if tokenizer.padding_side == "left" else slice(0, length)
        ids[row, span] = full[row, :length]
        mask[row, span] = 1
    reached = 1 - mask.sum().item() / mask.numel()
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device)}, reached
