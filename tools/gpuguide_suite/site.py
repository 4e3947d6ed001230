"""`suite docs`: the executed-notebook site, one Material for MkDocs build per language and edition, run offline.

Reads a run's build folder (executed/<lang>/*.ipynb, summary.json, report.md, charts/) and docs/results/, writes
the pages with site_pages into <out>/site-src/, and builds them with docs/site/base.yml plus each language (config_file) into
<out>/site/<lang>/ (full edition) and <out>/site-learner/<lang>/ (learner edition). It never executes a notebook,
needs no network, and the pages it writes load nothing from the internet (MathJax comes from a wheel).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .index import GITHUB_REPO
from .languages import LANGUAGES, native_name
from .notebooks import discover
from .site_pages import ALWAYS_HIDDEN, LEARNER_HIDDEN, Run, fmt, short_commit, stage_language
from .site_strings import strings

#: Where GitHub Pages publishes the site: the full edition at the root, the learner edition under learner/.
PAGES_URL = "https://{}.github.io/{}/".format(*GITHUB_REPO.split("/"))


@dataclass(frozen=True)
class Edition:
    """One flavour of the site: which cells it leaves out, where it is built and where it is published."""

    name: str
    folder: str
    hidden: frozenset[str]
    url: str


EDITIONS = {
    "full": Edition("full", "site", ALWAYS_HIDDEN, PAGES_URL),
    "learner": Edition("learner", "site-learner", ALWAYS_HIDDEN | LEARNER_HIDDEN, PAGES_URL + "learner/"),
}


def config_file(root: Path, lang: str, stage: Path) -> Path:
    """One language's MkDocs config: docs/site/base.yml plus the language and its switcher, from the one table."""
    import yaml

    alternate = [{"name": native_name(other), "link": f"../{other}/", "lang": other} for other in LANGUAGES]
    site = (root / "docs" / "site").resolve()
    config = {"INHERIT": str(site / "base.yml"), "theme": {"language": lang, "custom_dir": str(site / "overrides")},
              "hooks": [str(site / "hooks.py")], "extra": {"alternate": alternate}}
    path = stage / f"mkdocs-{lang}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def mathjax_source() -> Path:
    """MathJax 2 as the jupyter-server-mathjax wheel ships it (requirements/docs.txt), found without importing it."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("jupyter-server-mathjax is not installed (make venv installs requirements/docs.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _copy_tree(source: Path, dest: Path) -> None:
    """Hard links where the file system allows (MathJax is 12 MB per edition), copies elsewhere."""
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, copy_function=link_or_copy, dirs_exist_ok=True)


def _redirect_page(langs: list[str]) -> str:
    """The edition's root index.html: straight to English, with a link per language for browsers that wait."""
    links = " · ".join(f'<a href="{lang}/index.html" hreflang="{lang}" lang="{lang}">{native_name(lang)}</a>'
                       for lang in langs)
    first = "en" if "en" in langs else langs[0]
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gpuguide</title>\n"
            "<link rel=\"icon\" href=\"data:,\">\n"
            f"<meta http-equiv=\"refresh\" content=\"0; url={first}/index.html\">\n</head>\n"
            f"<body>\n<p>{links}</p>\n</body>\n</html>\n")


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings so the caller can print and test them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _mkdocs(root: Path, lang: str, docs: Path, site_dir: Path, cache: Path, nav: list[Any], langs: list[str],
            edition: Edition, run: Run, stage: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    s = strings(root, lang)
    cfg = load_config(config_file=str(config_file(root, lang, stage)), docs_dir=str(docs), site_dir=str(site_dir), nav=nav,
                      site_url=f"{edition.url}{lang}/", site_description=s["site.description"],
                      copyright=fmt(s["site.footer"], date=run.date or s["unknown"],
                                    commit=short_commit(run.commit) or s["unknown"]))
    cfg.extra["alternate"] = [a for a in cfg.extra.get("alternate", []) if a.get("lang") in langs]
    cfg.plugins["mkdocs-jupyter"].config["cache_dir"] = str(cache)
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    finally:
        cfg.plugins.on_shutdown()


def build_site(root: Path, build: Path, out: Path, langs: list[str] | None = None,
               editions: list[str] | None = None, results_dir: Path | None = None,
               names: list[str] | None = None) -> list[str]:
    """Build every requested edition and language; returns MkDocs' warnings (empty when all is well).

    `names` are the notebooks to show (default: every source notebook and every executed one).
    """
    langs = list(langs or LANGUAGES)
    editions = list(editions or EDITIONS)
    results_dir = results_dir or root / "docs" / "results"
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # the maintenance banner of MkDocs 1.6 / Material 9.8
    try:  # Material's search segments Han text with jieba when it is installed; its start-up chatter is noise here
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:
        pass
    run = Run.load(build)
    names = names or sorted({n.name for n in discover(root)} | run.names())
    stage = out / "site-src"
    if stage.exists():
        shutil.rmtree(stage)
    assets = root / "docs" / "site" / "assets"
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        for name in editions:
            edition = EDITIONS[name]
            site_root = out / edition.folder
            if site_root.exists():
                shutil.rmtree(site_root)
            for lang in langs:
                docs = stage / edition.name / lang
                nav = stage_language(root, run, lang, langs, names, docs, edition.hidden, edition.name, results_dir,
                                     strings(root, lang), assets)
                # Both editions of a language share mkdocs-jupyter's cache: unchanged notebooks convert once.
                _mkdocs(root, lang, docs, site_root / lang, stage / ".cache" / lang, nav, langs, edition, run, stage)
            _copy_tree(mathjax_source(), site_root / "assets" / "mathjax")
            local = site_root / "assets" / "mathjax" / "config" / "local"
            local.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / "docs" / "site" / "mathjax-local.js", local / "gpuguide.js")
            (site_root / "index.html").write_text(_redirect_page(langs), encoding="utf-8")
            # GitHub Pages answers a missing path with the root 404.html; MkDocs makes its links absolute (site_url).
            first = "en" if "en" in langs else langs[0]
            if (site_root / first / "404.html").exists():
                shutil.copy2(site_root / first / "404.html", site_root / "404.html")
    finally:
        logger.removeHandler(collect)
    return collect.messages


def main(root: Path, build: Path, out: Path, langs: list[str], editions: list[str], results_dir: Path | None) -> int:
    """What `suite docs` prints and returns."""
    if not (build / "executed").is_dir():
        print(f"error: no executed notebooks in {build / 'executed'} (run: make run)")
        return 2
    started = time.perf_counter()
    warnings = build_site(root, build, out, langs, editions, results_dir)
    for message in warnings:
        print(f"warning: {message}")
    for name in editions:
        print(f"{name} edition: {out / EDITIONS[name].folder / 'index.html'} ({', '.join(langs)})")
    print(f"built in {time.perf_counter() - started:.0f} s; browse with: "
          f"python -m http.server -d {out / EDITIONS['full'].folder} (or open index.html)")
    return 0
