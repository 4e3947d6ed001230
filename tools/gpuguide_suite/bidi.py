"""Left-to-right islands in right-to-left prose, and right-to-left paragraphs that stay right-aligned in JupyterLab.

Inside `<div dir="rtl">` the Unicode bidi algorithm lays out every neutral character (space, sign, bracket, dot,
arrow, ellipsis) by the text around it, so Latin text that starts or ends with one is drawn out of order: `sm80+` as
`+sm80`, `C++` as `++C`, `benchmark()` as `()benchmark`, `137 GFLOP` as `GFLOP 137`, `+12.5%` as `%12.5+`.
`isolate_ltr` therefore marks every left-to-right run as an isolate, found by rule from the characters' Unicode bidi
classes (`unicodedata.bidirectional`), not from a list of token shapes:

- **A run** starts and ends at a strong left-to-right character (class L: Latin letters and other LTR scripts), a
  European digit (EN), an inline code span, inline math or a `{placeholder}`, and takes in everything between them
  (spaces, punctuation, signs, arrows, soft line breaks) up to the first right-to-left character (R, AL, AN) or
  Markdown structure (a table pipe, a list or heading marker, a blank line, an HTML tag, a fenced block).
- **Its edges** take the weak and neutral characters glued to it (no space between): signs and terminators (ES, ET:
  `+ - # % $ °`), other neutrals such as `…` or `™`, a math operator before it (`≥ 40 GB`, `+12.5%`), and a pair of
  brackets or quotes that encloses it exactly (`(sm75)`, `«…»`, `{date}`). Sentence punctuation (`. , : ;`) stays
  outside: it belongs to the Arabic sentence.
- **Brackets, quotes and emphasis stay whole**: a run never contains half of a pair (in `(… مع الحزمة kernels)`
  the closing bracket belongs to the Arabic clause, not to `kernels`), so the Markdown and the pairs around it are
  kept; a pair that opens and closes inside a run stays in it (`(backend) flash`, `**Flash** Attention`).
- **A rightwards arrow reads the way it points**: the items it joins form one run, so a menu path such as
  `Runtime → Change runtime type → وحدة GPU` displays in order even with an Arabic item in it.
- **Numbers alone** (`0.37`, `4.48.3`, `55%`, `1–3`, `0:10`) are left to the bidi algorithm, which reads them the
  Arabic way (`%55`, a range from right to left); a number with a sign or an operator (`+12.5%`, `32 × 8192`,
  `≥ 40`) or a unit (`16 GB`) is a run.

In Markdown (notebook cells, the instructor guide) a run becomes `<span dir="ltr">…</span>` (HTML gives any element
with a `dir` attribute `unicode-bidi: isolate`; JupyterLab's sanitizer keeps `dir` on every element); in plain
strings that may also end up in HTML attributes or titles (the site's strings) it becomes the Unicode isolate
characters U+2066 … U+2069 (`marks=True`). Every fenced code block gets a `<div dir="ltr">` container, with blank
lines so the fence inside is still Markdown. Nothing inside code spans, fenced blocks, math, HTML tags and comments
or link destinations is changed, and text already between U+2066 and U+2069 is left as it is.

`rtl_paragraphs` makes right-to-left paragraphs right-aligned where a stylesheet says otherwise: JupyterLab sets
`.jp-RenderedHTMLCommon p { text-align: left }`, which beats the start alignment `dir="rtl"` gives, and its sanitizer
drops `<style>` elements and any style that is not on its list. It keeps `style` attributes with `display: block` and
`text-align: right`, and a span is inline in Markdown, so each paragraph's text goes into
`<span style="display: block; text-align: right">` and stays Markdown inside.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .mdtext import segments

LTR_OPEN = '<span dir="ltr">'
LTR_CLOSE = "</span>"
LRI, PDI = "\u2066", "\u2069"  # LEFT-TO-RIGHT ISOLATE, POP DIRECTIONAL ISOLATE
BLOCK_OPEN = '<div dir="ltr">'
BLOCK_CLOSE = "</div>"
#: What JupyterLab's sanitizer keeps of a right-aligned block (it drops `text-align: start` and `<style>`).
PARAGRAPH_OPEN = '<span style="display: block; text-align: right">'
PARAGRAPH_CLOSE = "</span>"

# Kinds of units: L strong left-to-right (a letter, a code span, math, a placeholder), D a European digit,
# R right-to-left, S a space or soft line break, N any other (weak or neutral) character, B what no run crosses.
_PAIRS = {"(": ")", "[": "]", "{": "}", "«": "»", "‹": "›", "“": "”", '"': '"'}
_CLOSERS = {v: k for k, v in _PAIRS.items()}
_EMPHASIS = "*_"  # (a single `~` is "about", as in `~2 GB`: a sign, not strikethrough)
#: Punctuation that ends a clause: it belongs to the sentence around a run, never to the run's edge.
_SENTENCE = set(".,:;!?¡¿،؛؟")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);|\\[^\w\s]")
_LINE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)*[ \t]*(?:#{1,6}(?=[ \t])|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))?")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_THEMATIC = re.compile(r"^[ \t]{0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$")
_BLOCK_START = re.compile(r"^[ \t]{0,3}(?:#{1,6}(?:[ \t]|$)|[-*+][ \t]|\d{1,9}[.)][ \t]|>|\||`{3}|~{3}|<(?:/?(?:"
                          r"address|article|aside|blockquote|center|details|dialog|dir|div|dl|dt|dd|fieldset|figcaption"
                          r"|figure|footer|form|h[1-6]|header|hr|li|main|menu|nav|ol|p|section|summary|table|tbody|td"
                          r"|tfoot|th|thead|tr|ul)(?:[\s/>]|$)|!--))")


def _is_arrow(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return "RIGHTWARDS" in name and "ARROW" in name


def _kind(ch: str, previous: str) -> str:
    bidi = unicodedata.bidirectional(ch)
    if bidi == "L":
        return "L"
    if bidi == "EN":
        return "D"
    if bidi in ("R", "AL", "AN"):
        return "R"
    if bidi in ("WS", "S"):
        return "S"
    if bidi == "NSM":  # a combining mark belongs to the letter before it
        return previous if previous in ("L", "R") else "N"
    if bidi in ("B", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"):
        return "B"
    return "N"


@dataclass
class _Unit:
    text: str
    kind: str
    atom: bool = False  # a code span, math, a placeholder, an entity or a link destination: never split


def _soft_breaks(text: str) -> set[int]:
    """Offsets of the newlines that only wrap a paragraph (the next line continues it)."""
    soft, pos = set(), 0
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        pos += len(line)
        following = lines[i + 1]
        if (line.strip() and following.strip() and not _BLOCK_START.match(following)
                and not _TABLE_RULE.match(following)
                and not _THEMATIC.match(following) and not re.match(r"[ \t]*(?:#|\|)", line)):
            soft.add(pos)
        pos += 1
    return soft


def _structure(text: str) -> set[int]:
    """Offsets of Markdown structure characters no run may contain: line prefixes (list, heading, quote markers)
    and the pipes and rules of tables."""
    hard, pos = set(), 0
    for line in text.split("\n"):
        if _TABLE_RULE.match(line) and "-" in line:
            hard.update(range(pos, pos + len(line)))
        else:
            prefix = _LINE_PREFIX.match(line).end()
            if line[:prefix].strip():
                hard.update(range(pos, pos + prefix))
            if line.lstrip().startswith("|"):
                hard.update(pos + i for i, ch in enumerate(line) if ch == "|" and (i == 0 or line[i - 1] != "\\"))
        pos += len(line) + 1
    return hard


def _units(text: str) -> list[_Unit]:
    soft, hard = _soft_breaks(text), _structure(text)
    comments = [(m.start(), m.end()) for m in _COMMENT.finditer(text)]

    def in_comment(offset: int) -> int | None:
        return next((end for start, end in comments if start <= offset < end), None)

    units: list[_Unit] = []
    for seg in segments(text):
        if seg.kind != "prose":
            kind = {"code": "L", "math": "L", "url": "N"}.get(seg.kind, "B")
            if in_comment(seg.start) is not None:
                kind = "B"
            units.append(_Unit(seg.text, kind, atom=True))
            continue
        i, prose = 0, seg.text
        while i < len(prose):
            offset = seg.start + i
            comment_end = in_comment(offset)
            special = _PLACEHOLDER.match(prose, i) or _ENTITY.match(prose, i)
            if comment_end is not None:
                end = min(comment_end - seg.start, len(prose))
                units.append(_Unit(prose[i:end], "B", atom=True))
                i = end
            elif special:
                units.append(_Unit(special.group(0), "L" if special.re is _PLACEHOLDER else "N", atom=True))
                i = special.end()
            else:
                ch = prose[i]
                if offset in hard:
                    kind = "B"
                elif ch == "\n":
                    kind = "S" if offset in soft else "B"
                else:
                    kind = _kind(ch, units[-1].kind if units else "")
                units.append(_Unit(ch, kind))
                i += 1
    return _keep_isolates(units)


def _keep_isolates(units: list[_Unit]) -> list[_Unit]:
    """Text between U+2066/U+2067/U+2068 and its U+2069 is isolated already: one unit that no run enters."""
    out: list[_Unit] = []
    i = 0
    while i < len(units):
        if not units[i].atom and units[i].text in (LRI, "\u2067", "\u2068"):
            depth, j = 0, i
            while j < len(units):
                text = "" if units[j].atom else units[j].text
                depth += text in (LRI, "\u2067", "\u2068")
                depth -= text == PDI
                if depth == 0:
                    break
                j += 1
            if j < len(units):
                out.append(_Unit("".join(u.text for u in units[i:j + 1]), "B", atom=True))
                i = j + 1
                continue
        out.append(units[i])
        i += 1
    return out


def _strong(unit: _Unit) -> bool:
    return unit.kind in ("L", "D")


def _delimiter(units: list[_Unit], i: int) -> bool:
    """An emphasis delimiter: `*`, or `_` at the edge of a word (`02_sdpa` keeps its underscore)."""
    ch = units[i].text
    if units[i].atom or ch not in _EMPHASIS:
        return False
    if ch != "_":
        return True
    before = units[i - 1].text if i > 0 else " "
    after = units[i + 1].text if i + 1 < len(units) else " "
    return not (before[-1:].isalnum() and after[:1].isalnum())


def _unbalanced(units: list[_Unit], start: int, end: int) -> list[int]:
    """Indices in [start, end] of brackets, quotes and emphasis delimiters whose partner is outside the range."""
    stack: list[tuple[str, int]] = []
    bad: list[int] = []
    i = start
    while i <= end:
        unit = units[i]
        if not unit.atom and unit.kind == "N":
            ch = unit.text
            if _delimiter(units, i):
                j = i
                while j + 1 <= end and units[j + 1].text == ch and not units[j + 1].atom:
                    j += 1
                token = ch * (j - i + 1)
                if stack and stack[-1][0] == token:
                    stack.pop()
                else:
                    stack.append((token, i))
                i = j + 1
                continue
            if ch == '"':
                if stack and stack[-1][0] == '"':
                    stack.pop()
                else:
                    stack.append(('"', i))
            elif ch in _PAIRS:
                stack.append((ch, i))
            elif ch in _CLOSERS:
                if stack and stack[-1][0] == _CLOSERS[ch]:
                    stack.pop()
                else:
                    bad.append(i)
        i += 1
    return sorted(bad + [i for _, i in stack])


def _lead_attaches(unit: _Unit) -> bool:
    if unit.atom or unit.kind != "N" or unit.text in _PAIRS or unit.text in _CLOSERS or unit.text in _EMPHASIS:
        return False
    ch = unit.text  # a sign, a terminator, an operator, or the dot or slash that starts a file name
    return unicodedata.bidirectional(ch) in ("ES", "ET") or unicodedata.category(ch) == "Sm" or ch in "./@…"


def _trail_attaches(unit: _Unit) -> bool:
    if unit.atom or unit.kind != "N" or unit.text in _PAIRS or unit.text in _CLOSERS or unit.text in _EMPHASIS:
        return False
    ch = unit.text  # anything but clause punctuation (CS: `. , :`), quotes, arrows and Markdown or HTML syntax
    return (unicodedata.bidirectional(ch) != "CS" and ch not in _SENTENCE and ch not in "|<>`\\'’"
            and not _is_arrow(ch))


def _edges(units: list[_Unit], start: int, end: int, taken: set[int]) -> tuple[int, int]:
    """Grow a run over the characters glued to its edges and the pairs that enclose it exactly."""
    while True:
        grown = (start, end)
        while start > 0 and start - 1 not in taken and _lead_attaches(units[start - 1]):
            start -= 1
        if (start > 1 and start - 2 not in taken and units[start - 1].kind == "S" and units[start - 1].text == " "
                and units[start - 2].kind == "N" and not units[start - 2].atom
                and unicodedata.category(units[start - 2].text) == "Sm" and not _pairlike(units[start - 2])
                and units[start - 2].text != "|"
                and (start == 2 or units[start - 3].kind in ("S", "R", "B"))):
            start -= 2  # an operator before a number or name: `≥ 40 GB`
        while end + 1 < len(units) and end + 1 not in taken and _trail_attaches(units[end + 1]):
            end += 1
        if end + 1 < len(units) and units[end + 1].atom and units[end + 1].kind == "N" and units[end].text == "]":
            end += 1  # a link's destination goes with its text
        if (start > 0 and end + 1 < len(units) and start - 1 not in taken and end + 1 not in taken
                and not units[start - 1].atom and not units[end + 1].atom
                and _PAIRS.get(units[start - 1].text) == units[end + 1].text):
            start, end = start - 1, end + 1
        if (start, end) == grown:
            return start, end


def _pairlike(unit: _Unit) -> bool:
    return not unit.atom and unit.kind == "N" and (unit.text in _PAIRS or unit.text in _CLOSERS
                                                    or unit.text in _EMPHASIS)


def _stretches(units: list[_Unit]) -> list[tuple[int, int]]:
    """Maximal [lo, hi) ranges without right-to-left text or structure that hold a strong left-to-right unit."""
    found, lo = [], 0
    for i in range(len(units) + 1):
        if i == len(units) or units[i].kind in ("R", "B"):
            if any(_strong(units[k]) for k in range(lo, i)):
                found.append((lo, i))
            lo = i + 1
    return found


def _runs_in(units: list[_Unit], lo: int, hi: int) -> list[tuple[int, int]]:
    """The runs of [lo, hi): from its first to its last strong unit, with the brackets and emphasis delimiters glued
    to those ends, split at every bracket, quote or delimiter whose partner lies outside."""
    strong = [k for k in range(lo, hi) if _strong(units[k])]
    if not strong:
        return []
    start, end = strong[0], strong[-1]
    while start - 1 >= lo and _pairlike(units[start - 1]):
        start -= 1
    while end + 1 < hi and _pairlike(units[end + 1]):
        end += 1
    bad = _unbalanced(units, start, end)
    if not bad:
        return [(start, end)]
    pieces, piece_lo = [], start
    for cut in bad + [end + 1]:
        pieces += _runs_in(units, piece_lo, cut)
        piece_lo = cut + 1
    return pieces


def _item(units: list[_Unit], i: int, step: int, runs: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The menu item beside an arrow: the run there, or right-to-left words up to the nearest clause boundary."""
    while 0 <= i < len(units) and units[i].kind == "S":
        i += step
    if not 0 <= i < len(units):
        return None
    for start, end in runs:
        if start <= i <= end:
            return start, end
    if units[i].kind != "R":
        return None
    near = far = i
    while 0 <= i < len(units):
        unit = units[i]
        if unit.kind == "B" or (unit.kind == "N" and (unit.text in _SENTENCE or unit.text in _PAIRS
                                                      or unit.text in _CLOSERS or _is_arrow(unit.text))):
            break
        if unit.kind != "S":
            far = i
        i += step
    return min(near, far), max(near, far)


