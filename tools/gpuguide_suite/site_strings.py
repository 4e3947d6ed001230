"""The docs site's own words (its chrome): English here, translations in notebooks/i18n/<lang>/site.po.

One gettext catalog per language (msgctxt = key, msgid = the English below), kept in step by `suite update` and
checked by `suite check`, so a translation review reads every string the site adds to the notebooks in one file.
Placeholders such as {date} stay as they are; text in backquotes is an identifier and stays Latin.
"""

from __future__ import annotations

import re
from pathlib import Path


from .bidi import isolate_ltr
from .catalog import Catalog, Problem
from .languages import RTL_LANGUAGES, SOURCE_LANG

#: key -> English. Keys are stable; change the English and every translation turns fuzzy on `suite update`.
STRINGS: dict[str, str] = {
    "site.description": "Executed Jupyter notebooks on fast, small Hugging Face transformers inference on GPUs.",
    "site.footer": "Built from the run of {date}, commit {commit}.",
    "nav.home": "Home",
    "nav.notebooks": "Notebooks",
    "nav.results": "Results",
    "nav.gpu_results": "GPU results",
    "nav.instructor": "Instructor guide",
    "nav.api": "gg API",
    "api.title": "The gg API: what the notebooks import",
    "api.intro": "Every notebook imports the helper package once, as `gg`, so each call shows whose code runs: `gg.…` "
                 "is gpuguide's, `torch.…` and `transformers.…` are the libraries the notebooks teach. These are all "
                 "the names a notebook may use; the rest of the package is internal. The descriptions are the "
                 "docstrings, in English.",
    "api.name": "name",
    "api.what": "what it does",
    "expected.notebook": "notebook",
    "expected.device": "device",
    "expected.profile": "profile",
    "expected.minutes": "minutes to execute",
    "expected.none": "No run was available when this site was built.",
    "home.title": "gpuguide: fast, small transformers inference on GPUs",
    "home.intro": "Jupyter notebooks that teach how to make Hugging Face transformers inference fast and small on a "
                  "GPU. Each notebook page shows the outputs of a real run and says where they come from: the device, "
                  "the profile, the date, the versions and the commit.",
    "home.run": "This site was built from the run of {date} on {device} (profile `{profile}`, commit `{commit}`): "
                "{ok} ok, {skipped} skipped, {failed} failed.",
    "home.run_unknown": "No run summary was found when this site was built.",
    "home.edition_full": "Instructor edition: instructor notes are shown and solutions are folded away. "
                         "The learner edition leaves both out.",
    "home.edition_learner": "Learner edition: solutions and instructor notes are left out.",
    "home.index": "Notebooks",
    "home.more": "The run's tables and charts are on the [Results]({results}) page; results measured on GPUs are on "
                 "the [GPU results]({gpu_results}) page.",
    "meta.hardware": "Hardware",
    "meta.duration_minutes": "Minutes per profile",
    "meta.estimate": "~: an estimate, until a stored GPU run measures it",
    "meta.environment": "Environment",
    "meta.requires": "Requires",
    "meta.objectives": "Objectives",
    "meta.prerequisites": "Prerequisites",
    "meta.difficulty": "Difficulty",
    "meta.key_points": "Key points",
    "meta.this_run": "This run",
    "prov.title": "Where these outputs come from",
    "prov.device": "Device",
    "prov.profile": "Profile",
    "prov.date": "Run on",
    "prov.duration": "Run time",
    "prov.versions": "Versions",
    "prov.pinned": "pinned in {path}",
    "prov.environment": "Environment",
    "prov.commit": "Commit",
    "prov.parameters": "Parameters",
    "prov.status": "Status",
    "prov.seconds": "{seconds} s",
    "prov.download": "Download the executed notebook",
    "prov.colab": "Open in Colab",
    "prov.failed": "This notebook failed in this run: {reason}",
    "missing.body": "This notebook was not executed in this language in the run this site was built from, so there "
                    "are no outputs to show. Open it in Colab to run it yourself.",
    "widget.static": "An interactive widget was here. Widgets only work in a live notebook: open this notebook in "
                     "Jupyter or Colab to use it.",
    "instructor.label": "Instructor note",
    "results.title": "Results",
    "results.intro": "The report of the run this site was built from: each notebook's status in every language, every "
                     "measured variant, and one latency chart per notebook and group. The numbers describe only the "
                     "device named here. The tables are generated in English.",
    "results.none": "No run report was found when this site was built.",
    "gpu.title": "GPU results",
    "gpu.intro": "Results measured on GPUs and stored in the repository under `docs/results/`, each with the command "
                 "that produced it. These notes are in English.",
    "gpu.none": "No GPU results have been stored yet.",
    "unknown": "unknown",
    "claim.line": "{icon} **{head}** {what}: {detail}",
    "claim.holds": "This run agrees:",
    "claim.fails": "This run does not support this sentence:",
    "claim.unmeasured": "This run did not measure this:",
    "claim.elsewhere": "Stated for {profiles}; on this run's profile ({profile}):",
    "claim.better": "{a} better than {b} on {metric}",
    "claim.worse": "{a} worse than {b} on {metric}",
    "claim.tie": "{a} and {b} tie on {metric}",
    "claim.not_worse": "{a} at least as good as {b} on {metric}",
    "claim.not_better": "{a} no better than {b} on {metric}",
    "claim.within": "{a} within {value}x of {b} on {metric}",
    "claim.ratio_at_most": "{a} over {b} on {metric} at most {value}",
    "claim.ratio_at_least": "{a} over {b} on {metric} at least {value}",
    "claim.at_least": "{a}: {metric} at least {value}",
    "claim.at_most": "{a}: {metric} at most {value}",
    "claim.grows_with": "{a}: {metric} grows with {param}",
    "claim.ratio": "{ratio}x (95% interval {low}-{high}x)",
    "claim.more": "(and {n} more comparisons)",
    "claim.no_rows": "no rows to compare",
}

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_CODE = re.compile(r"`[^`]+`")


