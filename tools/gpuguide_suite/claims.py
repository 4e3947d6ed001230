"""Claims bound to rows: every sentence of a discussion that states a measured effect, checked against its own run.

A markdown cell of an English source notebook lists its claims in `metadata.gpuguide.claims`; each names the rows it
rests on and the relation the sentence states:

    {"id": "int8-tie", "group": "int8 quantization", "metric": "latency_s", "a": "ORT int8 dynamic…", "b": "ORT fp32 (CPU)",
     "relation": "tie", "profiles": ["cpu"], "says": "int8 is no faster than fp32 on this CPU"}

relations: better, worse, tie, not_worse, not_better (a against b, by `gg.compare_values`, the tables' own rule: the
95% interval of the ratio); within (a and b differ by at most the factor `value`, either way: "small differences");
ratio_at_most and ratio_at_least (a's value over b's against `value`: "about a quarter of the size"); at_least and
at_most (a's value against `value`); grows_with (a's metric rises along `param`). `where` narrows the rows by params ({"seq_len": "largest"} or a value); `profiles` says where the sentence is
meant to hold (default: every profile). `variant_prefix: true` lets `a`/`b` match a variant by its start (names that
carry a detail of this machine, such as the int8 configuration); `group_prefix: true` does the same for a group named
after the profile's model.

After a run, `annotate` writes under each claimed cell of an executed notebook one line per claim, in the notebook's
language, saying what this run shows: agrees, does not support it (a visible warning), did not measure it, or, for a
sentence about another profile, what this profile shows. The outcomes go to summary.json and the report.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat

from gpuguide_utils.results import compare_values

from .i18n import localize

RELATIONS = ("better", "worse", "tie", "not_worse", "not_better", "within", "ratio_at_most", "ratio_at_least",
             "at_least", "at_most", "grows_with")
PAIRED = ("better", "worse", "tie", "not_worse", "not_better", "within", "ratio_at_most", "ratio_at_least")
EVIDENCE_TAG = "evidence"
#: Words by which `suite check` recognizes a discussion sentence that states a measured comparison.
COMPARISON = re.compile(r"\b(faster|slower|smaller|larger|less memory|more memory|ties?|tied|same outputs|grows?|"
                        r"speed-?ups?|wins?|beats?|advantage|outperforms?)\b", re.I)


@dataclass(frozen=True)
class Outcome:
    """What one run says about one claim."""

    notebook: str
    cell: str
    id: str
    says: str
    status: str  # holds, fails, unmeasured, elsewhere (the claim is about other profiles: shown, not counted)
    evidence: str  # English, for the report
    values: dict[str, Any]  # the numbers behind the evidence line, for the translated line


def claims_of(cell: Any) -> list[dict[str, Any]]:
    return list(cell.get("metadata", {}).get("gpuguide", {}).get("claims", []))


def schema_problems(claim: dict[str, Any]) -> list[str]:
    """What is missing or unknown in one claim's metadata."""
    found = [f"claim {claim.get('id', '?')}: {key} is missing" for key in ("id", "group", "metric", "a", "relation", "says")
             if not claim.get(key)]
    relation = claim.get("relation")
    if relation not in RELATIONS:
        found.append(f"claim {claim.get('id', '?')}: relation {relation!r} is not one of {', '.join(RELATIONS)}")
    elif relation in PAIRED and not claim.get("b"):
        found.append(f"claim {claim.get('id')}: relation {relation} needs b (the variant compared with)")
    elif relation in ("within", "ratio_at_most", "ratio_at_least") and not isinstance(claim.get("value"), (int, float)):
        found.append(f"claim {claim.get('id')}: relation {relation} needs a number in value")
    elif relation in ("at_least", "at_most") and not isinstance(claim.get("value"), (int, float)):
        found.append(f"claim {claim.get('id')}: relation {relation} needs a number in value")
    elif relation == "grows_with" and not claim.get("param"):
        found.append(f"claim {claim.get('id')}: relation grows_with needs param")
    return found


def _higher_is_better(claim: dict[str, Any]) -> bool:
    metric = claim["metric"]
    return claim.get("higher_is_better", metric.endswith("_per_s") or "agreement" in metric)


def _matches(variant: str, wanted: str, prefix: bool) -> bool:
    return variant.startswith(wanted) if prefix else variant == wanted


