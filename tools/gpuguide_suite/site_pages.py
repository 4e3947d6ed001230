"""The docs site's pages for one language and edition, written as plain Markdown and notebooks into a docs folder.

Notebook pages are the executed notebooks, filtered by cell tags, with a box saying where their outputs come from;
the home page lists the notebooks from their metadata; the results page holds the run's report and charts; the
GPU results page holds docs/results/. Nothing here executes a notebook.
"""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import nbformat

from .index import GITHUB_REPO, colab_url
from .bidi import isolate_ltr
from .notebooks import RTL_LANGUAGES, Notebook, dumps, read_notebook, unmarked
from .profiles import PROFILES
from .store import measured_profiles, minutes_shown

#: Cells no edition shows: papermill's injected parameters and the cells the runner adds to execute solutions.
ALWAYS_HIDDEN = frozenset({"injected-parameters", "solution-run"})
#: Cells the learner edition also leaves out: instructor notes and worked solutions.
LEARNER_HIDDEN = frozenset({"instructor", "solution"})
#: metadata.gpuguide keys that are bookkeeping, not something a reader of the index needs.
_INTERNAL_META = {"title", "profiles", "lang", "generated_from", "do_not_edit", "lesson", "copy", "outputs_from"}
#: Keys shown first on the home page, in this order; any other key follows, sorted.
_META_ORDER = ("objectives", "difficulty", "hardware", "duration_minutes", "environment", "requires", "prerequisites",
               "key_points")
#: Keys whose values are identifiers (shown as code).
_IDENTIFIER_META = {"environment"}
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass
class Run:
    """What the build folder says about the run: summary.json, the report, the charts and each notebook's outcome."""

    build: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, build: Path) -> "Run":
        path = build / "summary.json"
        summary = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return cls(build, summary)

    @property
    def environment(self) -> dict[str, Any]:
        return self.summary.get("environment") or {}

    @property
    def commit(self) -> str:
        return str(self.summary.get("commit") or "")

    @property
    def date(self) -> str:
        return format_time(self.summary.get("finished") or self.summary.get("started"))

    def outcome(self, lang: str, name: str) -> dict[str, Any]:
        return next((o for o in self.summary.get("outcomes", []) if o.get("lang") == lang and o.get("notebook") == name),
                    {})

    def counts(self) -> dict[str, int]:
        outcomes = self.summary.get("outcomes", [])
        return {s: sum(o.get("status") == s for o in outcomes) for s in ("ok", "skipped", "failed")}

    def executed(self, lang: str, name: str) -> Path | None:
        path = self.build / "executed" / lang / f"{name}.ipynb"
        return path if path.exists() else None

    def names(self) -> set[str]:
        return {p.stem for p in (self.build / "executed").glob("*/*.ipynb")}


def format_time(value: str | None) -> str:
    """'2026-12-01T23:06:29.006591+00:00' -> '2026-12-01 23:06 UTC' (the text as given when it is not ISO)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    offset = moment.utcoffset()
    zone = "UTC" if offset is not None and not offset.total_seconds() else (moment.strftime("%z") if offset else "")
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()


def fmt(template: str, **values: Any) -> str:
    """Fill {name} placeholders by plain replacement (translated text may hold other braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def short_commit(commit: str) -> str:
    return commit[:12] if re.fullmatch(r"[0-9a-f]{40}", commit or "") else (commit or "")


def _tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def filter_cells(nb: nbformat.NotebookNode, hidden: frozenset[str] | set[str]) -> nbformat.NotebookNode:
    """A copy of the notebook without the cells carrying any of the hidden tags."""
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if not (_tags(c) & set(hidden))]
    return out


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first '# ' heading of any markdown cell (inside the Arabic RTL wrapper too), else the fallback."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _ltr(value: Any) -> str:
    """Text that must read left to right in any page direction (identifiers, versions, devices)."""
    return f'<bdi dir="ltr">{_escape(value)}</bdi>'


def _code(value: Any) -> str:
    return f"<code>{_escape(value)}</code>"


