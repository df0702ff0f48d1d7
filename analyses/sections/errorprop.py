"""The error-propagation section (§7), from profkit.analyses.errorprop.errorprop_section's dict."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from profkit.analyses import errorprop
from profkit.analyses.computed import Computed
from profkit.analyses.sections import Section
from profkit.analyses.tables import html_table, num

TITLES = {"theory": "Theorem 7.2: relative error after k layers",
          "paper_table": "The paper's §7 table checked against the formula",
          "theory_comparison": "Measured per-layer error beside the theory (c estimated)",
          "measured": "Measured per-layer estimation error",
          "recall_by_layer": "ALSH active-set recall by layer",
          "recall": "ALSH active-set recall by layer and epoch",
          "theory_figure": "Theorem 7.2 beside the paper's §7 table",
          "measured_figure": "Measured error by layer beside the theory",
          "recall_figure": "ALSH active-set recall over training"}
# column -> header, for the frames errorprop_section returns (others are shown humanised)
HEADERS = {"k": "layer k", "c": "c", "hidden_layers": "hidden layers", "run_id": "run",
           "recall_random": "random-set recall", "layer": "hidden layer (0-based)"}
MAX_ROWS = 60


def build(c: Computed) -> Section:
    sec = Section("errorprop", "Error propagation (§7)",
                  "Theorem 7.2's curve for a given c and the measured per-layer relative error "
                  "of the approximate methods (analyses/errorprop.py).")
    _fill(sec, errorprop.errorprop_section(c.frames))  # the study is one of the frames
    return sec


def _fill(sec: Section, out: dict) -> None:
    for key, val in out.items():
        title = TITLES.get(key, key.replace("_", " ").capitalize())
        if isinstance(val, Figure):
            sec.figure(val, title)
        elif isinstance(val, pd.DataFrame) and len(val):
            if not isinstance(val.index, pd.RangeIndex):  # a pivot: its keys are columns too
                val = val.reset_index()
            fmts = {col: num(4) for col in val.columns if val[col].dtype.kind == "f"}
            sec.table(html_table(val, {col: _header(col) for col in val.columns}, fmts,
                                 max_rows=MAX_ROWS), title)
    sec.missing.extend(out.get("notes", []))


def _header(col) -> str:
    return HEADERS.get(str(col), str(col).replace("_", " "))
