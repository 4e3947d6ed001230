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

__all__ = ["DTYPES", "Preset", "PRESETS", "cache_dir", "randomize_weights", "preset_dir", "build_preset", "ROLES",
           "ModelSource", "resolve", "check_role", "load_model", "load_tokenizer", "make_inputs",
           "make_padded_inputs"]


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
    weights: str = "random"  # "random" (normal init, for speed and memory at real shapes) or "trained"
    training: dict[str, Any] | None = None  # steps, batch_size, seq_len, lr, vocab_size for trained presets

    @property
    def fingerprint(self) -> str:
        """Changes whenever the preset's definition (or the transformers release that writes it) does, so a stale
        cached build is never reused; environments pinned to other transformers versions build their own copy.
        A trained preset also depends on the Python whose standard library it was trained on."""
        import platform

        import transformers

        release = ".".join(transformers.__version__.split(".")[:2])
        spec = [self.family, self.task, self.config, self.save_dtype, _TOKENIZER_VERSION, release]
        if self.weights == "trained":
            spec += [self.training, _TRAINING_VERSION, ".".join(platform.python_version_tuple()[:2])]
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]


_TOKENIZER_VERSION = 2
_TRAINING_VERSION = 1
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
        # Trained offline on the standard library's sources (about two minutes on two cores): for quality sections.
        Preset("trained-llama", "llama", "causal-lm", dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4,
               num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024),
               "Llama architecture, 4 layers, d=128 (1.1M parameters), trained on Python's standard-library sources "
               "(every linear layer a multiple of 64 wide, as bitsandbytes' 4-bit CPU kernels need)",
               weights="trained", training=dict(steps=600, batch_size=16, seq_len=128, lr=5e-3, vocab_size=1024)),
    ]
}


def cache_dir() -> Path:
    """Where built presets live: $GPUGUIDE_CACHE, else ~/.cache/gpuguide."""
    return Path(os.environ.get("GPUGUIDE_CACHE", Path.home() / ".cache" / "gpuguide"))


def _corpus_text() -> str:
    """The small multilingual text bundled with the package: tokenizer training data and a fixed token stream."""
    return (Path(__file__).parent / "data" / "corpus.txt").read_text(encoding="utf-8")


def _is_encoder(family: str) -> bool:
    return family in ("bert", "distilbert")


def _build_tokenizer(family: str, vocab_size: int, lines: list[str] | None = None):
    """Train a byte-level BPE on `lines` (default: the bundled corpus): any text encodes, nothing is downloaded.

    Decoder tokenizers pad on the left (generation appends on the right); encoder ones wrap input in [CLS] ... [SEP].
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = _ENCODER_SPECIALS if _is_encoder(family) else _DECODER_SPECIALS
    tok = Tokenizer(models.BPE(unk_token=specials[1] if _is_encoder(family) else specials[0]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(lines if lines is not None else _corpus_text().splitlines(), trainer)
    if _is_encoder(family):
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
    if _is_encoder(preset.family):
        kwargs.update(pad_token_id=0)
    else:
        kwargs.update(bos_token_id=1, eos_token_id=2, pad_token_id=3)
    return AutoConfig.for_model(preset.family, **kwargs)


def _dtype_keyword() -> str:
    """transformers >= 4.56 calls the loading dtype `dtype`; older releases (pinned in some environments) `torch_dtype`."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def _init_std(config) -> float:
    """The config's own initializer scale (initializer_range, or _init_std for OPT)."""
    return float(getattr(config, "initializer_range", None) or getattr(config, "_init_std", None) or 0.02)


@torch.no_grad()
def randomize_weights(model: torch.nn.Module, std: float, seed: int = 0) -> None:
    """Normal(0, std) weights for linear and embedding layers, zero biases, unit norms: how the real models start.

    Meant for a model built under transformers' no_init_weights() (so weights are initialized once, not twice):
    every parameter must be set here, and one that is not raises instead of keeping uninitialized memory.
    """
    generator = torch.Generator().manual_seed(seed)
    done: set[int] = set()
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
            w = module.weight
            w.copy_(torch.randn(w.shape, generator=generator, dtype=torch.float32).mul_(std).to(w.dtype))
            done.add(id(w))
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
                done.add(id(module.bias))
            if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                w[module.padding_idx].zero_()
        elif isinstance(module, torch.nn.LayerNorm) or type(module).__name__.endswith("RMSNorm"):
            if getattr(module, "weight", None) is not None:
                module.weight.fill_(1.0)
                done.add(id(module.weight))
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
                done.add(id(module.bias))
    missed = [name for name, p in model.named_parameters() if id(p) not in done]
    if missed:
        raise RuntimeError(f"randomize_weights does not know how to initialize: {', '.join(missed[:5])}")


