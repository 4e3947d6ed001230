"""A small causal LM trained offline on text that ships with Python, so quality sections have something to lose.

Random weights give near-uniform logits: every format "agrees" or "disagrees" by chance. About two minutes of training
on two CPU cores, on the standard library's own sources, gives a model whose next-token predictions are confident and
structured, so quantization and attention changes show real, explainable differences.
"""

from __future__ import annotations

import math
import sysconfig
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

__all__ = ["STDLIB_MODULES", "stdlib_corpus", "TrainingReport", "train_causal_lm", "heldout_text"]


#: Top-level standard-library modules read for the corpus, in this order (pure Python, stable across 3.10-3.13).
STDLIB_MODULES = (
    "argparse", "ast", "base64", "bisect", "calendar", "collections/__init__", "configparser", "contextlib", "copy",
    "csv", "dataclasses", "datetime", "decimal", "difflib", "enum", "fnmatch", "fractions", "functools", "glob",
    "gzip", "heapq", "hmac", "html/parser", "inspect", "ipaddress", "json/decoder", "json/encoder", "logging/__init__",
    "mimetypes", "operator", "optparse", "os", "pathlib", "pickle", "pprint", "queue", "random", "re/__init__",
    "shlex", "shutil", "socket", "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap",
    "threading", "timeit", "tokenize", "traceback", "typing", "unittest/case", "urllib/parse", "uuid", "warnings",
    "weakref", "zipfile",
)


def stdlib_corpus(max_chars: int = 3_000_000) -> tuple[str, str, list[str]]:
    """(training text, held-out text, modules used): sources of STDLIB_MODULES that exist here, in a fixed order.

    The last module of every ten goes to the held-out text, so it is never trained on.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    train, heldout, used = [], [], []
    total = 0
    for index, name in enumerate(STDLIB_MODULES):
        path = root / f"{name}.py"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        (heldout if index % 10 == 9 else train).append(text)
        used.append(name)
        total += len(text)
        if total >= max_chars:
            break
    if not train or not heldout:
        raise RuntimeError(f"the standard library's sources are not readable under {root}")
    return "\n".join(train), "\n".join(heldout), used


@dataclass(frozen=True)
class TrainingReport:
    """How the preset was trained and how well it predicts text it never saw."""

    steps: int
    batch_size: int
    seq_len: int
    tokens_seen: int
    seconds: float
    final_train_loss: float
    _heldout_perplexity: float
    uniform_perplexity: float  # what random guessing over the vocabulary scores
    corpus_modules: int
    corpus_tokens: int
    python: str

    def to_dict(self) -> dict:
        return asdict(self)


def _batches(ids: torch.Tensor, batch_size: int, seq_len: int, steps: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    starts_max = ids.numel() - seq_len - 1
    for _ in range(steps):
        starts = torch.randint(0, starts_max, (batch_size,), generator=generator)
        yield torch.stack([ids[s : s + seq_len] for s in starts.tolist()])


@torch.no_grad()
def _heldout_perplexity(model: torch.nn.Module, ids: torch.Tensor, seq_len: int, max_windows: int = 32) -> float:
    """exp(mean next-token loss) over consecutive windows of the held-out token stream."""
    model.eval()
    windows = ids[: (ids.numel() // seq_len) * seq_len].view(-1, seq_len)[:max_windows]
    loss = model(input_ids=windows, labels=windows).loss
    return math.exp(loss.item())


def train_causal_lm(model: torch.nn.Module, train_ids: torch.Tensor, heldout_ids: torch.Tensor, *, steps: int,
                    batch_size: int, seq_len: int, lr: float, seed: int = 0, threads: int = 2,
                    progress_label: str = "the small model") -> TrainingReport:
    """AdamW with warm-up and cosine decay, on random windows of the training stream; deterministic for a thread count.

    Training runs on `threads` CPU threads whatever the machine has, so every machine builds the same weights. A
    progress bar (tqdm: a widget in Jupyter, a line elsewhere) shows the steps and the time left.
    """
    from tqdm.auto import tqdm

    import platform

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    started = time.perf_counter()
    try:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
        warmup = max(1, steps // 20)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
        loss_value = float("nan")
        progress = tqdm(_batches(train_ids, batch_size, seq_len, steps, seed), total=steps, unit="step",
                        desc=f"training {progress_label}", mininterval=5, leave=False)
        for batch in progress:
            loss = model(input_ids=batch, labels=batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            loss_value = loss.item()
        perplexity = _heldout_perplexity(model, heldout_ids, seq_len)
    finally:
        torch.set_num_threads(previous_threads)
        model.eval()
    vocab = model.config.vocab_size
    return TrainingReport(steps, batch_size, seq_len, steps * batch_size * seq_len, round(time.perf_counter() - started, 1),
                          round(loss_value, 4), round(perplexity, 3), float(vocab), 0, int(train_ids.numel()),
                          platform.python_version())


def heldout_text() -> str:
    """Python source the trained preset never saw (the held-out modules): text to measure its quality on."""
    return stdlib_corpus()[1]
