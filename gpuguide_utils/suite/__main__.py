"""python -m gpuguide_utils.suite {update,build,check,strip,run}: the notebook suite's one command line.

update  sync translation catalogs with the English notebooks (new cells untranslated, changed ones fuzzy)
build   generate notebooks/{ar,ja,zh}/*.ipynb from notebooks/en and the catalogs, and notebooks/README.md
check   fail on outputs in notebooks/, bad metadata, missing/fuzzy/stale translations, out-of-date generated notebooks
strip   remove outputs from every notebook under notebooks/
run     execute notebooks with papermill and write build/report.md
docs    build the static site of executed notebooks (build/site/<lang>/, build/site-learner/<lang>/); runs nothing
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import i18n
from .check import all_problems
from .notebooks import TRANSLATED, discover, dumps, has_outputs, read_notebook, repo_root, strip_outputs, write_atomic
from . import site_strings


def cmd_update(args: argparse.Namespace) -> int:
    for notebook in discover(repo_root(), args.only):
        for lang in TRANSLATED:
            po, counts = i18n.update_catalog(notebook, lang)
            i18n.save_catalog(po, notebook, lang)
            changed = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            print(f"{notebook.catalog(lang).relative_to(notebook.root)}: {changed or 'up to date'}")
    for lang in TRANSLATED:
        counts = site_strings.update(repo_root(), lang)
        changed = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        print(f"{site_strings.catalog_path(repo_root(), lang).relative_to(repo_root())}: {changed or 'up to date'}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .index import outputs

    root = repo_root()
    for notebook in discover(root, args.only):
        for lang in TRANSLATED:
            changed = i18n.build(notebook, lang)
            print(f"{notebook.path(lang).relative_to(notebook.root)}: {'written' if changed else 'up to date'}")
    for path, text in outputs(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            print(f"{path.relative_to(root)}: index written")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    problems = all_problems(repo_root())
    for problem in problems:
        print(problem)
    notebooks = discover(repo_root())
    print(f"suite check: {len(notebooks)} notebook(s) x {1 + len(TRANSLATED)} languages, {len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_strip(args: argparse.Namespace) -> int:
    for path in sorted((repo_root() / "notebooks").rglob("*.ipynb")):
        nb = read_notebook(path)
        if has_outputs(nb) or "papermill" in nb.metadata:
            write_atomic(path, dumps(strip_outputs(nb)))
            print(f"stripped {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ..env import describe
    from .profiles import pick
    from .report import summary_text, write_report
    from .runner import parse_overrides, plan, run_all, select_langs, write_summary

    env = describe()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        profile = pick(args.profile, env)
        langs = select_langs(args.lang)
        overrides = parse_overrides(args.param)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    notebooks = discover(repo_root(), args.only)
    if not notebooks:
        print(f"error: --only {args.only!r} matches no notebook in notebooks/en", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    jobs = plan(notebooks, langs, profile, out, overrides, args.timeout)
    print(f"Running {len(jobs)} notebook(s) on profile {profile.name!r} ({profile.description}) on {env.label}")
    outcomes = run_all(jobs, args.jobs, env, on_done=lambda o: print(f"  {o.lang}/{o.notebook}: {o.status}"
                                                                    + (f" ({o.reason})" if o.reason else ""), flush=True))
    write_summary(outcomes, out, profile, env, started=started)
    report = write_report(outcomes, out, profile.name, env.label)
    print()
    print(summary_text(outcomes))
    print(f"report: {report}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpuguide_utils.suite", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name, fn in (("update", cmd_update), ("build", cmd_build)):
        s = sub.add_parser(name)
        s.add_argument("--only", help="notebook names containing this text (or matching it as a glob)")
        s.set_defaults(fn=fn)
    sub.add_parser("check").set_defaults(fn=cmd_check)
    sub.add_parser("strip").set_defaults(fn=cmd_strip)
    r = sub.add_parser("run")
    r.add_argument("--profile", default="auto", help="auto (default: by hardware), cpu, gpu-small or gpu-full")
    r.add_argument("--lang", default="all", help="all (default) or a comma list of en, ar, ja, zh")
    r.add_argument("--only", help="notebook names containing this text (or matching it as a glob)")
    r.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="papermill parameter override, e.g. -p batch_size=4 (repeatable)")
    r.add_argument("--jobs", type=int, default=1, help="notebooks run in parallel (default 1: timings stay clean)")
    r.add_argument("--out", default="build", help="output directory (default: build)")
    r.add_argument("--timeout", type=int, default=None, help="seconds per notebook (default: the profile's)")
    r.set_defaults(fn=cmd_run)
    d = sub.add_parser("docs", help="build the static site from executed notebooks (never runs them)")
    d.add_argument("--build", default="build", help="the run to show: executed/, summary.json, report.md, charts/ "
                                                    "(default: build; a GPU run's folder works too)")
    d.add_argument("--out", default="build", help="where site/ and site-learner/ go (default: build)")
    d.add_argument("--lang", default="all", help="all (default) or a comma list of en, ar, ja, zh")
    d.add_argument("--edition", default="all", choices=["all", "full", "learner"], help="default: both")
    d.add_argument("--results", default=None, help="stored GPU results to show (default: docs/results)")
    d.set_defaults(fn=cmd_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