def _select(rows: list[dict], claim: dict[str, Any], which: str) -> list[dict]:
    """Rows of the claim's group and variant `which` ('a' or 'b'), narrowed by `where`."""
    prefix = bool(claim.get("variant_prefix"))
    chosen = [r for r in rows if _matches(r["group"], claim["group"], bool(claim.get("group_prefix")))
              and _matches(r["variant"], claim[which], prefix)]
    for param, wanted in (claim.get("where") or {}).items():
        values = sorted({r["params"].get(param) for r in chosen if r["params"].get(param) is not None})
        if wanted in ("largest", "smallest") and values:
            wanted = values[-1] if wanted == "largest" else values[0]
        chosen = [r for r in chosen if r["params"].get(param) == wanted]
    return chosen


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def evaluate(claim: dict[str, Any], rows: list[dict], profile: str, notebook: str = "", cell: str = "") -> Outcome:
    """One claim on one run's rows, with the same statistics as the tables."""
    base = dict(notebook=notebook, cell=cell, id=claim["id"], says=claim["says"])
    meant = claim.get("profiles")
    elsewhere = bool(meant) and profile not in meant
    a_rows = _select(rows, claim, "a")
    ran = [r for r in a_rows if r["status"] == "ok" and r["metrics"].get(claim["metric"]) is not None]
    if not ran:
        why = next((f"{r['status']}: {r['reason']}" for r in a_rows if r["status"] != "ok"), "no such row in this run")
        return Outcome(**base, status="elsewhere" if elsewhere else "unmeasured", evidence=f"{claim['a']}: {why}",
                       values=dict(kind="unmeasured", why=why))
    relation, metric = claim["relation"], claim["metric"]
    checks: list[tuple[bool, str, dict[str, Any]]] = []
    if relation in PAIRED:
        b_rows = {json.dumps(r["params"], sort_keys=True): r for r in _select(rows, claim, "b") if r["status"] == "ok"}
        for r in ran:
            other = b_rows.get(json.dumps(r["params"], sort_keys=True))
            verdict = other and compare_values(r["variant"], r["metrics"], other["variant"], other["metrics"], metric,
                                               _higher_is_better(claim))
            if relation in ("ratio_at_most", "ratio_at_least") and other is not None:
                value = r["metrics"][metric] / other["metrics"][metric]
                holds = value <= claim["value"] if relation == "ratio_at_most" else value >= claim["value"]
                checks.append((holds, f"{r['variant']} / {other['variant']}: {value:.3g}",
                               dict(kind="value", params=_params_text(r["params"]), value=value)))
                continue
            if not verdict or (not verdict.known_spread and relation != "within"):
                continue
            holds = {"better": verdict.better, "worse": not verdict.tie and verdict.ratio < 1, "tie": verdict.tie,
                     "not_worse": verdict.tie or verdict.ratio > 1, "not_better": verdict.tie or verdict.ratio < 1,
                     "within": 1 / claim.get("value", 1) <= verdict.ratio <= claim.get("value", 1)}
            interval = (f"95% interval {verdict.low:.2f}-{verdict.high:.2f}x, {verdict.method}" if verdict.low is not None
                        else verdict.method)
            text = (f"{_params_text(r['params']) + ': ' if r['params'] else ''}{r['variant']} vs {other['variant']}: "
                    f"{verdict.ratio:.2f}x ({interval}{', a tie' if verdict.tie else ''})")
            checks.append((holds[relation], text, dict(kind="ratio", params=_params_text(r["params"]),
                                                       ratio=verdict.ratio, low=verdict.low, high=verdict.high,
                                                       tie=verdict.tie)))
    elif relation in ("at_least", "at_most"):
        for r in ran:
            value = r["metrics"][metric]
            holds = value >= claim["value"] if relation == "at_least" else value <= claim["value"]
            checks.append((holds, f"{_params_text(r['params']) + ': ' if r['params'] else ''}{metric} = {value:.4g}",
                           dict(kind="value", params=_params_text(r["params"]), value=value)))
    else:  # grows_with
        ordered = sorted(ran, key=lambda r: r["params"].get(claim["param"], 0))
        values = [r["metrics"][metric] for r in ordered]
        holds = len(values) >= 2 and values[-1] > values[0] and all(b >= a * 0.98 for a, b in zip(values, values[1:]))
        steps = " < ".join(f"{v:.3g}" for v in values)
        checks.append((holds, f"{metric} along {claim['param']}: {steps}", dict(kind="series", series=steps)))
    if not checks:
        why = "no comparable pair with a recorded spread"
        return Outcome(**base, status="elsewhere" if elsewhere else "unmeasured", evidence=why,
                       values=dict(kind="unmeasured", why=why))
    failing = [c for c in checks if not c[0]]
    shown = failing[0] if failing else checks[-1]
    status = "elsewhere" if elsewhere else ("fails" if failing else "holds")
    more = f" (and {len(checks) - 1} more)" if len(checks) > 1 else ""
    return Outcome(**base, status=status, evidence=shown[1] + more, values=dict(shown[2], more=len(checks) - 1))


