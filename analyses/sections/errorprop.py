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
          "recall": "ALSH active-set recall by layer and epoch"}
MAX_ROWS = 60


def build(c: Computed) -> Section:
    sec = Section("errorprop", "Error propagation (§7)",
                  "Theorem 7.2's curve for a given c and the measured per-layer relative error "
                  "of the approximate methods (analyses/errorprop.py).")
    _fill(sec, errorprop.errorprop_section(c.frames))  # the study is one of the frames
    return sec


def _fill(sec: Section, out: dict) -> None:
    for key, val in out.items():
        title = TITLES.get(key, key.replace("_", " "))
        if isinstance(val, Figure):
            sec.figure(val, title)
        elif isinstance(val, pd.DataFrame) and len(val):
            fmts = {col: num(4) for col in val.columns if val[col].dtype.kind == "f"}
            sec.table(html_table(val, {col: str(col) for col in val.columns}, fmts,
                                 max_rows=MAX_ROWS), title)
    sec.missing.extend(out.get("notes", []))
