"""From a measured matrix of combinations to a choice: the Pareto front and a recommendation with its reasons.

Rows are Results rows (variant, status, params, metrics). Differences inside the measured spread are ties, never
winners: a recommendation names every combination that ties with the best, and the front keeps tied points. The
recommendation uses only what was measured here plus the capability report, so it names what could not be tried on
this machine instead of guessing about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .env import Capability
from .memory import format_bytes
from .results import compare_values

__all__ = ["GOALS", "SIZE_TOLERANCE", "pareto_front", "Recommendation", "recommend"]


GOALS = ("least memory", "fastest prefill", "fastest decode", "best quality within a memory budget")
#: Sizes closer than this (relative) are the same size: allocator and RSS readings wobble by a little.
SIZE_TOLERANCE = 0.01


def _ok(rows: list[dict[str, Any]], *metrics: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "ok" and all(r["metrics"].get(m) is not None for m in metrics)]


def _same_size(a: float, b: float) -> bool:
    return abs(a - b) <= SIZE_TOLERANCE * max(abs(a), abs(b), 1)


def _at_least_as_good(a: dict, b: dict, metric: str, higher_is_better: bool) -> bool:
    """a is better than b beyond the spread, or the two tie (spread known); with no spread, plain >=."""
    verdict = compare_values(a["variant"], a["metrics"], b["variant"], b["metrics"], metric, higher_is_better)
    if verdict is None:
        return False
    if not verdict.known_spread:
        return verdict.ratio >= 1
    return verdict.tie or verdict.ratio > 1


def _strictly_better(a: dict, b: dict, metric: str, higher_is_better: bool) -> bool:
    verdict = compare_values(a["variant"], a["metrics"], b["variant"], b["metrics"], metric, higher_is_better)
    return verdict is not None and verdict.ratio > 1 and not verdict.tie


def pareto_front(rows: list[dict[str, Any]], cost: str = "peak_memory_bytes", benefit: str = "decode_tokens_per_s") -> list[str]:
    """Variants that no other variant beats: a point is dropped only when another costs no more and is at least as
    good on the benefit, and is better on one of the two beyond the noise (less cost by over 1%, or a benefit
    difference beyond the measured spread). Ordered by cost."""
    candidates = sorted(_ok(rows, cost, benefit), key=lambda r: (r["metrics"][cost], -r["metrics"][benefit]))
    front = []
    for a in candidates:
        dominated = False
        for b in candidates:
            if b is a:
                continue
            ca, cb = a["metrics"][cost], b["metrics"][cost]
            cost_ok = cb <= ca or _same_size(ca, cb)
            cheaper = cb < ca and not _same_size(ca, cb)
            if cost_ok and _at_least_as_good(b, a, benefit, True) and (cheaper or _strictly_better(b, a, benefit, True)):
                dominated = True
                break
        if not dominated:
            front.append(a["variant"])
    return front


@dataclass(frozen=True)
class Recommendation:
    goal: str
    variant: str | None
    reason: str
    ties: list[str] = field(default_factory=list)  # variants within the noise of the chosen one

    def __str__(self) -> str:
        chosen = self.variant or "nothing measured fits"
        if self.ties:
            chosen += " (tied with " + ", ".join(self.ties) + ")"
        return f"{self.goal}: {chosen} — {self.reason}"


def _ratio(a: float, b: float) -> str:
    return f"{max(a, b) / min(a, b):.2f}x" if min(a, b) > 0 else "n/a"


def recommend(rows: list[dict[str, Any]], capabilities: dict[str, Capability], baseline: str,
              memory_budget_bytes: int | None = None, memory_metric: str = "peak_memory_bytes") -> list[Recommendation]:
    """One recommendation per goal in GOALS, each with the numbers behind it, its ties and what was not measured.

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

    def pick(goal: str, metric: str, lowest: bool, fmt, sizes: bool = False) -> None:
        ok = _ok(rows, metric)
        if not ok:
            out.append(Recommendation(goal, None, f"no combination measured {metric}.{note}"))
            return
        best = (min if lowest else max)(ok, key=lambda r: r["metrics"][metric])
        value = best["metrics"][metric]
        if sizes:
            ties = [r["variant"] for r in ok if r is not best and _same_size(r["metrics"][metric], value)]
        else:
            ties = [r["variant"] for r in ok if r is not best
                    and (v := compare_values(best["variant"], best["metrics"], r["variant"], r["metrics"], metric,
                                             not lowest)) is not None and v.known_spread and v.tie]
        versus = ""
        if base is not None and best is not base and base["metrics"].get(metric):
            better = "less" if lowest else "more"
            versus = f", {_ratio(value, base['metrics'][metric])} {better} than {baseline} ({fmt(base['metrics'][metric])})"
        if not ties:
            tie_note = ""
        elif sizes:
            tie_note = f" The same size (within 1%): {', '.join(ties)}; pick among them by your other needs."
        else:
            tie_note = f" Within the noise of it: {', '.join(ties)}; pick among them by your other needs."
        out.append(Recommendation(goal, best["variant"], f"{fmt(value)}{versus}.{tie_note}{note}", ties))

    pick("least memory", memory_metric, True, format_bytes, sizes=True)
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
        ties = [r["variant"] for r in within if r is not best and r["metrics"]["top1_agreement"] == m["top1_agreement"]
                and _same_size(r["metrics"].get("max_abs_diff", 0.0) + 1, m.get("max_abs_diff", 0.0) + 1)]
        limit = f"within {format_bytes(budget)}" if budget is not None else "with no budget given"
        tie_note = f" Same agreement: {', '.join(ties)}." if ties else ""
        out.append(Recommendation(goal, best["variant"],
                                  f"{m['top1_agreement']:.1%} top-1 agreement with {baseline} (max |diff| "
                                  f"{m.get('max_abs_diff', float('nan')):.3g}) using {format_bytes(m[memory_metric])}, "
                                  f"{limit}.{tie_note}{note}", ties))
    return out
