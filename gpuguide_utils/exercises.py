"""Self-checks for the notebooks' exercises: they tell a learner whether an answer holds, and why not.

A prediction is written before the cell that measures it and checked after it (check_prediction), so the measurement,
not the text above, answers it; check_that and check_timings check code the learner writes by what it does. Each
check prints one line: what to do while the answer is still None, "✔ …" when it holds, "✘ not yet: …" with a hint
when it does not. It returns a Check, true only when the answer holds, so a learner's cell never stops the notebook
while a solution asserts it; a Check displays nothing itself, so no stray True or False follows the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .memory import format_bytes

__all__ = ["Check", "check_number", "check_bytes", "check_choice", "check_tie", "check_that", "check_timings",
           "check_prediction"]


@dataclass(frozen=True)
class Check:
    """What a self-check found: true when the answer holds, false while it is missing (ok None) or wrong."""

    ok: bool | None

    def __bool__(self) -> bool:
        return bool(self.ok)

    def _ipython_display_(self) -> None:
        """The check has printed its one line; as a cell's last value it adds nothing under it."""


def _pending(what: str) -> Check:
    print(f"Your turn: put your answer ({what}) in place of None, then run this cell again.")
    return Check(None)


def _report(ok: bool, good: str, hint: str) -> Check:
    print(("✔ " + good) if ok else ("✘ not yet: " + hint))
    return Check(ok)


def check_number(answer: Any, expected: float, *, tolerance: float, what: str, hint: str = "",
                 show=lambda v: f"{v:.4g}", source: str = "the expected value") -> Check:
    """answer within `tolerance` (relative) of `expected`; `what` names the quantity, `source` where expected comes
    from ("the measurement", "the datasheet arithmetic")."""
    if answer is None:
        return _pending(what)
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return _report(False, "", f"{what} should be a number, got {answer!r}")
    ok = abs(answer - expected) <= tolerance * abs(expected)
    return _report(ok, f"{what}: {show(answer)} matches {source} ({show(expected)}) within {tolerance:.0%}.",
                   f"{what}: {show(answer)}, but {source} is {show(expected)}. {hint}".strip())


def check_bytes(answer: Any, expected: int, *, tolerance: float = 0.01, what: str = "your prediction in bytes",
                hint: str = "") -> Check:
    """A size prediction against a measured size (shown in binary units)."""
    return check_number(answer, expected, tolerance=tolerance, what=what, hint=hint, show=format_bytes,
                        source="the measurement")


def check_choice(answer: Any, expected: Any, choices: tuple, *, what: str, why: str, expect: str | None = None
                 ) -> Check:
    """One of `choices`; `why` explains the expected answer when the learner's differs. `expect` names what the
    learner writes when it is not one of the choices themselves (e.g. "a list of SDPBackend values")."""
    if answer is None:
        return _pending(expect or (" or ".join(map(repr, choices)) if len(choices) <= 4
                                   else "one of the names printed above"))
    if answer not in choices:
        return _report(False, "", f"{answer!r} is not one of {', '.join(map(repr, choices))}")
    return _report(answer == expected, f"{what}: {answer!r}. {why}", f"{what}: the run says {expected!r}. {why}")


def check_that(answer: Any, test: Callable[[Any], bool | str], *, what: str, expect: str, why: str = "") -> Check:
    """For code the learner writes: `test(answer)` returns True when it does what was asked, else a hint (str).
    `expect` names what to write ("a function", "a BitsAndBytesConfig"); an error the test raises becomes the hint."""
    if answer is None:
        return _pending(expect)
    try:
        found = test(answer)
    except Exception as error:  # the learner's code failed inside the test: say how, in one line
        found = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return _report(found is True, f"{what}. {why}".strip(), f"{what}: {found if isinstance(found, str) else 'no'}")


def check_timings(answer: Any, names: tuple[str, str], *, what: str) -> Check:
    """For a measurement the learner writes: a dict of two Timings under `names` (what gg.interleave returns); the
    line gives their verdict by the interval rule, second against first."""
    from .results import compare_timings

    if answer is None:
        return _pending("the dict gg.interleave returns, with the keys " + " and ".join(map(repr, names)))
    if not isinstance(answer, dict) or set(answer) != set(names) or not all(
            hasattr(t, "samples_s") for t in answer.values()):
        return _report(False, "", f"{what}: expected a dict of gg.Timing with the keys {names!r}, got {type(answer).__name__}")
    return _report(True, f"{what}: {compare_timings(names[1], answer[names[1]], names[0], answer[names[0]])}", "")


def check_tie(answer: Any, verdict: Any) -> Check:
    """Did the learner call a tie exactly when the comparison's interval (gg.compare_values) includes no difference?"""
    if verdict is None or not verdict.known_spread:
        print("This comparison kept no spread, so no tie can be called; measure with repeats.")
        return Check(None)
    return check_choice(answer, verdict.tie, (True, False), what="tie", expect="True (a tie) or False (a difference)",
                        why=f"The rule: {verdict.interval_text()}: "
                        + ("it includes no difference, so it is a tie." if verdict.tie
                           else "it excludes no difference, so the difference is larger than the noise."))


def check_prediction(prediction: Any, found: Any, *, what: str, choices: tuple = ("faster", "tie", "slower")) -> Check:
    """A prediction written before a measurement, against what the measurement found.

    `found` is a Verdict (gg.compare_values, Results.compare: its better / tie / worse becomes choices[0], [1], [2])
    or one of `choices` itself; None means this run did not measure it.
    """
    if found is None:
        print(f"This run did not measure {what}, so the prediction cannot be checked here.")
        return Check(None)
    why = ""
    if hasattr(found, "tie"):
        if not found.known_spread:
            print(f"This run kept no spread for {what}, so no tie can be called; measure with repeats.")
            return Check(None)
        why = str(found)
        found = choices[1] if found.tie else choices[0] if found.ratio > 1 else choices[2]
    if prediction is None:
        print(f"No prediction was written before the measurement ({what}). The run says {found!r}"
              + (f": {why}." if why else ".") + " Next time, write one down first: that is the exercise.")
        return Check(None)
    if prediction not in choices:
        return _report(False, "", f"{prediction!r} is not one of {', '.join(map(repr, choices))}")
    held = prediction == found
    print((f"✔ your prediction held: {what}: {found!r}. " if held else
           f"✘ the run disagrees: {what}: you predicted {prediction!r}, it says {found!r}; find the reason below. ")
          + why)
    return Check(held)
