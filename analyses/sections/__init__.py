"""Report sections: each builder turns a Computed bundle into a Section (tables, figures, gaps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from profkit.analyses.figures.base import to_data_uri


@dataclass
class Block:
    """One piece of a section: kind is 'table' (html), 'figure' (data URI), 'list', 'text' or
    'rows' (headers and cells the template escapes; a cell may be {"text", "href"})."""

    kind: str
    body: object
    caption: str = ""
    title: str = ""


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    blocks: list[Block] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def table(self, html: str, title: str = "", caption: str = "") -> None:
        """`html` must be Markup (from html_table) to render as HTML; a plain str is escaped."""
        self.blocks.append(Block("table", html, caption, title))

    def figure(self, fig, title: str, caption: str = "", missing: str = "") -> None:
        """Inline `fig` as PNG; when it is None (no data), record `missing` instead."""
        if fig is None:
            self.missing.append(missing or f"{title}: no data")
        else:
            self.blocks.append(Block("figure", to_data_uri(fig), caption, title))

    def items(self, items: list[str], title: str = "") -> None:
        self.blocks.append(Block("list", items, "", title))

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", text))

    def rows(self, headers: list[str], rows: list[list], title: str = "", caption: str = "",
             css: str = "data") -> None:
        """A cell may be a mapping: {"text", "href"} (a relative link), {"text", "anchor"} (a
        link to a section of the page) and/or "cls" (the cell's CSS class)."""
        self.blocks.append(Block("rows", {"headers": headers, "rows": rows, "css": css},
                                 caption, title))
