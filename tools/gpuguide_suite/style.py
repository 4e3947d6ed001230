"""The mechanical rules of the style guides (notebooks/i18n/<lang>/STYLE.md), checked on every translated cell.

Each rule looks only at prose: code spans, fenced blocks, math, HTML tags and link targets are masked first.

| rule | languages | what it rejects |
|---|---|---|
| `italic` | ar, ja, zh | `*x*` or `_x_` emphasis on Arabic or CJK text (those fonts have no italics) |
| `emphasis-flanking` | all | a `**` whose inner side is punctuation and outer side a letter: it renders as literal `**` |
| `bold-spacing` | ja | a half-width space between `**…**` and Japanese text when the span's edge is Japanese too |
| `halfwidth-punctuation` | ja, zh | `,` or `.` touching Han/kana (ja: 、。; zh: ，。), and zh `: ; ? !` after Han (：；？！) |
| `cjk-latin-space` | ja, zh | Han/kana written directly against a Latin letter or digit (one half-width space between them) |
| `gpu-memory` | zh | "GPU 内存" (GPU memory is 显存) |
| `latin-punctuation` | ar | `,` `;` `?` after an Arabic letter (، ؛ ؟) |
| `latin-label` | ar | a list item `**Label**: Latin words`: the label displays mid-line in RTL; start the value in Arabic |
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .languages import english_name
from .mdtext import mask

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA = "\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u31f0-\u31ff"  # without ・ (U+30FB, punctuation)
ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_MASK = "\u2060"  # what mdtext.mask puts in place of code, math and HTML (counts as punctuation: `, $, <)


def _name(lang: str) -> str:
    """'Arabic', 'Japanese', 'Chinese': the language as messages name it."""
    return english_name(lang).split(" (")[0]


_SCRIPT = {"ar": ARABIC, "ja": HAN + KANA, "zh": HAN}

_ITALIC = re.compile(r"(?<![*\\])\*(?![\s*])([^*\n]+?)(?<![\s*\\])\*(?!\*)|(?<![\w\\])_(?![\s_])([^_\n]+?)(?<![\s_\\])_(?!\w)")
_BOLD = re.compile(r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*")


@dataclass(frozen=True)
class Finding:
    rule: str
    snippet: str
    advice: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.snippet!r}: {self.advice}"


def _is_punct(ch: str) -> bool:
    return ch == _MASK or unicodedata.category(ch)[0] in "PS"


def _context(text: str, start: int, end: int, pad: int = 6) -> str:
    return text[max(0, start - pad):end + pad].replace("\n", " ").replace(_MASK, "…")


def _italic(text: str, lang: str) -> list[Finding]:
    script = re.compile(f"[{_SCRIPT[lang]}]")
    return [Finding("italic", _context(text, m.start(), m.end(), 2),
                    f"no italics on {_name(lang)} text (its fonts have none, browsers slant it artificially); "
                    "use plain wording or **bold**")
            for m in _ITALIC.finditer(text) if script.search(m.group(1) or m.group(2))]


def _flanking(text: str) -> list[Finding]:
    """CommonMark: `**` next to punctuation on its inner side opens/closes only if its outer side is space or punct."""
    out = []
    for m in _BOLD.finditer(text):
        inner_first, inner_last = m.group(1)[0], m.group(1)[-1]
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        bad = (_is_punct(inner_first) and not (before.isspace() or _is_punct(before))) or \
              (_is_punct(inner_last) and not (after.isspace() or _is_punct(after)))
        if bad:
            out.append(Finding("emphasis-flanking", _context(text, m.start(), m.end(), 2),
                               "this bold span renders as literal ** (it starts or ends with punctuation or code and "
                               "touches a letter outside): add a half-width space outside the ** or rephrase"))
    return out


def _bold_spacing(text: str) -> list[Finding]:
    ja = re.compile(f"[{HAN}{KANA}]")
    out = []
    for m in _BOLD.finditer(text):
        inner = m.group(1)
        left = m.start() >= 2 and text[m.start() - 1] == " " and ja.match(text[m.start() - 2]) and ja.match(inner[0])
        right = text[m.end():m.end() + 1] == " " and ja.match(text[m.end() + 1:m.end() + 2] or " ") and ja.match(inner[-1])
        if left or right:
            out.append(Finding("bold-spacing", _context(text, m.start() - 2, m.end() + 2, 0),
                               "no half-width space between **bold** and Japanese text (keep it only next to Latin, "
                               "digits or code, or where the span starts or ends with punctuation)"))
    return out


def _halfwidth(text: str, lang: str) -> list[Finding]:
    cjk = HAN + (KANA if lang == "ja" else "")
    marks = ",." if lang == "ja" else ",.:;?!"
    want = "、。" if lang == "ja" else "，。：；？！"
    pattern = re.compile(f"[{cjk}][{re.escape(marks)}]|[,.][{cjk}]")
    return [Finding("halfwidth-punctuation", _context(text, m.start(), m.end()),
                    f"half-width punctuation in {_name(lang)} text; use {want}")
            for m in pattern.finditer(text) if not (m.group(0)[-1] == "." and text[m.end():m.end() + 2] == "..")]


def _cjk_latin(text: str, lang: str) -> list[Finding]:
    cjk = HAN + (KANA if lang == "ja" else "")
    pattern = re.compile(f"[{cjk}][A-Za-z0-9]|[A-Za-z0-9][{cjk}]")
    return [Finding("cjk-latin-space", _context(text, m.start(), m.end()),
                    f"put one half-width space between {_name(lang)} and Latin letters or digits")
            for m in pattern.finditer(text)]


def _zh_gpu_memory(text: str) -> list[Finding]:
    return [Finding("gpu-memory", _context(text, m.start(), m.end()), "GPU memory is 显存 (内存 is host memory)")
            for m in re.finditer(r"GPU\s*(?:的\s*)?内存", text)]


def _ar_punctuation(text: str) -> list[Finding]:
    return [Finding("latin-punctuation", _context(text, m.start(), m.end()),
                    "use Arabic punctuation after Arabic words: ، ؛ ؟")
            for m in re.finditer(f"[{ARABIC}][,;?]", text)]


def _ar_label(text: str) -> list[Finding]:
    return [Finding("latin-label", m.group(0).strip(),
                    "a Latin bold label followed by Latin words displays mid-line in right-to-left text; "
                    "start the value with an Arabic word (e.g. «**AMD**: وحدات Instinct …»)")
            for m in re.finditer(rf"^[ \t]*(?:[-*+]|\d+\.)[ \t]+\*\*[^*{ARABIC}]+\*\*:[ \t]*[A-Za-z]\S*", text, re.M)]


def findings(translation: str, lang: str) -> list[Finding]:
    """Every mechanical style problem in one translated cell."""
    text = mask(translation, _MASK)
    found = _flanking(text)
    if lang in _SCRIPT:
        found += _italic(text, lang)
    if lang == "ja":
        found += _bold_spacing(text)
    if lang in ("ja", "zh"):
        found += _halfwidth(text, lang) + _cjk_latin(text, lang)
    if lang == "zh":
        found += _zh_gpu_memory(text)
    if lang == "ar":
        found += _ar_punctuation(text) + _ar_label(text)
    return found
