"""Left-to-right islands in right-to-left prose, so code and versions read the same as in English.

Inside `<div dir="rtl">` the Unicode bidi algorithm reorders neutral characters around Latin text: without help,
`benchmark()` displays as `()benchmark`, `02_sdpa` as `sdpa_02`, `5.x` after an Arabic word as `x.5`, and a fenced
bash block is right-aligned with each `#` at the end of its line. `isolate_ltr` marks those parts as left-to-right
isolates in the generated cell; the catalogs keep plain markdown.

- every inline code span and inline math expression: `<span dir="ltr">…</span>` (HTML gives any element with a
  `dir` attribute `unicode-bidi: isolate`; JupyterLab's sanitizer keeps `dir` on every element);
- every fenced code block: a `<div dir="ltr">` container, with blank lines so the fence inside is still markdown;
- a bare token that starts with a digit and would be reordered: digits mixed with Latin letters or `_` (`5.x`,
  `30xx/40xx`, `02_sdpa`), a number with a Latin unit (`16 GB`), or a comparison before a number (`≥ 40 GB`).
  Plain numbers (`0.37`, `4.48.3`, `55%`) display correctly on their own and are left alone, and so is a token
  that follows a Latin word (`transformers 5.x`, `RTX 30xx/40xx`): the bidi algorithm already keeps that phrase
  left-to-right as a whole, and isolating its tail would split it.

Nothing inside code spans, fenced blocks, math, HTML tags or link destinations is changed.
"""

from __future__ import annotations

import re

from .mdtext import segments

LTR_OPEN = '<span dir="ltr">'
LTR_CLOSE = "</span>"
BLOCK_OPEN = '<div dir="ltr">'
BLOCK_CLOSE = "</div>"

_UNIT = r"(?:[KMGTP]i?B(?:/s)?|[KMG]Hz|ms|µs|us|ns|T?FLOP/s|[TG]FLOPS|tok(?:ens)?/s)"
_TOKEN = re.compile(
    rf"(?<![A-Za-z0-9_.\-/+])(?P<cmp>[≥≤<>≈~]=?[ \u00a0]?)?\d[A-Za-z0-9_.\-/+]*?(?P<unit>[ \u00a0]{_UNIT}(?![A-Za-z0-9]))?"
    r"(?=[.\-/+]*(?:[^A-Za-z0-9_.\-/+]|$))"
)
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")


def _needs_isolate(match: re.Match, before: str) -> bool:
    token = match.group(0)
    if not (match.group("cmp") or match.group("unit") or re.search(r"[A-Za-z_]", token)):
        return False  # a plain number (digits, dots, commas): already one left-to-right run
    previous = before.rstrip(" \u00a0")[-1:]
    return not _LATIN_OR_DIGIT.fullmatch(previous or " ")


def _isolate_tokens(prose: str, before: str) -> str:
    out, pos = [], 0
    for match in _TOKEN.finditer(prose):
        if _needs_isolate(match, before + prose[:match.start()]):
            out += [prose[pos:match.start()], LTR_OPEN, match.group(0), LTR_CLOSE]
            pos = match.end()
    return "".join(out) + prose[pos:]


def _ltr_block(fence: str, indent: str, before: str, after: str) -> str:
    lead = "" if not before or before.endswith("\n\n") else ("\n" if before.endswith("\n") else "\n\n")
    trail = "" if not after or after.startswith("\n\n") else ("\n" if after.startswith("\n") else "\n\n")
    return f"{lead}{indent}{BLOCK_OPEN}\n\n{fence}\n\n{indent}{BLOCK_CLOSE}{trail}"


def isolate_ltr(text: str) -> str:
    """The markdown with code, math, versions and file names isolated left-to-right (see the module doc)."""
    out: list[str] = []
    for seg in segments(text):
        before = text[:seg.start]
        if seg.kind == "prose":
            out.append(_isolate_tokens(seg.text, before))
        elif seg.kind == "fence":
            indent = re.match(r"[ \t]*", seg.text).group(0)
            out.append(_ltr_block(seg.text, indent, "".join(out), text[seg.start + len(seg.text):]))
        elif seg.kind in ("code", "math"):
            out.append(f"{LTR_OPEN}{seg.text}{LTR_CLOSE}")
        else:
            out.append(seg.text)
    return "".join(out)


def strip_isolates(text: str) -> str:
    """Undo `isolate_ltr` on a single line (e.g. a title reused outside the right-to-left cell)."""
    return text.replace(LTR_OPEN, "").replace(LTR_CLOSE, "")
