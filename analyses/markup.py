"""Markup: the report's only ways to make HTML from data (escape, trusted fragments, safe hrefs).

The report template autoescapes everything; a fragment profkit builds itself (a table whose
cells were escaped) is a `Markup` and passes through unchanged. Links built from data are
relative, prefixed with ./ and URL-quoted, so a directory named `javascript:alert(1)` is a
file name, never a scheme.
"""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup, escape

__all__ = ["Markup", "escape", "note", "safe_href"]


def safe_href(path: str) -> str:
    """A relative href to `path`: ./ prefixed, every character but / and unreserved quoted."""
    return "./" + quote(str(path).lstrip("/"), safe="/")


def note(text: str) -> Markup:
    """A caption paragraph under a table; its text escaped ('' gives nothing)."""
    return Markup('<p class="note">{}</p>').format(text) if text else Markup("")
