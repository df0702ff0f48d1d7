"""HTML tables from analysis frames: chosen columns, readable numbers, NA shown as missing."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from profkit.analyses.markup import Markup, escape
from profkit.analyses.markup import note as note_html

Fmt = Callable[[object], str]


def num(digits: int = 3) -> Fmt:
    return lambda v: f"{v:.{digits}g}" if _is_num(v) else _na(v)


def fixed(digits: int = 2) -> Fmt:
    return lambda v: f"{v:.{digits}f}" if _is_num(v) else _na(v)


def pct(digits: int = 1) -> Fmt:
    """A fraction in [0, 1] shown as percent."""
    return lambda v: f"{100 * v:.{digits}f}%" if _is_num(v) else _na(v)


def _is_num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(v)


def _na(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return str(v)


def text(v) -> str:
    """Any cell: booleans as yes/no, NA as an em dash."""
    return yes_no(v) if _is_bool(v) else _na(v)


def _is_bool(v) -> bool:
    return isinstance(v, bool | np.bool_)


def yes_no(v) -> str:
    return "yes" if bool(v) else "no"


def html_table(df: pd.DataFrame, columns: dict[str, str], formats: dict[str, Fmt] | None = None,
               css: str = "data", max_rows: int = 400, note: str = "") -> Markup:
    """<table> of `columns` (name -> header) of `df`, then `note` as a caption; every header,
    cell and note escaped (the result is trusted Markup); NA as an em dash."""
    formats = formats or {}
    cols = [c for c in columns if c in df]
    head = "".join(f"<th>{escape(str(columns[c]))}</th>" for c in cols)
    body = []
    # records, not iterrows: iterrows makes one Series per row, which turns the ints of an
    # all-numeric row into floats ("layer 1.0")
    for r in df.head(max_rows)[cols].to_dict("records"):
        cells = "".join(_cell(formats.get(c, text)(r[c])) for c in cols)
        body.append(f"<tr>{cells}</tr>")
    more = (f'<p class="note">{len(df) - max_rows} more rows in the results directory.</p>'
            if len(df) > max_rows else "")
    return Markup(f'<table class="{escape(css)}"><thead><tr>{head}</tr></thead>'
                  f'<tbody>{"".join(body)}</tbody></table>{more}') + note_html(note)


def _cell(s: str) -> str:
    if s == "—" or s.startswith("unavailable"):
        cls = ' class="na"'
    elif _NUMBER.match(s):  # numbers right-aligned and whole
        cls = ""
    else:  # words left-aligned; long text may wrap, short text (a name) stays on one line
        cls = ' class="txt long"' if len(s) > LONG else ' class="txt"'
    return f"<td{cls}>{escape(s)}</td>"


LONG = 32
_NUMBER = re.compile(r"^[-+]?[\d.]+(e[-+]?\d+)?%?(\s\[.*\])?$")


def constant_columns(df: pd.DataFrame, candidates: list[str]) -> dict[str, object]:
    """Candidate columns with one value over all rows: shown once in a caption, not per row."""
    return {c: df[c].iloc[0] for c in candidates if c in df and len(df) and
            df[c].astype(str).nunique() == 1}


def drop_constant(columns: dict[str, str], df: pd.DataFrame,
                  candidates: list[str]) -> tuple[dict[str, str], str]:
    const = constant_columns(df, candidates)
    kept = {c: h for c, h in columns.items() if c not in const}
    note = ", ".join(f"{columns.get(c, c)} = {text(v) if v != '' else 'default'}"
                     for c, v in const.items() if c in columns)
    return kept, (f"All rows: {note}." if note else "")