def line(outcome: Outcome, claim: dict[str, Any], s: dict[str, str], profile: str) -> str:
    """The evidence line under a claimed sentence, in the language of the site strings `s`."""
    what = s[f"claim.{claim['relation']}"].format(a=f"`{claim['a']}`", b=f"`{claim.get('b', '')}`",
                                                  metric=f"`{claim['metric']}`", value=claim.get("value", ""),
                                                  param=f"`{claim.get('param', '')}`")
    v = outcome.values
    if v["kind"] == "ratio":
        number = s["claim.ratio"].format(ratio=f"{v['ratio']:.2f}", low=f"{v['low']:.2f}" if v["low"] else "?",
                                         high=f"{v['high']:.2f}" if v["high"] else "?")
        detail = f"{v['params']}: {number}" if v["params"] else number
    elif v["kind"] == "value":
        detail = f"{v['params']}: {v['value']:.4g}" if v["params"] else f"{v['value']:.4g}"
    elif v["kind"] == "series":
        detail = v["series"]
    else:
        detail = s["claim.no_rows"]
    if v.get("more"):
        detail += " " + s["claim.more"].format(n=v["more"])
    head = {"holds": s["claim.holds"], "fails": s["claim.fails"], "unmeasured": s["claim.unmeasured"],
            "elsewhere": s["claim.elsewhere"].format(profiles=", ".join(claim.get("profiles", [])), profile=profile)}
    icon = {"holds": "✅", "fails": "⚠️", "unmeasured": "ℹ️", "elsewhere": "ℹ️"}[outcome.status]
    return "> " + s["claim.line"].format(icon=icon, head=head[outcome.status], what=what, detail=detail)


def annotate(executed: Path, rows: list[dict], notebook: str, profile: str, s: dict[str, str],
             lang: str = "en") -> list[Outcome]:
    """Write the evidence cell under every claimed cell of an executed notebook; return the outcomes."""
    nb = nbformat.read(executed, as_version=4)
    cells, outcomes = [], []
    for cell in nb.cells:
        if EVIDENCE_TAG in cell.get("metadata", {}).get("tags", []):
            continue  # a rendered translation carries the source language's lines: they are written anew here
        cells.append(cell)
        claims = claims_of(cell)
        if not claims:
            continue
        found = [evaluate(c, rows, profile, notebook, cell.get("id", "")) for c in claims]
        outcomes += found
        text = localize("\n>\n".join(line(o, c, s, profile) for o, c in zip(found, claims)), lang)
        evidence = nbformat.v4.new_markdown_cell(text, id=f"{cell.get('id')}-evidence")
        evidence.metadata["tags"] = [EVIDENCE_TAG]
        cells.append(evidence)
    nb.cells = cells
    nbformat.write(nb, executed)
    return outcomes


def to_dicts(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(o).items() if k != "values"} for o in outcomes]


def discussion_problems(nb: Any) -> list[str]:
    """The heuristic `suite check` applies: a markdown cell whose id says it discusses results ('discussion' in it)
    and whose English uses a comparison word (COMPARISON) needs claims, or `claims_note` saying why none can be
    checked (e.g. a sentence about GPUs, with its cited source)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        meta = cell.get("metadata", {}).get("gpuguide", {})
        for claim in meta.get("claims", []):
            found += [f"cell {cell.get('id')}: {p}" for p in schema_problems(claim)]
        words = sorted({w.lower() for w in COMPARISON.findall(cell.source)})
        if "discussion" in (cell.get("id") or "") and words and not meta.get("claims") and not meta.get("claims_note"):
            found.append(f"cell {cell.get('id')} states a comparison ({', '.join(words)}) but has no claims "
                         "(metadata.gpuguide.claims, see tools/gpuguide_suite/claims.py) and no claims_note")
    return found
