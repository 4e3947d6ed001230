"""One gettext catalog model for every kind of translated text: notebooks' cells, pages' sections, the site's strings.

Each kind only extracts its units, (context, English) pairs in source order; updating (msgmerge), the usable
translations and the problems `suite check` reports are the same for all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import polib

from .languages import english_name, plural_forms


@dataclass(frozen=True)
class Problem:
    """One thing `suite check` fails on, with the file to fix."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Catalog:
    """One language's .po file for one English source (`source` names it in headers and occurrences)."""

    root: Path  # the repository
    path: Path
    lang: str
    source: str  # e.g. "notebooks/en/00_measuring.ipynb"
    unit: str = ""  # how problems name a unit: "cell", "section", or nothing for site-string keys

    def load(self) -> polib.POFile:
        """The catalog on disk, or a new empty one with gettext's header."""
        if self.path.exists():
            po = polib.pofile(str(self.path), wrapwidth=0)
            po.wrapwidth = 0
            return po
        po = polib.POFile(wrapwidth=0)
        po.metadata = {"Project-Id-Version": f"gpuguide {self.source}", "Language": self.lang, "MIME-Version": "1.0",
                       "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
                       "Plural-Forms": plural_forms(self.lang)}
        po.header = f"{english_name(self.lang)} translation of {self.source} (gpuguide)."
        return po

    def save(self, po: polib.POFile) -> None:
        """Write the catalog, only when its text changed (keeps file times and diffs quiet)."""
        po.wrapwidth = 0
        text = po.__unicode__()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or self.path.read_text(encoding="utf-8") != text:
            self.path.write_text(text, encoding="utf-8")

    def update(self, units: Iterable[tuple[str, str]]) -> dict[str, int]:
        """msgmerge in place and save: new units untranslated, changed ones fuzzy (the English the translation was
        made from kept as previous_msgid), vanished ones obsolete. Returns the counts."""
        po = self.load()
        counts = merge_entries(po, units, self.source)
        self.save(po)
        return counts

    def usable(self) -> dict[str, polib.POEntry]:
        """Entries a build may use: current, translated and not fuzzy (checked against the English by the caller)."""
        return {e.msgctxt: e for e in self.load() if not e.obsolete and e.msgstr and "fuzzy" not in e.flags}

    def problems(self, units: Iterable[tuple[str, str]]) -> list[Problem]:
        """Missing, stale, fuzzy or untranslated units, each named with the command that fixes it."""
        rel = self.relative_path()
        if not self.path.exists():
            return [Problem(rel, "catalog missing (run: python -m gpuguide_suite update)")]
        by_ctxt = {e.msgctxt: e for e in self.load() if not e.obsolete}
        found = []
        for ctxt, english in units:
            name = f"{self.unit} {ctxt}".strip()
            entry = by_ctxt.get(ctxt)
            if entry is None:
                found.append(Problem(rel, f"{name}: no entry (run suite update, then translate)"))
            elif entry.msgid != english:
                found.append(Problem(rel, f"{name}: stale, the English changed since (run suite update)"))
            elif "fuzzy" in entry.flags:
                found.append(Problem(rel, f"{name}: fuzzy, review the translation and remove the flag"))
            elif not entry.msgstr.strip():
                found.append(Problem(rel, f"{name}: not translated"))
        return found

    def relative_path(self) -> str:
        return str(self.path.relative_to(self.root))


def generated_problems(root: Path, path: Path, expected: str, sources: str) -> list[Problem]:
    """A generated file that is missing or differs from what its sources generate, naming the sources to edit."""
    rel = str(path.relative_to(root))
    if not path.exists():
        return [Problem(rel, f"missing: it is generated from {sources} (run: make build)")]
    if path.read_text(encoding="utf-8") != expected:
        return [Problem(rel, f"differs from what {sources} generate: edit those, not this file, then run: make build")]
    return []


def merge_entries(po: polib.POFile, sources: Iterable[tuple[str, str]], occurrence: str) -> dict[str, int]:
    """msgmerge, in place: one entry per (context, English) in source order; new ones untranslated, changed ones fuzzy
    with the English their translation was made from kept as previous_msgid, vanished ones obsolete. Returns counts."""
    by_ctxt = {e.msgctxt: e for e in po if not e.obsolete}
    counts = {"new": 0, "fuzzy": 0, "obsolete": 0}
    wanted = []
    for ctxt, english in sources:
        entry = by_ctxt.get(ctxt)
        if entry is None:
            entry = polib.POEntry(msgctxt=ctxt, msgid=english, msgstr="")
            counts["new"] += 1
        elif entry.msgid != english:
            if "fuzzy" not in entry.flags or not entry.previous_msgid:  # keep the English the translation was made from
                entry.previous_msgid = entry.msgid
            entry.msgid = english
            if entry.msgstr and "fuzzy" not in entry.flags:
                entry.flags.append("fuzzy")
            counts["fuzzy"] += 1
        entry.occurrences = [(occurrence, "")]
        wanted.append(entry)
    kept = {e.msgctxt for e in wanted}
    for entry in po:
        if not entry.obsolete and entry.msgctxt not in kept:
            entry.obsolete = True
            counts["obsolete"] += 1
    po[:] = wanted + [e for e in po if e.obsolete]
    return counts