def _quiet_progress_bars() -> None:
    """Loading bars would fill every executed notebook with noise; the loading itself is unchanged."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _auto_class(task: str):
    """The Auto class that loads a checkpoint of this role with exactly the weights it has."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification

    return {"causal-lm": AutoModelForCausalLM, "sequence-classification": AutoModelForSequenceClassification,
            "encoder": AutoModel, "base-decoder": AutoModel}[task]


def preset_dir(name: str) -> Path:
    preset = PRESETS[name]
    return cache_dir() / "models" / f"{name}-{preset.fingerprint}"


def _build_random(preset: Preset):
    """A tokenizer trained on the bundled corpus and a model with normal(0, initializer_range) weights."""
    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4.x (the side environments)
        from transformers.modeling_utils import no_init_weights

    tokenizer = _build_tokenizer(preset.family, vocab_size=_TINY_VOCAB if preset.tiny else 4096)
    # Tiny models get exactly the tokenizer's vocabulary; real shapes keep their real vocabulary size.
    config = _config_for(preset, vocab_size=len(tokenizer))
    with torch.device("cpu"), no_init_weights():  # initialized once, by randomize_weights, not twice
        model = _auto_class(preset.task).from_config(config, **{_dtype_keyword(): DTYPES[preset.save_dtype]})
    randomize_weights(model, _init_std(config))
    return model, tokenizer, {"random_weights": True, "weights": "random"}