def _versions(meta: dict[str, Any], run: Run, root: Path, s: dict[str, str]) -> str:
    """The package versions this notebook ran with: the run's own for the main environment, pins for a side one."""
    environment = meta.get("environment", "main")
    if environment == "main":
        env = run.environment
        pairs = [("python", env.get("python_version"))] + list((env.get("versions") or {}).items())
        shown = [f"{name} {version}" for name, version in pairs if version]
        return _ltr(", ".join(shown)) if shown else _escape(s["unknown"])
    pins_file = root / "environments" / environment / "requirements.txt"
    pins = []
    if pins_file.exists():
        for line in pins_file.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if "==" in line and not line.startswith("-"):
                pins.append(line.replace("==", " "))
    rel = f"environments/{environment}/requirements.txt"
    where = fmt(s["prov.pinned"], path=_code(rel))
    return f"{_ltr(', '.join(pins))} ({where})" if pins else where


def provenance_html(name: str, lang: str, nb: nbformat.NotebookNode, meta: dict[str, Any], run: Run, root: Path,
                    s: dict[str, str]) -> str:
    """The 'where these outputs come from' box: device, profile, date, versions, commit, parameters, links."""
    papermill = nb.metadata.get("papermill", {})
    outcome = run.outcome(lang, name)
    results = run.build / "results" / lang / f"{name}.json"  # the device the notebook itself recorded
    device = json.loads(results.read_text(encoding="utf-8")).get("device", "") if results.exists() else ""
    device = device or run.environment.get("label") or s["unknown"]
    params = {k: v for k, v in (papermill.get("parameters") or {}).items() if k != "results_path"}
    commit = run.commit
    commit_html = (f'<a href="https://github.com/{GITHUB_REPO}/commit/{_escape(commit)}">{_code(short_commit(commit))}</a>'
                   if re.fullmatch(r"[0-9a-f]{40}", commit) else _escape(s["unknown"] if commit in ("", "unknown") else commit))
    duration = papermill.get("duration")
    rows = [
        ("prov.device", _ltr(device)),
        ("prov.profile", _code(run.summary.get("profile") or s["unknown"])),
        ("prov.date", _ltr(format_time(papermill.get("end_time")) or run.date or s["unknown"])),
    ]
    if duration is not None:
        rows.append(("prov.duration", _escape(fmt(s["prov.seconds"], seconds=f"{float(duration):.1f}"))))
    environment = meta.get("environment", "main")
    rows += [
        ("prov.environment", _code(environment)),
        ("prov.versions", _versions(meta, run, root, s)),
        ("prov.commit", commit_html),
    ]
    if params:
        rows.append(("prov.parameters", _ltr_raw(", ".join(_code(f"{k}={v!r}") for k, v in params.items()))))
    status = outcome.get("status")
    if status:
        rows.append(("prov.status", _code(status)))
    direction = ' dir="rtl"' if lang in RTL_LANGUAGES else ""
    lines = [f'<div class="gg-provenance" lang="{lang}"{direction}>',
             f'<p class="gg-provenance__title"><strong>{_escape(s["prov.title"])}</strong></p>',
             "<dl>"]
    lines += [f"<dt>{_escape(s[key])}</dt><dd>{value}</dd>" for key, value in rows]
    lines.append("</dl>")
    if status == "failed":
        reason = _escape(outcome.get("reason", ""))
        lines.append(f'<p class="gg-provenance__failed">{fmt(_escape(s["prov.failed"]), reason=_ltr_raw(reason))}</p>')
    lines.append(f'<p class="gg-provenance__links"><a class="gg-download" href="../downloads/{_escape(name)}.ipynb" '
                 f'download>{_escape(s["prov.download"])}</a> · '
                 f'<a class="gg-colab" href="{_escape(colab_url(Notebook(name, root), lang))}">{_escape(s["prov.colab"])}</a></p>')
    lines.append("</div>")
    return "\n".join(lines)


def _ltr_raw(escaped: str) -> str:
    return f'<bdi dir="ltr">{escaped}</bdi>'


