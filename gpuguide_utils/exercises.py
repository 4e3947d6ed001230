"""Self-checks for the notebooks' exercises: they tell a learner whether an answer holds, and why not.

Each check returns None while the answer is still None (and says what to do), True when it holds and False with a
hint when it does not, so a learner's cell never stops the notebook; a solution asserts the check instead.
"""

from __future__ import annotations

from typing import Any

from .memory import format_bytes

__all__ = ["check_number", "check_bytes", "check_choice", "check_tie"]


def _pending(what: str) -> None:
    print(f"Your turn: put your answer ({what}) in place of None, then run this cell again.")


def _report(ok: bool, good: str, hint: str) -> bool:
    print(("✔ " + good) if ok else ("✘ not yet: " + hint))
    return ok


def check_number(answer: Any, expected: float, *, tolerance: float, what: str, hint: str = "",
                 show=lambda v: f"{v:.4g}", source: str = "the expected value") -> bool | None:
    """answer within `tolerance` (relative) of `expected`; `what` names the quantity, `source` where expected comes
    from ("the measurement", "the datasheet arithmetic")."""
    if answer is None:
        _pending(what)
        return None
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return _report(False, "", f"{what} should be a number, got {answer!r}")
    ok = abs(answer - expected) <= tolerance * abs(expected)
    return _report(ok, f"{what}: {show(answer)} matches {source} ({show(expected)}) within {tolerance:.0%}.",
                   f"{what}: {show(answer)}, but {source} is {show(expected)}. {hint}".strip())


def check_bytes(answer: Any, expected: int, *, tolerance: float = 0.01, what: str = "your prediction in bytes",
                hint: str = "") -> bool | None:
    """A size prediction against a measured size (shown in binary units)."""
    return check_number(answer, expected, tolerance=tolerance, what=what, hint=hint, show=format_bytes,
                        source="the measurement")


def check_choice(answer: Any, expected: Any, choices: tuple, *, what: str, why: str) -> bool | None:
    """One of `choices`; `why` explains the expected answer when the learner's differs."""
    if answer is None:
        _pending(" or ".join(map(repr, choices)) if len(choices) <= 4 else "one of the names printed above")
        return None
    if answer not in choices:
        return _report(False, "", f"{answer!r} is not one of {', '.join(map(repr, choices))}")
    return _report(answer == expected, f"{what}: {answer!r}. {why}", f"{what}: the run says {expected!r}. {why}")


def check_tie(answer: Any, low_a: float, high_a: float, low_b: float, high_b: float) -> bool | None:
    """Did the learner call a tie exactly when the two interquartile ranges overlap?"""
    overlap = low_a <= high_b and low_b <= high_a
    return check_choice(answer, overlap, (True, False), what="tie",
                        why="The rule: when the middle halves of the two sets of timings overlap, it is a tie." if overlap
                        else "The middle halves do not overlap: the difference is larger than the noise.")
