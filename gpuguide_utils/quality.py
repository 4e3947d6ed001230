"""Does an optimization keep the outputs? Logit differences, top-1 agreement and relative perplexity."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

__all__ = ["Agreement", "compare_logits", "perplexity"]


@dataclass(frozen=True)
class Agreement:
    """How close a candidate's logits are to a reference's, over the positions that count (padding excluded)."""

    max_abs_diff: float
    mean_abs_diff: float
    top1_agreement: float  # fraction of positions whose argmax token (or label) is the same
    positions: int

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def __str__(self) -> str:
        return (f"max |diff| {self.max_abs_diff:.3g}, mean |diff| {self.mean_abs_diff:.3g}, "
                f"top-1 agreement {self.top1_agreement:.2%} over {self.positions} positions")


def compare_logits(reference: torch.Tensor, candidate: torch.Tensor,
                   attention_mask: torch.Tensor | None = None) -> Agreement:
    """Compare (batch, [seq,] vocab) logits in float32; attention_mask (batch, seq) drops padded positions."""
    ref, cand = reference.detach().float().cpu(), candidate.detach().float().cpu()
    if ref.shape != cand.shape:
        raise ValueError(f"logit shapes differ: {tuple(ref.shape)} vs {tuple(cand.shape)}")
    if attention_mask is not None and ref.dim() == 3:
        keep = attention_mask.detach().cpu().bool()
        ref, cand = ref[keep], cand[keep]
    ref, cand = ref.reshape(-1, ref.shape[-1]), cand.reshape(-1, cand.shape[-1])
    diff = (ref - cand).abs()
    top1 = (ref.argmax(-1) == cand.argmax(-1)).float().mean().item()
    return Agreement(diff.max().item(), diff.mean().item(), top1, ref.shape[0])


@torch.inference_mode()
def perplexity(model: torch.nn.Module, input_ids: torch.Tensor) -> float:
    """exp(mean next-token cross-entropy) of a causal LM on a fixed token stream.

    With random weights the absolute value means nothing; compare a quantized model's with the reference's.
    """
    device = next(model.parameters()).device
    ids = input_ids.to(device)
    loss = model(input_ids=ids, labels=ids).loss
    return math.exp(loss.float().item())