def static_widgets(nb: nbformat.NotebookNode, s: dict[str, str]) -> None:
    """Widgets need a live kernel and a widget manager from a CDN: show a note, and the widget's own static picture
    where it left one (06's explorer does), instead.

    Without metadata.widgets, nbconvert's templates (the site's and the slides') add no script from unpkg.com.
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if _WIDGET_MIME in data:
                picture = data.get("image/png")
                image = f'\n<img class="gg-widget-preview" src="data:image/png;base64,{picture}">' if picture else ""
                output["data"] = {"text/html": f'<p class="gg-widget">{_escape(s["widget.static"])}</p>{image}'}


def rendered_notebook(nb: nbformat.NotebookNode, name: str, lang: str, hidden: frozenset[str], run: Run, root: Path,
                      s: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook as its page shows it: hidden cells gone, instructor notes labelled, the provenance box added."""
    out = filter_cells(nb, hidden)
    meta = dict(out.metadata.get("gpuguide", {}))
    for cell in out.cells:
        if cell.cell_type == "markdown" and "instructor" in _tags(cell):
            cell.source = f'<p class="gg-badge">{_escape(s["instructor.label"])}</p>\n\n{cell.source}'
    static_widgets(out, s)
    box = nbformat.v4.new_markdown_cell(provenance_html(name, lang, nb, meta, run, root, s), id="gpuguide-provenance")
    first_markdown = next((i for i, c in enumerate(out.cells) if c.cell_type == "markdown"), -1)
    out.cells.insert(first_markdown + 1, box)
    return out


def _meta_value(value: Any, lang: str) -> str:
    """Markdown for one metadata value: per-language dicts pick the language, lists become lists."""
    if isinstance(value, dict):
        if value and set(value) <= {"en", "ar", "ja", "zh"}:
            return _meta_value(value.get(lang, value.get("en", "")), lang)
        order = {name: i for i, name in enumerate(PROFILES)}
        keys = sorted(value, key=lambda k: (order.get(k, len(order)), str(k)))
        return " · ".join(f"`{k}` {_meta_value(value[k], lang)}" for k in keys)
    if isinstance(value, (list, tuple)):
        items = [_meta_value(v, lang) for v in value]
        if all(isinstance(v, str) and re.fullmatch(r"[\w.\-]+", v) for v in value):
            return ", ".join(f"`{v}`" for v in value)
        return "".join(f"\n    - {item}" for item in items)
    return str(value).replace("\n", " ")


def meta_lines(meta: dict[str, Any], lang: str, s: dict[str, str], measured: set[str] = frozenset()) -> list[str]:
    """A bullet per metadata key a reader cares about; unknown keys are shown too, missing ones are skipped. GPU
    minutes that no stored run (`measured`: their profiles) has measured are marked as estimates."""
    keys = [k for k in _META_ORDER if k in meta] + sorted(k for k in meta if k not in _META_ORDER and k not in _INTERNAL_META)
    lines = []
    for key in keys:
        value = meta[key]
        if value in (None, "", [], {}):
            continue
        label = s.get(f"meta.{key}") or key.replace("_", " ").capitalize()
        if key == "duration_minutes" and isinstance(value, dict):
            value = minutes_shown(value, measured)
        shown = f"`{value}`" if key in _IDENTIFIER_META and isinstance(value, str) else _meta_value(value, lang)
        if key == "duration_minutes" and any(str(v).startswith("~") for v in value.values()):
            shown += f" ({s['meta.estimate']})"
        lines.append(f"- **{label}**: {shown}")
    return lines


def _page_meta(root: Path, run: Run, lang: str, name: str) -> tuple[dict[str, Any], str, str]:
    """metadata.gpuguide, the title and the lesson summary in this language: the executed notebook's, else the
    source notebook's."""
    for path in (run.executed(lang, name), root / "notebooks" / lang / f"{name}.ipynb",
                 root / "notebooks" / "en" / f"{name}.ipynb"):
        if path and path.exists():
            nb = read_notebook(path)
            meta = dict(nb.metadata.get("gpuguide", {}))
            return meta, title_of(nb, meta.get("title") or name), lesson_summary(nb)
    return {}, name, ""


