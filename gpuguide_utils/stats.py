"""Is a difference real? The interval of a ratio of medians, by bootstrap, and the tie rule every comparison uses.

Two variants timed in interleaved rounds (A, B, A, B, ...) are paired: a disturbance hits both in the same round,
so the bootstrap resamples whole rounds and the disturbance cancels in the ratio. Timings taken in separate blocks
are resampled independently. Anchors: criterion.rs (bootstrap intervals, a noise threshold), pyperf (instability
warnings), torch.utils.benchmark (blocked autorange).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CONFIDENCE", "NOISE_THRESHOLD", "RatioInterval", "ratio_interval"]

#: The interval's confidence level.
CONFIDENCE = 0.95
#: Ratios within 1% of 1 are no difference even when the interval is narrow (criterion.rs' default noise threshold).
NOISE_THRESHOLD = 0.01
_RESAMPLES = 2000


@dataclass(frozen=True)
class RatioInterval:
    """How many times better one variant is than another (> 1: better), with its bootstrap interval."""

    ratio: float
    low: float
    high: float
    paired: bool
    n: int  # rounds (paired) or the smaller sample count (unpaired)

    @property
    def tie(self) -> bool:
        """No difference: the interval includes 1, or lies entirely within the noise threshold around it."""
        inside = self.low <= 1.0 <= self.high
        negligible = 1 - NOISE_THRESHOLD <= self.low and self.high <= 1 + NOISE_THRESHOLD
        return inside or negligible

    @property
    def relative_halfwidth(self) -> float:
        """Half the interval's width relative to the ratio: how precisely this run knows it."""
        return (self.high - self.low) / 2 / self.ratio if self.ratio else float("inf")

    def __str__(self) -> str:
        kind = f"{self.n} paired rounds" if self.paired else f"n={self.n}"
        return f"{self.ratio:.2f}x ({CONFIDENCE:.0%} interval {self.low:.2f}-{self.high:.2f}, {kind})"


def ratio_interval(a: Sequence[float], b: Sequence[float], *, higher_is_better: bool = False, paired: bool = False,
                   seed: int = 0) -> RatioInterval:
    """How much better the samples `a` are than `b`, with a 95% percentile bootstrap interval.

    Unpaired: the ratio of the medians, both sides resampled independently. paired=True (samples taken in the same
    interleaved rounds): the median of the per-round ratios, resampling rounds.
    """
    a, b = [float(x) for x in a], [float(x) for x in b]
    if not a or not b or (paired and len(a) != len(b)):
        raise ValueError(f"need samples on both sides (and as many on each when paired): {len(a)} and {len(b)}")

    def ratio(xa: list[float], xb: list[float]) -> float:
        ma, mb = statistics.median(xa), statistics.median(xb)
        return ma / mb if higher_is_better else mb / ma

    rng = random.Random(seed)
    estimates = []
    if paired:  # the median of the per-round ratios: a disturbance that slows a whole round cancels in its ratio
        per_round = [(x / y if higher_is_better else y / x) for x, y in zip(a, b)]
        for _ in range(_RESAMPLES):
            estimates.append(statistics.median(rng.choices(per_round, k=len(per_round))))
    else:
        for _ in range(_RESAMPLES):
            estimates.append(ratio(rng.choices(a, k=len(a)), rng.choices(b, k=len(b))))
    estimates.sort()
    tail = (1 - CONFIDENCE) / 2
    low = estimates[int(tail * (_RESAMPLES - 1))]
    high = estimates[int((1 - tail) * (_RESAMPLES - 1))]
    point = statistics.median(per_round) if paired else ratio(a, b)
    return RatioInterval(point, low, high, paired, len(a) if paired else min(len(a), len(b)))
