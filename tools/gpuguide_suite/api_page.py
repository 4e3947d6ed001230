"""The site's API page: every name of `gg.__all__` and of its topic namespaces, with the first line of its docstring.

Generated from the package itself at `suite docs` time, so the page cannot drift from the code; the test suite fails
a learner-API name without a docstring.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Entry:
    """One documented name: how a notebook calls it and what it does."""

    call: str
    doc: str


@dataclass(frozen=True)
class Group:
    """The top level of gg, or one of its namespaces."""

    heading: str
    doc: str
    entries: list[Entry]


def first_line(obj: Any) -> str:
    """The first paragraph of an object's docstring, on one line ('' when it has none)."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def constant_doc(module: ModuleType, name: str) -> str:
    """The `#:` comment lines above a module constant (Sphinx's convention), joined into one line."""
    match = re.search(rf"((?:^#:.*\n)+){re.escape(name)}\b", inspect.getsource(module), re.M)
    return " ".join(line[2:].strip() for line in match.group(1).splitlines()) if match else ""


def _entries(module: ModuleType, prefix: str, skip: frozenset[str] = frozenset()) -> list[Entry]:
    found = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.ismodule(obj) or name in skip:
            continue
        call = f"{prefix}.{name}" + ("()" if inspect.isroutine(obj) else "")
        doc = first_line(obj) if (inspect.isroutine(obj) or inspect.isclass(obj)) else constant_doc(module, name)
        found.append(Entry(call, doc.replace("|", "\\|")))
    return found


def groups() -> list[Group]:
    """gg's own names first, then each namespace of gg.__all__ with its module docstring."""
    import gpuguide_utils as gg

    top = frozenset(gg.__all__)
    found = [Group("gg", "", _entries(gg, "gg"))]
    for name in gg.__all__:
        module = getattr(gg, name)
        if inspect.ismodule(module):  # names gg itself exports are listed once, under gg
            found.append(Group(f"gg.{name}", first_line(module), _entries(module, f"gg.{name}", top)))
    return found


def api_page(s: dict[str, str]) -> str:
    """The page's Markdown in the language of the site strings `s` (docstrings stay English)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True)
    return env.get_template("api.md.j2").render(s=s, groups=groups())