_WRAPPER = re.compile(r'^\s*<div dir="rtl"[^>]*>\s*|\s*</div>\s*$')


def lesson_summary(nb: nbformat.NotebookNode) -> str:
    """The lesson header's first three paragraphs (at a glance, and the objectives), in the notebook's language."""
    cell = next((c for c in nb.cells if c.get("id") == "lesson" and c.cell_type == "markdown"), None)
    if cell is None:
        return ""
    paragraphs = [p for p in re.split(r"\n\s*\n", _WRAPPER.sub("", unmarked(cell.source))) if p.strip()]
    return "\n\n".join(paragraphs[:3])


def home_page(root: Path, run: Run, lang: str, names: list[str], s: dict[str, str], edition: str) -> str:
    """index.md: what the site is, which run it shows, and the notebook index read from the metadata."""
    lines = [f"# {s['home.title']}", "", s["home.intro"], ""]
    if run.summary:
        counts = run.counts()
        env = run.environment
        lines.append(fmt(s["home.run"], date=run.date or s["unknown"], device=env.get("label") or s["unknown"],
                                          profile=run.summary.get("profile") or s["unknown"],
                                          commit=short_commit(run.commit) or s["unknown"], **counts))
    else:
        lines.append(s["home.run_unknown"])
    lines += ["", s[f"home.edition_{edition}"], "", fmt(s["home.more"], results="results.md", gpu_results="gpu-results.md"),
              "", f"## {s['home.index']}", ""]
    measured = measured_profiles(root / "docs" / "results")
    for name in names:
        meta, title, lesson = _page_meta(root, run, lang, name)
        lines += [f"### [{title}](notebooks/{page_file(run, lang, name)})", "", f"`{name}`", ""]
        if lesson:
            lines += [lesson, ""]
        # metadata values are often English: in a right-to-left page their runs are isolated like the cells'
        lines += [isolate_ltr(line) if lang in RTL_LANGUAGES else line for line in meta_lines(meta, lang, s, measured)]
        outcome = run.outcome(lang, name)
        if outcome:
            seconds = f" ({fmt(s['prov.seconds'], seconds=outcome['seconds'])})" if outcome.get("seconds") else ""
            lines.append(f"- **{s['meta.this_run']}**: `{outcome.get('status')}`{seconds}")
        lines.append("")
    return "\n".join(lines)


def page_file(run: Run, lang: str, name: str) -> str:
    """The file a notebook's page is built from: the executed notebook, or a Markdown note when there is none."""
    return f"{name}.ipynb" if run.executed(lang, name) else f"{name}.md"


def missing_page(root: Path, run: Run, lang: str, name: str, s: dict[str, str]) -> str:
    _, title, _lesson = _page_meta(root, run, lang, name)
    return f"# {title}\n\n{s['missing.body']}\n\n[{s['prov.colab']}]({colab_url(Notebook(name, root), lang)})\n"


_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)(\s+\"[^\"]*\")?\)")


def rewrite_links(text: str, resolve: Callable[[str], str | None]) -> str:
    """Rewrite every relative Markdown link or image target; targets that resolve to None keep only their text."""
    def one(match: re.Match) -> str:
        bang, label, target, title = match.group(1), match.group(2), match.group(3), match.group(4) or ""
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            return match.group(0)
        new = resolve(target)
        if new is None:
            return label
        return f"{bang}[{label}]({new}{title})"

    return _LINK.sub(one, text)


def shift_headings(text: str, by: int = 1) -> str:
    """Demote ATX headings outside fenced code blocks (a README's '# x' becomes '## x' inside a page)."""
    out, fence = [], None
    for line in text.splitlines():
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            fence = None if fence and stripped.startswith(fence) else (fence or marker.group(1))
        elif fence is None and re.match(r"#{1,6} ", line):
            line = "#" * min(6, len(line) - len(line.lstrip("#")) + by) + line[len(line) - len(line.lstrip("#")):]
        out.append(line)
    return "\n".join(out)


