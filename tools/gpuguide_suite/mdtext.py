"""Split a markdown cell into prose and the parts no prose rule may touch.

Protected parts, in the order a reader meets them: fenced code blocks, inline code spans, display and inline math
(`$$…$$`, `$…$`), raw HTML tags and autolinks, and link destinations (`](url)`). Everything else is prose. Joining
the pieces gives the text back unchanged, so a transformation can rewrite prose and wrap protected parts without
ever editing inside them.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

_PROTECTED = re.compile(
    r"""
    (?P<fence>^(?P<indent>[ \t]*)(?P<mark>`{3,}|~{3,})[^\n]*\n(?:.*?\n)??(?P=indent)(?P=mark)[`~]*[ \t]*$)
  | (?P<code>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))
  | (?P<dmath>\$\$.+?\$\$)
  | (?P<math>(?<![\\$\w])\$(?![\s$])[^$\n]+?(?<![\s\\])\$(?![\w$]))
  | (?P<html></?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?>|<(?:https?|mailto):[^<>\s]+>)
  | (?P<url>(?<=\])\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*(?:\s+"[^"]*")?\))
    """,
    re.X | re.S | re.M,
)
KINDS = ("fence", "code", "dmath", "math", "html", "url")


class Segment(NamedTuple):
    kind: str  # "prose" or one of KINDS
    text: str
    start: int  # offset in the cell


def segments(text: str) -> Iterator[Segment]:
    """The cell as consecutive segments; "".join(s.text for s in segments(t)) == t."""
    pos = 0
    for match in _PROTECTED.finditer(text):
        if match.start() > pos:
            yield Segment("prose", text[pos:match.start()], pos)
        kind = next(k for k in KINDS if match.group(k) is not None)
        yield Segment(kind, match.group(0), match.start())
        pos = match.end()
    if pos < len(text):
        yield Segment("prose", text[pos:], pos)


def mask(text: str, fill: str = "\u2060") -> str:
    """The cell with every protected part replaced by `fill` characters (same length, offsets kept).

    Newlines inside protected parts are kept so that line-based rules still see the same lines. The default fill,
    U+2060 WORD JOINER, is neither a letter, a space nor punctuation in the sense of the style rules.
    """
    return "".join(s.text if s.kind == "prose" else re.sub(r"[^\n]", fill, s.text) for s in segments(text))