def _build_trained(preset: Preset):
    """A tokenizer and a model trained on the standard library's sources (see gpuguide_utils.training)."""
    from .training import stdlib_corpus, train_causal_lm

    spec = dict(preset.training or {})
    train_text, heldout_text, modules = stdlib_corpus()
    tokenizer = _build_tokenizer(preset.family, vocab_size=spec["vocab_size"], lines=train_text.splitlines(keepends=True))
    config = _config_for(preset, vocab_size=len(tokenizer))
    torch.manual_seed(0)
    with torch.device("cpu"):
        model = _auto_class(preset.task).from_config(config, **{_dtype_keyword(): torch.float32})

    def ids(text: str) -> torch.Tensor:
        return torch.tensor(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"], dtype=torch.long)

    print(f"Training the {preset.name} preset once (about 2 minutes on 2 CPU cores); gpuguide's cache ($GPUGUIDE_CACHE, "
          "else ~/.cache/gpuguide) keeps it for every later notebook.", flush=True)
    report = train_causal_lm(model, ids(train_text), ids(heldout_text), steps=spec["steps"],
                             batch_size=spec["batch_size"], seq_len=spec["seq_len"], lr=spec["lr"],
                             progress_label=preset.name)
    training = dict(report.to_dict(), corpus_modules=len(modules), corpus="Python standard-library sources: " +
                    ", ".join(modules))
    return model, tokenizer, {"random_weights": False, "weights": "trained", "training": training}


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
    model, tokenizer, extra = (_build_trained if preset.weights == "trained" else _build_random)(preset)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "gpuguide_preset.json").write_text(
            json.dumps({"preset": name, "description": preset.description, **extra}, indent=2)
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


#: What a checkpoint can be used for, from its config's architectures.
ROLES = ("causal-lm", "sequence-classification", "encoder", "base-decoder")


@dataclass(frozen=True)
class ModelSource:
    """Where a model_id points (a preset built locally, a local directory, or a hub id) and what it holds."""

    model_id: str
    kind: str  # "preset", "local", "hub"
    path: str  # what from_pretrained receives
    weights: str = "pretrained"  # "random" or "trained" for presets
    task: str = "causal-lm"  # one of ROLES: the head the checkpoint's weights include
    architecture: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def random_weights(self) -> bool:
        return self.weights == "random"


def _task_of_architecture(architecture: str, model_type: str) -> str:
    """The role a checkpoint's saved class gives it: which heads its weights include."""
    if architecture.endswith(("ForCausalLM", "LMHeadModel")):
        return "causal-lm"
    if architecture.endswith("ForSequenceClassification"):
        return "sequence-classification"
    if _is_encoder(model_type) or model_type in ("roberta", "xlm-roberta", "electra", "albert", "deberta", "deberta-v2"):
        return "encoder"  # a base encoder, or one with a head this suite does not use (masked LM): AutoModel loads it
    return "base-decoder"


def _inspect(path: str) -> tuple[str, str]:
    """(task, architecture) of a checkpoint, read from its config (no weights are loaded)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    architecture = (config.architectures or [""])[0]
    return _task_of_architecture(architecture, config.model_type), architecture or config.model_type


def resolve(model_id: str) -> ModelSource:
    """Classify model_id and build the preset if needed. Raises ValueError naming the valid choices."""
    if model_id in PRESETS:
        preset = PRESETS[model_id]
        task = "causal-lm" if preset.task == "causal-lm" else "sequence-classification"
        return ModelSource(model_id, "preset", str(build_preset(model_id)), weights=preset.weights, task=task,
                           architecture=preset.family)
    path = Path(model_id).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"model_id={model_id!r} is a directory without config.json; expected a saved checkpoint")
        task, architecture = _inspect(str(path))
        return ModelSource(model_id, "local", str(path), task=task, architecture=architecture)
    if _HUB_ID.match(model_id) and not model_id.startswith((".", "/", "~")):
        try:
            task, architecture = _inspect(model_id)
        except OSError as error:
            raise ValueError(f"model_id={model_id!r} looks like a hub id but its config cannot be read "
                             f"({type(error).__name__}); offline (HF_HUB_OFFLINE=1) use a preset or a local "
                             f"checkpoint directory; presets: {', '.join(PRESETS)}") from None
        return ModelSource(model_id, "hub", model_id, task=task, architecture=architecture)
    raise ValueError(
        f"model_id={model_id!r} is not a preset, an existing checkpoint directory or an 'org/name' hub id; "
        f"presets: {', '.join(PRESETS)}"
    )


def check_role(source: ModelSource, role: str, parameter: str = "model_id") -> None:
    """Refuse a checkpoint that lacks the weights a notebook's use of it needs (never invent them at random).

    role "causal-lm" needs a language-model head; role "encoder" takes a classifier or a base encoder.
    """
    if role == "causal-lm" and source.task != "causal-lm":
        raise ValueError(f"{parameter}={source.model_id!r} is a {source.architecture} checkpoint without a "
                         "language-model head; this notebook generates tokens, and loading it with "
                         "AutoModelForCausalLM would fill that head with random weights. Use a *ForCausalLM checkpoint")
    if role == "encoder" and source.task not in ("sequence-classification", "encoder"):
        raise ValueError(f"{parameter}={source.model_id!r} is a {source.architecture} checkpoint; this notebook "
                         "needs an encoder (BERT/DistilBERT family), with or without a classification head")


def _to_dtype(dtype: str | torch.dtype) -> torch.dtype | str:
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

    Notebooks write from_pretrained out themselves; this is for helpers, tests and exercises. The class follows the
    checkpoint (a base encoder loads with AutoModel), and a load that would leave weights at random is refused.
    """
    source = resolve(model_id)
    task = task or source.task
    if task not in ROLES:
        raise ValueError(f"task={task!r} is not supported; choose one of: {', '.join(ROLES)}")
    _quiet_progress_bars()
    # Only options that were given: an explicit quantization_config=None makes transformers 5 ignore the one
    # saved in a quantized checkpoint's config.json, and reloading it then fails.
    optional = {k: v for k, v in dict(attn_implementation=attn_implementation, quantization_config=quantization_config).items()
                if v is not None}
    model, info = _auto_class(task).from_pretrained(
        source.path,
        **{_dtype_keyword(): _to_dtype(dtype)},
        device_map=device_map if device_map is not None else {"": str(torch.device(device))},
        use_safetensors=True,
        trust_remote_code=False,
        output_loading_info=True,
        **optional,
        **kwargs,
    )
    if info.get("missing_keys"):
        missing = sorted(info["missing_keys"])
        raise ValueError(f"{model_id!r} has no weights for {len(missing)} tensor(s) its {type(model).__name__} needs "
                         f"(e.g. {', '.join(missing[:3])}); refusing to fill them at random. Load it with the class "
                         f"its config names ({source.architecture}), or pass task=")
    model.eval()
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
    ids = tokenizer(_corpus_text(), add_special_tokens=False, verbose=False)["input_ids"]
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