def _ltr_block(markdown: str) -> list[str]:
    """English generated content on any page: always left to right (md_in_html keeps it Markdown)."""
    return ['<div class="gg-ltr" dir="ltr" lang="en" markdown>', "", markdown.strip(), "", "</div>"]


def results_page(run: Run, lang: str, langs: list[str], docs: Path, s: dict[str, str]) -> str:
    """results.md: the run's report.md with its charts, links pointing at the notebook pages of this site."""
    lines = [f"# {s['results.title']}", "", s["results.intro"], ""]
    report = run.build / "report.md"
    if not report.exists():
        return "\n".join(lines + [s["results.none"], ""])
    body = report.read_text(encoding="utf-8").split("\n")
    # The report's own title and first paragraph (profile, device, date, counts): the site says them in its words.
    if body and body[0].startswith("# "):
        body = body[1:]
    while body and not body[0].strip():
        body = body[1:]
    if run.summary and body and not body[0].startswith(("#", "|")):
        body = body[1:]
    if run.summary:
        counts = run.counts()
        lines += [fmt(s["home.run"], date=run.date or s["unknown"], device=run.environment.get("label") or s["unknown"],
                                       profile=run.summary.get("profile") or s["unknown"],
                                       commit=short_commit(run.commit) or s["unknown"], **counts), ""]
    charts = run.build / "charts"
    if charts.is_dir():
        shutil.copytree(charts, docs / "charts", dirs_exist_ok=True)

    def resolve(target: str) -> str | None:
        executed = re.fullmatch(r"executed/(\w+)/([\w.-]+)\.ipynb", target)
        if executed:
            other, name = executed.groups()
            if other not in langs:
                return None
            return f"notebooks/{name}.ipynb" if other == lang else f"../{other}/notebooks/{name}.html"
        if target.startswith("charts/") and (run.build / target).exists():
            return target
        return None

    text = rewrite_links("\n".join(body), resolve)
    # Links to other languages' pages are outside this language's docs folder: plain HTML, so MkDocs leaves them be.
    text = re.sub(r"(?<!!)\[([^\]]*)\]\((\.\./\w+/notebooks/[\w.-]+\.html)\)",
                  lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', text)
    return "\n".join(lines + _ltr_block(text) + [""])


def gpu_results_page(results_dir: Path, docs: Path, s: dict[str, str]) -> str:
    """gpu-results.md: docs/results/README.md and every docs/results/<gpu>/README.md, with their files alongside."""
    lines = [f"# {s['gpu.title']}", "", s["gpu.intro"], ""]
    folders = sorted(p for p in results_dir.iterdir() if p.is_dir()) if results_dir.is_dir() else []
    if not folders:
        lines += [s["gpu.none"], ""]
    parts = []
    readme = results_dir / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")

        def top(target: str) -> str | None:
            path = (results_dir / target.split("#")[0]).resolve()
            if path.is_dir() or path.name == "README.md" or not path.exists():
                return None
            try:
                rel = path.relative_to(results_dir.resolve())
            except ValueError:
                return None
            return f"gpu-results/{rel.as_posix()}" if len(rel.parts) > 1 else None

        parts.append(shift_headings(rewrite_links(text, top)))
    for folder in folders:
        target_dir = docs / "gpu-results" / folder.name
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.relative_to(folder).as_posix() != "README.md":
                dest = target_dir / path.relative_to(folder)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if path.suffix == ".md":
                    dest.write_text(rewrite_links(path.read_text(encoding="utf-8"), _local(path.parent)), encoding="utf-8")
                else:
                    shutil.copy2(path, dest)
        folder_readme = folder / "README.md"
        text = folder_readme.read_text(encoding="utf-8") if folder_readme.exists() else f"# {folder.name}\n"
        if not re.search(r"^# ", text, re.M):
            text = f"# {folder.name}\n\n{text}"

        def in_folder(target: str, folder: Path = folder) -> str | None:
            local = _local(folder)(target)
            return f"gpu-results/{folder.name}/{local}" if local else None

        parts.append(shift_headings(rewrite_links(text, in_folder)))
    if parts:
        lines += _ltr_block("\n\n".join(parts))
    return "\n".join(lines + [""])


def _local(base: Path) -> Callable[[str], str | None]:
    """Resolve a link relative to a folder: kept when the file exists inside docs/results, else None."""
    def resolve(target: str) -> str | None:
        path = target.split("#")[0]
        return target if path and (base / path).is_file() and Path(path).name != "README.md" else None

    return resolve


def stage_language(root: Path, run: Run, lang: str, langs: list[str], names: list[str], docs: Path,
                   hidden: frozenset[str], edition: str, results_dir: Path, s: dict[str, str],
                   assets: Path) -> list[Any]:
    """Write every page of one language and edition into docs; return the nav (titles in this language)."""
    if docs.exists():
        shutil.rmtree(docs)
    (docs / "notebooks").mkdir(parents=True)
    (docs / "downloads").mkdir()
    shutil.copytree(assets, docs / "assets")
    pages = []
    for name in names:
        executed = run.executed(lang, name)
        if executed:
            nb = read_notebook(executed)
            page = rendered_notebook(nb, name, lang, hidden, run, root, s)
            (docs / "notebooks" / f"{name}.ipynb").write_text(dumps(page), encoding="utf-8")
            download = nb if edition == "full" else filter_cells(nb, hidden - {"injected-parameters"})
            (docs / "downloads" / f"{name}.ipynb").write_text(dumps(download), encoding="utf-8")
        else:
            (docs / "notebooks" / f"{name}.md").write_text(missing_page(root, run, lang, name, s), encoding="utf-8")
        pages.append(f"notebooks/{page_file(run, lang, name)}")
    (docs / "index.md").write_text(home_page(root, run, lang, names, s, edition), encoding="utf-8")
    (docs / "results.md").write_text(results_page(run, lang, langs, docs, s), encoding="utf-8")
    (docs / "gpu-results.md").write_text(gpu_results_page(results_dir, docs, s), encoding="utf-8")
    from .api_page import api_page

    (docs / "api.md").write_text(api_page(s), encoding="utf-8")
    nav = [{s["nav.home"]: "index.md"}, {s["nav.notebooks"]: pages}, {s["nav.results"]: "results.md"},
           {s["nav.gpu_results"]: "gpu-results.md"}, {s["nav.api"]: "api.md"}]
    if edition == "full":  # the instructor guide is for teachers: the learner edition leaves it out
        guide = root / "docs" / "pages" / lang / "instructor.md"
        if guide.exists():
            text = guide.read_text(encoding="utf-8").replace(EXPECTED_MARKER, expected_run_times(run, results_dir, names, s))
            (docs / "instructor.md").write_text(text, encoding="utf-8")
            nav.append({s["nav.instructor"]: "instructor.md"})
    return nav


#: Where the instructor guide wants the table of expected run times (docs/pages/en/instructor.md).
EXPECTED_MARKER = "<!-- expected-run-times -->"


def expected_run_times(run: Run, results_dir: Path, names: list[str], s: dict[str, str]) -> str:
    """How long each notebook took on each device this site knows: its own run and every stored GPU run."""
    import json

    rows = []
    env = run.environment
    if run.summary:
        for name in names:
            outcome = run.outcome("en", name)
            if outcome and outcome.get("seconds") and not outcome.get("rendered_from"):
                rows.append((name, env.get("label") or s["unknown"], run.summary.get("profile", ""), outcome["seconds"]))
    for info in sorted(results_dir.glob("*/run.json")) if results_dir.is_dir() else []:
        data = json.loads(info.read_text(encoding="utf-8"))
        for part in data.get("runs", []):
            for name, seconds in (part.get("seconds") or {}).items():
                if seconds:
                    rows.append((name, data.get("device", info.parent.name), part.get("profile", ""), seconds))
    if not rows:
        return s["expected.none"]
    header = f"| {s['expected.notebook']} | {s['expected.device']} | {s['expected.profile']} | {s['expected.minutes']} |"
    lines = [header, "|---|---|---|---|"]
    lines += [f"| `{name}` | {device} | `{profile}` | {seconds / 60:.1f} |" for name, device, profile, seconds in rows]
    return "\n".join(lines)
