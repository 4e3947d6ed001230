"""MkDocs hooks for the notebook pages: ids and TOC that work in every script, and nothing fetched from a CDN.

mkdocs-jupyter makes heading ids ASCII-only (an Arabic or CJK heading gets an empty id) and builds the table of
contents from a Markdown copy with code spans removed, so its links can miss. Here the ids keep every letter and
the TOC and page title are read back from the headings of the rendered page, so every TOC link resolves.
nbconvert's template imports mermaid.js from cdnjs when a page holds a diagram: that loader is removed (a diagram
then shows as its source), and any other script or style sheet from the internet is reported as a warning.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata

from mkdocs.structure.toc import get_toc

log = logging.getLogger("mkdocs.hooks.gpuguide")
_MERMAID_LOADER = re.compile(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{\s*'
                             r'const diagrams = document\.querySelectorAll\("\.jp-Mermaid.*?</script>', re.S)
_REMOTE = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"|import\(\s*"((?:https?:)?//[^"]+)"')
_HEADING = re.compile(r"<h([1-6])\b[^>]*\bid=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)


def slugify(value: str) -> str:
    """Lower-case, letters of any script kept, spaces to hyphens (like pymdownx.slugs.slugify(case='lower'))."""
    value = unicodedata.normalize("NFC", value)
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def on_startup(command: str, dirty: bool) -> None:
    import mkdocs_jupyter.convert
    import nbconvert.filters.strings

    mkdocs_jupyter.convert.slugify = slugify
    # nbconvert percent-encodes non-ASCII ids (id="%D8%A7..."); keep them as text, as Markdown pages do.
    nbconvert.filters.strings._convert_header_id = lambda text: text.replace(" ", "-")


def _text(fragment: str) -> str:
    """A heading's text for the TOC and title. Code spans and left-to-right runs keep their direction inside
    right-to-left text as invisible isolates (U+2066 ... U+2069), since the TOC shows plain text: `pipeline()` never
    becomes `()pipeline`."""
    fragment = re.sub(r"<a class=\"anchor-link\".*?</a>", "", fragment, flags=re.S)
    fragment = re.sub(r"<code>(.*?)</code>", "\u2066\\1\u2069", fragment, flags=re.S)
    fragment = re.sub(r'<span dir="ltr">(.*?)</span>', "\u2066\\1\u2069", fragment, flags=re.S)  # bidi.isolate_ltr's runs
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def on_page_content(content: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return content
    content = _MERMAID_LOADER.sub("", content)
    for match in _REMOTE.finditer(content):
        log.warning("%s loads %s from the internet", page.file.src_uri, match.group(1) or match.group(2))
    root: list[dict] = []
    stack: list[dict] = []
    for level, anchor, inner in _HEADING.findall(content):
        token = {"level": int(level), "id": html.unescape(anchor), "name": _text(inner), "children": []}
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    page.toc = get_toc(root)
    first = next((t for t in root if t["level"] == 1), None)
    if first and first["name"]:
        page.title = first["name"]
    return content
