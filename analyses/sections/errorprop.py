"""The error-propagation section (§7), from the Computed bundle's ErrorPropagation frames."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.computed import Computed
from profkit.analyses.figures import errorprop as efig
from profkit.analyses.sections import Section
from profkit.analyses.tables import html_table, num

# column -> header (others are shown with underscores as spaces)
HEADERS = {"k": "layer k", "c": "c", "hidden_layers": "hidden layers", "run_id": "run",
           "recall_random": "random-set recall", "layer": "hidden layer (0-based)",
           "trained_with": "trained with", "method": "estimator"}
MAX_ROWS = 60


def build(c: Computed) -> Section:
    sec = Section("errorprop", "Error propagation (§7)",
                  "Theorem 7.2's curve for a given c and the measured per-layer relative error "
                  "of the approximate methods (`profkit errorprop` measures it; "
                  "analyses/errorprop.py summarises it).")
    ep = c.errorprop
    sec.table(_table(ep.theory), "Theorem 7.2: relative error after k layers")
    sec.table(_table(ep.paper_table), "The paper's §7 table checked against the formula")
    sec.figure(efig.theory(ep.theory, ep.paper_table), "Theorem 7.2 beside the paper's §7 table")
    if len(ep.comparison):
        sec.table(_table(ep.comparison), "Measured per-layer error beside the theory "
                  "(c estimated)")
        sec.figure(efig.measured(ep.comparison), "Measured error by layer beside the theory",
                   missing="every measured error is zero: nothing to draw on a log axis")
        sec.table(_table(ep.measured), "Measured per-layer estimation error")
    if len(ep.recall):
        sec.table(_table(ep.recall_by_layer.reset_index()), "ALSH active-set recall by layer")
        sec.figure(efig.recall(ep.recall), "ALSH active-set recall over training")
        sec.table(_table(ep.recall), "ALSH active-set recall by layer and epoch")
    sec.missing.extend(ep.notes)
    return sec


def _table(df: pd.DataFrame):
    fmts = {col: num(4) for col in df.columns if df[col].dtype.kind == "f"}
    return html_table(df, {col: _header(col) for col in df.columns}, fmts, max_rows=MAX_ROWS)


def _header(col) -> str:
    return HEADERS.get(str(col), str(col).replace("_", " "))
