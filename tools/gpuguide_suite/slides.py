"""`suite slides`: one reveal.js deck per executed notebook and language, that works offline.

The decks are made with nbconvert's slides exporter from the executed notebooks (build/executed/<lang>/): a new slide
at each heading, instructor notes as speaker notes, set-up cells and solutions left out (lessons.slide_type). Every
script and style the decks load is copied next to them (reveal.js, require.js, jQuery and Font Awesome from the npm
registry, installed by `make slides`; MathJax from the jupyter-server-mathjax wheel, as on the docs site), so a room
without internet can present them. Arabic decks run right-to-left with code left-to-right.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .lessons import tags, with_slide_types
from .notebooks import LANGUAGES, RTL_LANGUAGES, read_notebook, repo_root, write_atomic
from .site_pages import static_widgets
from .site_strings import strings

#: npm packages the decks need, as installed by `make slides` (scripts/vendor/package.json pins their versions).
VENDOR = {
    "reveal.js/dist": "reveal.js/dist",
    "reveal.js/plugin/notes": "reveal.js/plugin/notes",
    "requirejs/require.js": "require.js",
    "jquery/dist/jquery.min.js": "jquery.min.js",
    "font-awesome/css": "font-awesome/css",
    "font-awesome/fonts": "font-awesome/fonts",
}
_STYLE = """<style>
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }  /* the white theme shouts headings in capitals */
</style>
"""
#: Arabic decks: slides right to left and prose from the right (reveal.js centres text, JupyterLab's stylesheet
#: left-aligns paragraphs); code and outputs, with the tables they print, left to right. Tables written in a cell
#: (the lesson's sections) follow the cell's own `dir="rtl"`.
_RTL_STYLE = """<style>
.reveal .slides { direction: rtl; }
.reveal .jp-RenderedHTMLCommon, .reveal .jp-RenderedHTMLCommon * { text-align: start; }
.reveal pre, .reveal code, .reveal .jp-CodeCell, .reveal .jp-OutputArea { direction: ltr; text-align: left; }
</style>
"""


_MERMAID = re.compile(r'<script type="module">\s*import mermaid from [^<]*</script>\s*')

#: MathJax 2's configuration: the one config the jupyter-server-mathjax wheel ships, plus the site's local fixes
#: (docs/site/mathjax-local.js: STIX-Web fonts only, no about:blank font request).
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe,local/gpuguide"


def copy_assets(node_modules: Path, assets: Path) -> None:
    """Put every file a deck loads under `assets` (missing npm packages: FileNotFoundError naming `make slides`)."""
    for source, target in VENDOR.items():
        path = node_modules / source
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `make slides` (it installs scripts/vendor/package.json "
                                    "from the npm registry into build/vendor)")
        destination = assets / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, destination, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, destination)
    from .site import mathjax_source

    shutil.copytree(mathjax_source(), assets / "mathjax", dirs_exist_ok=True)
    local = assets / "mathjax" / "config" / "local"
    local.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(repo_root() / "docs" / "site" / "mathjax-local.js", local / "gpuguide.js")


def deck(executed: Path, lang: str, assets_url: str = "../assets") -> str:
    """The HTML of one deck: the executed notebook with slide types, without papermill's and the runner's cells."""
    from nbconvert.exporters import SlidesExporter

    nb = read_notebook(executed)
    nb.cells = [c for c in nb.cells if not {"injected-parameters", "solution-run"} & set(tags(c))]
    nb = with_slide_types(nb)
    static_widgets(nb, strings(repo_root(), lang))  # no widget manager from unpkg.com; a note instead
    exporter = SlidesExporter(
        reveal_url_prefix=f"{assets_url}/reveal.js", require_js_url=f"{assets_url}/require.js",
        jquery_url=f"{assets_url}/jquery.min.js", font_awesome_url=f"{assets_url}/font-awesome/css/font-awesome.css",
        mathjax_url=f"{assets_url}/mathjax/MathJax.js?config={MATHJAX_CONFIG}", reveal_scroll=True,
        reveal_theme="white",  # its fonts ship with reveal.js; the default "simple" imports Google Fonts
        exclude_input_prompt=True, exclude_output_prompt=True,
    )
    html, _resources = exporter.from_notebook_node(nb)
    # nbconvert's template imports mermaid from a CDN in every deck; these notebooks draw no mermaid diagrams.
    html = _MERMAID.sub("", html)
    html = html.replace("</head>", _STYLE + "</head>", 1)
    if lang in RTL_LANGUAGES:
        html = html.replace("</head>", _RTL_STYLE + "</head>", 1).replace("Reveal.initialize({", "Reveal.initialize({rtl: true, ", 1)
    return html


def build_slides(build: Path, out: Path, node_modules: Path) -> list[Path]:
    """Every deck of the run in `build`, written to out/<lang>/<notebook>.slides.html; returns their paths."""
    copy_assets(node_modules, out / "assets")
    written = []
    for lang in LANGUAGES:
        for executed in sorted((build / "executed" / lang).glob("*.ipynb")):
            path = out / lang / f"{executed.stem}.slides.html"
            write_atomic(path, deck(executed, lang))
            written.append(path)
    if not written:
        raise FileNotFoundError(f"no executed notebooks under {build / 'executed'}: run `make run` first")
    return written