def catalog_path(root: Path, lang: str) -> Path:
    """notebooks/i18n/<lang>/site.po, next to the notebooks' catalogs."""
    return root / "notebooks" / "i18n" / lang / "site.po"


def catalog(root: Path, lang: str) -> Catalog:
    """The site strings' catalog in one language (msgctxt = key, msgid = the English in STRINGS)."""
    return Catalog(root, catalog_path(root, lang), lang, "tools/gpuguide_suite/site_strings.py")


def strings(root: Path, lang: str) -> dict[str, str]:
    """Every key in this language: the translation where it is usable (current, not fuzzy), else the English.
    Right-to-left languages get their left-to-right runs isolated (bidi.isolate_ltr with marks)."""
    if lang == SOURCE_LANG:
        return dict(STRINGS)
    usable = {k: e.msgstr for k, e in catalog(root, lang).usable().items() if STRINGS.get(k) == e.msgid}
    found = {key: usable.get(key, english) for key, english in STRINGS.items()}
    if lang in RTL_LANGUAGES:  # left-to-right runs as Unicode isolates: the strings also go into titles and attributes
        found = {key: isolate_ltr(text, marks=True) for key, text in found.items()}
    return found


def update(root: Path, lang: str) -> dict[str, int]:
    """Sync the catalog with STRINGS like msgmerge: new keys untranslated, changed English fuzzy. Returns counts."""
    return catalog(root, lang).update(STRINGS.items())


def problems(root: Path, lang: str) -> list[Problem]:
    """Missing, untranslated, fuzzy or stale strings, and translations that lost a placeholder or identifier."""
    found = catalog(root, lang).problems(STRINGS.items())
    usable = catalog(root, lang).usable() if catalog_path(root, lang).exists() else {}
    rel = str(catalog_path(root, lang).relative_to(root))
    for key, english in STRINGS.items():
        entry = usable.get(key)
        if entry is not None and entry.msgid == english:
            for kind, pattern in (("placeholder", _PLACEHOLDER), ("identifier", _CODE)):
                if sorted(pattern.findall(entry.msgstr)) != sorted(pattern.findall(english)):
                    found.append(Problem(rel, f"{key}: the translation must keep every {kind} of the English"))
    return found
