"""From a measured matrix of combinations to a choice: the Pareto front and a recommendation with its reasons.

Rows are Results rows (variant, status, params, metrics). The recommendation uses only what was measured here plus
the capability report, so it names what could not be tried on this machine instead of guessing about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .env import Capability
from .memory import format_bytes

GOALS = ("least memory", "fastest prefill", "fastest decode", "best quality within a memory budget")


def _ok(rows: list[dict[str, Any]], *metrics: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "ok" and all(r["metrics"].get(m) is not None for m in metrics)]


def pareto_front(rows: list[dict[str, Any]], cost: str = "peak_memory_bytes", benefit: str = "decode_tokens_per_s") -> list[str]:
    """Variants no other variant beats on both axes (lower cost and higher benefit), ordered by cost."""
    candidates = sorted(_ok(rows, cost, benefit), key=lambda r: (r["metrics"][cost], -r["metrics"][benefit]))
    front, best = [], float("-inf")
    for r in candidates:
        if r["metrics"][benefit] > best:
            front.append(r["variant"])
            best = r["metrics"][benefit]
    return front


@dataclass(frozen=True)
class Recommendation:
    goal: str
    variant: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.goal}: {self.variant or 'nothing measured fits'} — {self.reason}"


def _ratio(a: float, b: float) -> str:
    return f"{max(a, b) / min(a, b):.2f}x" if min(a, b) > 0 else "n/a"


def recommend(rows: list[dict[str, Any]], capabilities: dict[str, Capability], baseline: str,
              memory_budget_bytes: int | None = None, memory_metric: str = "peak_memory_bytes") -> list[Recommendation]:
    """One recommendation per goal in GOALS, each with the numbers behind it and what could not be measured.

    memory_metric names the row metric that counts as "memory" for the memory goals and the budget.
    """
    base = next((r for r in rows if r["variant"] == baseline and r["status"] == "ok"), None)
    missing = [f"{r['variant']} ({r['reason']})" for r in rows if r["status"] != "ok"]
    unavailable = [f"{c.name}: {c.reason}" for key, c in capabilities.items()
                   if key in ("flash_attention_2", "sdpa_flash_backend", "bitsandbytes_8bit", "bitsandbytes_4bit")
                   and not c.available]
    note = ""
    if missing or unavailable:
        note = " Not measured here: " + "; ".join(missing + unavailable) + "."
    out = []

    def pick(goal: str, metric: str, lowest: bool, fmt) -> None:
        ok = _ok(rows, metric)
        if not ok:
            out.append(Recommendation(goal, None, f"no combination measured {metric}.{note}"))
            return
        best = (min if lowest else max)(ok, key=lambda r: r["metrics"][metric])
        value = best["metrics"][metric]
        versus = ""
        if base is not None and best is not base and base["metrics"].get(metric):
            better = "less" if lowest else "more"
            versus = f", {_ratio(value, base['metrics'][metric])} {better} than {baseline} ({fmt(base['metrics'][metric])})"
        out.append(Recommendation(goal, best["variant"], f"{fmt(value)}{versus}.{note}"))

    pick("least memory", memory_metric, True, format_bytes)
    pick("fastest prefill", "ttft_s", True, lambda v: f"{v * 1e3:.3g} ms to the first token")
    pick("fastest decode", "decode_tokens_per_s", False, lambda v: f"{v:.1f} tokens/s")

    goal = GOALS[3]
    budget = memory_budget_bytes
    within = [r for r in _ok(rows, memory_metric, "top1_agreement")
              if budget is None or r["metrics"][memory_metric] <= budget]
    if not within:
        out.append(Recommendation(goal, None, f"no measured combination fits in {format_bytes(budget)}.{note}"))
    else:
        best = max(within, key=lambda r: (r["metrics"]["top1_agreement"], -r["metrics"].get("max_abs_diff", 0.0),
                                          -r["metrics"][memory_metric]))
        m = best["metrics"]
        limit = f"within {format_bytes(budget)}" if budget is not None else "with no budget given"
        out.append(Recommendation(goal, best["variant"],
                                  f"{m['top1_agreement']:.1%} top-1 agreement with {baseline} (max |diff| "
                                  f"{m.get('max_abs_diff', float('nan')):.3g}) using {format_bytes(m[memory_metric])}, "
                                  f"{limit}.{note}"))
    return out
