"""How notebooks call the learner package: `import gpuguide_utils as gg` once, then only names of the gg API."""

from __future__ import annotations

import inspect
import re

import gpuguide_utils as gg

_IMPORT_BY_NAME = re.compile(r"^\s*(from gpuguide_utils\b|import gpuguide_utils(?!\s+as\s+gg\s*$))", re.M)
_CALL = re.compile(r"(?<![\w.])gg\.(\w+)(?:\.(\w+))?")


def api_problems(code_cells: list[tuple[str, str]]) -> list[str]:
    """(cell id, source) pairs -> what breaks the rule: imports by name, and gg names outside gg.__all__."""
    problems = []
    imports = [cid for cid, src in code_cells if re.search(r"^import gpuguide_utils as gg\s*$", src, re.M)]
    if len(imports) != 1:
        problems.append(f"`import gpuguide_utils as gg` must appear once (found in {imports or 'no cell'})")
    for cid, src in code_cells:
        if _IMPORT_BY_NAME.search(src):
            problems.append(f"cell {cid}: imports from gpuguide_utils by name; call it as gg.<name> instead")
        for name, member in _CALL.findall(src):
            if name not in gg.__all__:
                problems.append(f"cell {cid}: gg.{name} is not in gg.__all__ (gpuguide_utils/__init__.py)")
            elif member and inspect.ismodule(getattr(gg, name)) and member not in getattr(gg, name).__all__:
                problems.append(f"cell {cid}: gg.{name}.{member} is not in gpuguide_utils/{name}.py's __all__")
    return problems
