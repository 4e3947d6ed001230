"""python -m gpuguide_suite {update,build,check,strip,run}: the notebook suite's one command line.

update  sync translation catalogs with the English notebooks (new cells untranslated, changed ones fuzzy)
build   generate notebooks/{ar,ja,zh}/*.ipynb from notebooks/en and the catalogs, and notebooks/README.md
check   fail on outputs in notebooks/, bad metadata, missing/fuzzy/stale translations, out-of-date generated notebooks
run     execute notebooks with papermill and write build/report.md
store   keep a GPU run's results in docs/results/<gpu>/
slides  write offline reveal.js decks of the executed notebooks
docs    build the static site of executed notebooks (build/site/<lang>/, build/site-learner/<lang>/); runs nothing
stability  a benchmark: how often claims hold and recommendations agree over quiet and loaded cpu runs
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import i18n
from .check import all_problems
from .notebooks import TRANSLATED, discover, dumps, repo_root, write_atomic
from . import site_strings


def cmd_update(args: argparse.Namespace) -> int:
    from . import pages

    root = repo_root()
    for notebook in discover(root, args.only):
        for lang in TRANSLATED:
            po, counts = i18n.update_catalog(notebook, lang)
            i18n.save_catalog(po, notebook, lang)
            changed = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            print(f"{notebook.catalog(lang).relative_to(notebook.root)}: {changed or 'up to date'}")
    for page in pages.discover_pages(root):
        for lang in TRANSLATED:
            counts = pages.update(page, lang)
            changed = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            print(f"{page.catalog(lang).relative_to(root)}: {changed or 'up to date'}")
    for lang in TRANSLATED:
        counts = site_strings.update(root, lang)
        changed = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        print(f"{site_strings.catalog_path(root, lang).relative_to(root)}: {changed or 'up to date'}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .index import outputs
    from .lessons import learner_copy, with_generated_cells
    from .notebooks import LANGUAGES

    root = repo_root()
    langs = [args.lang] if args.lang else list(LANGUAGES)
    for notebook in discover(root, args.only):
        source = notebook.read()
        rendered = dumps(with_generated_cells(source))
        if rendered != dumps(source):
            write_atomic(notebook.path(), rendered)
            print(f"{notebook.path().relative_to(root)}: lesson header and key points written from metadata")
        for lang in [lang for lang in TRANSLATED if lang in langs]:
            changed = i18n.build(notebook, lang)
            print(f"{notebook.path(lang).relative_to(notebook.root)}: {'written' if changed else 'up to date'}")
        for lang in langs:
            text = dumps(learner_copy(notebook.read(lang), notebook.sources(lang)))
            path = notebook.learner_path(lang)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                write_atomic(path, text)
                print(f"{path.relative_to(root)}: learner copy written")
    from . import pages

    for page in pages.discover_pages(root):
        if args.only and not any(p.strip() in page.name for p in args.only.split(",")):
            continue
        for lang in [lang for lang in TRANSLATED if lang in langs]:
            if pages.build(page, lang):
                print(f"{page.path(lang).relative_to(root)}: written")
    for path, text in outputs(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            print(f"{path.relative_to(root)}: index written")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    problems = all_problems(repo_root())
    if args.lang:  # a translator's view: the source notebooks' problems and this language's
        others = [lang for lang in TRANSLATED if lang != args.lang]
        problems = [p for p in problems if not any(f"/{lang}/" in f"/{p.path}" for lang in others)]
    for problem in problems:
        print(problem)
    notebooks = discover(repo_root())
    print(f"suite check: {len(notebooks)} notebook(s) x {1 + len(TRANSLATED)} languages, {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_run(args: argparse.Namespace) -> int:
    from gpuguide_utils.env import describe
    from .profiles import pick
    from .report import summary_text, write_report
    from .runner import (parallel_jobs, parse_overrides, plan, run_all, select_langs, threads_per_notebook,
                         write_summary)

    env = describe()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        profile = pick(args.profile, env)
        langs = select_langs(args.lang)
        overrides = parse_overrides(args.param)
        execute = args.execute
        notebooks = discover(repo_root(), args.only)
        if not notebooks:
            raise ValueError(f"--only {args.only!r} matches no notebook in notebooks/en")
        out = Path(args.out).resolve()
        jobs = plan(notebooks, langs, profile, out, overrides, args.timeout, execute)
        parallel = parallel_jobs(args.jobs, profile.needs_cuda)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if profile.needs_cuda and args.jobs not in ("auto", "1"):
        print(f"--jobs {args.jobs} ignored: notebooks on a GPU profile run one at a time (they share one GPU's memory "
              "and would disturb each other's timings)")
    runs = sum(j.render_from is None for j in jobs)
    print(f"Running {runs} notebook(s), writing {len(jobs)} (--execute {execute}), on profile {profile.name!r} "
          f"({profile.description}) on {env.label}, {min(parallel, runs)} at a time; each notebook gets "
          f"{threads_per_notebook()} CPU thread(s)")
    outcomes = run_all(jobs, parallel, env, on_done=lambda o: print(
        f"  {o.lang}/{o.notebook}: {o.status}" + (f" (rendered from {o.rendered_from})" if o.rendered_from else "")
        + (f" ({o.reason})" if o.reason else ""), flush=True))
    write_summary(outcomes, out, profile, env, execute, started)
    report = write_report(outcomes, out, profile.name, env.label)
    print()
    print(summary_text(outcomes))
    print(f"report: {report}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_store(args: argparse.Namespace) -> int:
    from gpuguide_utils.stored import results_dir
    from .store import store

    try:
        target = store(Path(args.out), args.command, results_dir(), Path(args.to) if args.to else None,
                       allow_cpu=args.allow_cpu)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"stored in {target} (commit the folder; docs/results/README.md says what to check first)")
    return 0


def cmd_slides(args: argparse.Namespace) -> int:
    from .slides import build_slides

    try:
        written = build_slides(Path(args.build), Path(args.out), Path(args.vendor) / "node_modules")
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} deck(s) in {args.out}/<lang>/<notebook>.slides.html (open them in a browser; offline)")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from .runner import select_langs
    from .site import EDITIONS, main

    try:
        langs = select_langs(args.lang)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    editions = list(EDITIONS) if args.edition == "all" else [args.edition]
    root = repo_root()
    return main(root, Path(args.build).resolve(), Path(args.out).resolve(), langs, editions,
                Path(args.results).resolve() if args.results else None)


def cmd_stability(args: argparse.Namespace) -> int:
    from .stability import main as stability

    return stability(repo_root(), args.quiet, args.loaded, args.only, Path(args.out).resolve(), args.limit)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpuguide_suite", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name, fn in (("update", cmd_update), ("build", cmd_build)):
        s = sub.add_parser(name)
        s.add_argument("--only", help="notebook names containing this text or matching this glob (comma-separated: any)")
        if name == "build":
            s.add_argument("--lang", choices=TRANSLATED + ("en",), help="build only this language's notebooks "
                           "(and learner copies); the index is always rebuilt")
        s.set_defaults(fn=fn)
    c = sub.add_parser("check")
    c.add_argument("--lang", choices=TRANSLATED, help="report only the source problems and this language's")
    c.set_defaults(fn=cmd_check)
    r = sub.add_parser("run")
    r.add_argument("--profile", default="auto", help="auto (default: by hardware), cpu, gpu-small or gpu-full")
    r.add_argument("--lang", default="all", help="all (default) or a comma list of en, ar, ja, zh")
    r.add_argument("--only", help="notebook names containing this text or matching this glob (comma-separated: any)")
    r.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="papermill parameter override, value read as YAML like papermill -y: -p batch_size=4, "
                   "-p seq_lens=[128,256] (repeatable)")
    r.add_argument("--jobs", default="auto", help="notebooks run in parallel: auto (default; on the CPU as many as "
                   "the cores hold at a notebook's threads each, 2; on GPU profiles 1) or a number (always 1 on GPUs)")
    r.add_argument("--execute", choices=("once", "all"), default="once",
                   help="once (default): run each notebook in English only and write the other languages with the "
                   "same outputs (code cells are identical; a quarter of the time); all: run every language")
    r.add_argument("--out", default="build", help="output directory (default: build)")
    r.add_argument("--timeout", type=int, default=None, help="seconds per notebook (default: the profile's)")
    r.set_defaults(fn=cmd_run)
    st = sub.add_parser("store", help="merge a GPU run (build/) into docs/results/<gpu>/")
    st.add_argument("--out", default="build", help="the run's output directory (default: build)")
    st.add_argument("--command", required=True, help="the command that produced the run, recorded with it")
    st.add_argument("--to", default=None, help="target folder (default: docs/results/<gpu name>)")
    st.add_argument("--allow-cpu", action="store_true", help="store a CPU run too, into --to only (the GPU recipe's "
                    "dry run)")
    st.set_defaults(fn=cmd_store)
    sl = sub.add_parser("slides", help="reveal.js decks of the executed notebooks, offline")
    sl.add_argument("--build", default="build", help="the run whose executed notebooks become decks (default: build)")
    sl.add_argument("--out", default="build/slides", help="where the decks go (default: build/slides)")
    sl.add_argument("--vendor", default="build/vendor", help="where `make slides` installed the npm packages")
    sl.set_defaults(fn=cmd_slides)
    d = sub.add_parser("docs", help="build the static site from executed notebooks (never runs them)")
    d.add_argument("--build", default="build", help="the run to show: executed/, summary.json, report.md, charts/ "
                                                    "(default: build; a GPU run's folder works too)")
    d.add_argument("--out", default="build", help="where site/ and site-learner/ go (default: build)")
    d.add_argument("--lang", default="all", help="all (default) or a comma list of en, ar, ja, zh")
    d.add_argument("--edition", default="all", choices=["all", "full", "learner"], help="default: both")
    d.add_argument("--results", default=None, help="stored GPU results to show (default: docs/results)")
    d.set_defaults(fn=cmd_docs)
    sb = sub.add_parser("stability", help="benchmark: claims and recommendations across quiet and loaded runs")
    sb.add_argument("--quiet", type=int, default=4, help="runs on a quiet machine (default 4)")
    sb.add_argument("--loaded", type=int, default=2, help="runs while every core is kept busy (default 2)")
    sb.add_argument("--only", default="03_,05_,06_", help="notebooks to run (default: 03_,05_,06_)")
    sb.add_argument("--out", default="build/stability", help="where the runs go (default: build/stability)")
    sb.add_argument("--limit", type=float, default=1500, help="seconds one run may take, load included (default 1500)")
    sb.set_defaults(fn=cmd_stability)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
