"""Per-language glossaries: the sanctioned translation of each term, and renderings that must never be used.

`notebooks/i18n/<lang>/glossary.po` is an ordinary gettext catalog, so Poedit and Weblate (as a glossary component)
open it: msgid = the English term, msgctxt = the term with its sense when one English word has two, msgstr = the
sanctioned translation. Translator comments carry the rest, one `Key: value` per line:

    # Forbidden: محوِّل | محوّلات | /regex/
    # Allow: a longer phrase that contains a forbidden string but is right
    # Match: a regex over the English cell (default: the term as a word, simple plural allowed)
    # First use: مُهايِئ (adapter)
    # Note: why — free text

`suite check` fails on a catalog entry whose English matches a term while its translation contains a forbidden
rendering of that term. Forbidden renderings are plain substrings, or Python regexes between slashes; they are
matched on the translation with code, math, HTML and link targets masked, after removing Arabic diacritics (so
«محوِّل» also catches «محول»), and after removing the `Allow:` phrases.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polib

from .mdtext import mask

GLOSSARY_NAME = "glossary.po"
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, shadda, tatweel...
_KEYS = ("forbidden", "allow", "match", "first use", "note")


def normalize(text: str) -> str:
    """NFC, without Arabic diacritics and tatweel: the form forbidden renderings are matched in."""
    return _ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text))


def glossary_path(root: Path, lang: str) -> Path:
    return root / "notebooks" / "i18n" / lang / GLOSSARY_NAME


@dataclass(frozen=True)
class Term:
    key: str  # msgctxt, or msgid when there is none: what messages name
    english: str
    sanctioned: str
    match: re.Pattern
    forbidden: tuple[tuple[str, re.Pattern], ...]  # (as written, compiled)
    allow: tuple[str, ...] = ()
    first_use: str = ""
    note: str = ""

    def hits(self, translation: str) -> list[str]:
        """The forbidden renderings found in a translation, as they appear there."""
        text = normalize(mask(translation))
        for phrase in self.allow:
            text = text.replace(normalize(phrase), "\u2060" * len(phrase))
        found = []
        for _written, pattern in self.forbidden:
            found += [m.group(0) for m in pattern.finditer(text)]
        return found


@dataclass
class Glossary:
    lang: str
    path: Path | None
    terms: list[Term] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def problems(self, english: str, translation: str) -> list[tuple[Term, str]]:
        """(term, forbidden rendering found) for every term the English uses and the translation renders wrongly."""
        flat = re.sub(r"\s+", " ", mask(english, " "))  # the English prose only: code and math never name a term
        out = []
        for term in self.terms:
            if term.match.search(flat):
                out += [(term, hit) for hit in dict.fromkeys(term.hits(translation))]
        return out


def _pattern(item: str) -> re.Pattern:
    """A forbidden rendering: /regex/, else literal text (normalized like the translations it is looked for in)."""
    if len(item) > 2 and item.startswith("/") and item.endswith("/"):
        return re.compile(item[1:-1])
    return re.compile(re.escape(normalize(item)))


def default_match(english: str) -> re.Pattern:
    """The term as a whole word, case-insensitive, any whitespace between words, simple plural allowed."""
    words = r"\s+".join(re.escape(w) for w in english.split())
    return re.compile(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", re.I)


def _fields(comment: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in comment.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in _KEYS:
            fields[key.strip().lower()] = value.strip()
    return fields


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(" | ") if v.strip()] if value else []


def load(root: Path, lang: str) -> Glossary:
    path = glossary_path(root, lang)
    glossary = Glossary(lang, path if path.exists() else None)
    if not path.exists():
        return glossary
    for entry in polib.pofile(str(path), wrapwidth=0):
        if entry.obsolete or not entry.msgid:
            continue
        key = entry.msgctxt or entry.msgid
        fields = _fields(entry.tcomment or "")
        try:
            match = re.compile(fields["match"], re.I) if "match" in fields else default_match(entry.msgid)
            forbidden = tuple((f, _pattern(f)) for f in _split(fields.get("forbidden", "")))
        except re.error as error:
            glossary.errors.append(f"term {key!r}: bad regex ({error})")
            continue
        if not entry.msgstr:
            glossary.errors.append(f"term {key!r}: no sanctioned translation (msgstr is empty)")
        term = Term(key, entry.msgid, entry.msgstr, match, forbidden, tuple(_split(fields.get("allow", ""))),
                    fields.get("first use", ""), fields.get("note", ""))
        if term.hits(entry.msgstr):
            glossary.errors.append(f"term {key!r}: the sanctioned translation contains a forbidden rendering")
        glossary.terms.append(term)
    return glossary