def _chains(units: list[_Unit], runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join the items on both sides of every rightwards arrow that is not inside a run yet."""
    changed = True
    while changed:
        changed = False
        for a, unit in enumerate(units):
            if unit.atom or not _is_arrow(unit.text) or any(s <= a <= e for s, e in runs):
                continue
            left, right = _item(units, a - 1, -1, runs), _item(units, a + 1, 1, runs)
            if left is None or right is None:
                continue
            start, end = min(left), max(right)
            if not any(units[k].kind == "L" for k in range(start, end + 1)):
                continue
            runs = sorted([r for r in runs if r[1] < start or r[0] > end] + [(start, end)])
            changed = True
            break
    return runs


def _isolates(units: list[_Unit]) -> list[tuple[int, int]]:
    runs = [run for lo, hi in _stretches(units) for run in _runs_in(units, lo, hi)]
    taken: set[int] = set()
    grown = []
    for start, end in runs:
        start, end = _edges(units, start, end, taken)
        taken.update(range(start, end + 1))
        grown.append((start, end))
    runs = _chains(units, grown)
    return [(s, e) for s, e in runs if _needs_isolate(units, s, e)]


def _needs_isolate(units: list[_Unit], start: int, end: int) -> bool:
    """Latin text, code or math always; a number only with a sign, an operator or a unit glued to it."""
    if any(units[k].kind == "L" for k in range(start, end + 1)):
        return True
    return any(not units[k].atom and units[k].kind == "N" and (unicodedata.bidirectional(units[k].text) == "ES"
                                                                or unicodedata.category(units[k].text) == "Sm")
               for k in range(start, end + 1))


def _ltr_block(fence: str, indent: str, before: str, after: str) -> str:
    lead = "" if not before or before.endswith("\n\n") else ("\n" if before.endswith("\n") else "\n\n")
    trail = "" if not after or after.startswith("\n\n") else ("\n" if after.startswith("\n") else "\n\n")
    return f"{lead}{indent}{BLOCK_OPEN}\n\n{fence}\n\n{indent}{BLOCK_CLOSE}{trail}"


def isolate_ltr(text: str, marks: bool = False) -> str:
    """The Markdown with every left-to-right run isolated (see the module doc).

    marks=False: `<span dir="ltr">` around runs and a `<div dir="ltr">` around fenced blocks (Markdown cells and
    pages). marks=True: U+2066 … U+2069 around runs, for strings that may be used outside HTML; a string with no
    right-to-left letter is not right-to-left prose and comes back unchanged.
    """
    units = _units(text)
    if marks and not any(u.kind == "R" for u in units):
        return text
    opens, closes = {}, {}
    for start, end in _isolates(units):
        opens[start], closes[end] = True, True
    out: list[str] = []
    pos = 0
    fences = {seg.start: seg for seg in segments(text) if seg.kind == "fence"}
    for i, unit in enumerate(units):
        if i in opens:
            out.append(LRI if marks else LTR_OPEN)
        if pos in fences and not marks:
            seg = fences[pos]
            indent = re.match(r"[ \t]*", seg.text).group(0)
            out.append(_ltr_block(seg.text, indent, "".join(out), text[pos + len(seg.text):]))
        else:
            out.append(unit.text)
        if i in closes:
            out.append(PDI if marks else LTR_CLOSE)
        pos += len(unit.text)
    return "".join(out)


def strip_isolates(text: str) -> str:
    """Undo `isolate_ltr` on a single line (e.g. a title reused outside the right-to-left cell)."""
    return text.replace(LTR_OPEN, "").replace(LTR_CLOSE, "").replace(LRI, "").replace(PDI, "")


# --- paragraphs ------------------------------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+)(?=\S)")
_QUOTE_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)+")


def _fenced_lines(text: str) -> set[int]:
    lines = set()
    for seg in segments(text):
        if seg.kind == "fence":
            first = text.count("\n", 0, seg.start)
            lines.update(range(first, first + seg.text.count("\n") + 1))
    return lines


def rtl_paragraphs(text: str) -> str:
    """Each paragraph's text (and each item's of a loose list) in a right-aligned block span, so that a stylesheet
    that left-aligns `p`, as JupyterLab's does, cannot pull right-to-left prose to the left. Headings, tight lists,
    tables, HTML blocks and fenced code are left as they are (`dir="rtl"` alone aligns them to the right)."""
    lines = text.split("\n")
    fenced = _fenced_lines(text)
    blocks: list[list[int]] = []  # [first line, last line, column where the text starts]
    loose: list[list[int]] = []
    items: list[list[int]] = []
    gap = in_list = blank = False
    state = ""  # what the previous non-blank line belongs to: paragraph, item, html, table, heading, fence

    def end_list() -> None:
        nonlocal items, gap, in_list
        if gap:
            loose.extend(items)
        items, gap, in_list = [], False, False

    for n, line in enumerate(lines):
        if n in fenced:
            state, blank = "fence", False
            continue
        quote = _QUOTE_PREFIX.match(line)
        col = quote.end() if quote else 0
        content = line[col:]
        if not content.strip():
            blank, state = True, ""
            continue
        indent = len(content) - len(content.lstrip())
        item = _LIST_ITEM.match(content)
        if item and not _THEMATIC.match(content):
            gap = gap or (in_list and blank)
            in_list = True
            items.append([n, n, col + item.end()])
            state, blank = "item", False
            continue
        if in_list:
            if not blank and state in ("item", "paragraph") and not _BLOCK_START.match(content):
                (items[-1] if state == "item" else blocks[-1])[1] = n  # a continuation line
                continue
            if blank and indent >= 2:  # a second paragraph of the item: the list is loose
                gap = True
                blocks.append([n, n, col + indent])
                state, blank = "paragraph", False
                continue
            end_list()
        if not blank and state in ("html", "table"):
            continue
        if not blank and state == "paragraph" and re.match(r"[ \t]{0,3}(?:=+|-+)[ \t]*$", content):
            blocks.pop()  # a setext underline: that "paragraph" was a heading
            state = "heading"
            continue
        if not blank and state == "paragraph" and not _BLOCK_START.match(content) and not _TABLE_RULE.match(content):
            blocks[-1][1] = n
            continue
        blank = False
        stripped = content.lstrip()
        if re.match(r"#{1,6}(?:[ \t]|$)", stripped) or _THEMATIC.match(content):
            state = "heading"
        elif stripped.startswith("|"):
            state = "table"
        elif stripped.startswith("<") and _BLOCK_START.match(content):
            state = "html"
        else:
            state = "paragraph"
            blocks.append([n, n, col + indent])
    end_list()
    for first, last, col in sorted(blocks + loose, reverse=True):
        lines[last] = lines[last].rstrip() + PARAGRAPH_CLOSE
        lines[first] = lines[first][:col] + PARAGRAPH_OPEN + lines[first][col:]
    return "\n".join(lines)


def right_to_left(text: str) -> str:
    """A right-to-left Markdown cell's body: left-to-right runs isolated, paragraphs right-aligned."""
    return rtl_paragraphs(isolate_ltr(text))
