"""The verdicts section: the report's first answer, per dataset, setting and depth band."""

from __future__ import annotations

import pandas as pd
from profkit.analyses import verdicts
from profkit.analyses.computed import Computed
from profkit.analyses.labels import REFERENCE
from profkit.analyses.sections import Section
from profkit.analyses.tables import drop_constant, fixed, html_table, num


def build(c: Computed) -> Section:
    sec = Section("verdicts", "Verdicts: who is fastest, who is most accurate, and the paper",
                  f"Per dataset, setting (S = batch 1, M = batch 20) and depth band (shallow = at "
                  f"most 4 hidden layers). Fastest: least seconds per epoch; most accurate: "
                  f"highest mean test accuracy; pick: the fastest within {c.tolerance_pct:g} "
                  "points of the most accurate (the decision rule of §10.4), beside the paper's "
                  "answer for that leaf.")
    v = verdicts.verdicts(c.judged, c.leaves)
    if v.empty:
        sec.missing.append("no setting has runs with both a timing and an accuracy")
        return sec
    v = v.assign(agree=v["agrees"].map(verdicts.agree_text),
                 vs=[_speedup(m, r) for m, r in zip(v["fastest_method"], v["vs_standard"],
                                             strict=True)])
    cols, note = drop_constant({"dataset": "dataset", "setting": "setting", "depth": "depth",
                                "fastest": "fastest", "fastest_s": "its s/epoch",
                                "vs": "vs Standard", "most_accurate": "most accurate",
                                "best_pct": "its test acc. %", "winner": "pick (§10.4 rule)",
                                "agree": "agrees with the paper", "paper": "paper's answer"},
                               v, ["dataset"])
    sec.table(html_table(v, cols, {"fastest_s": num(3), "best_pct": fixed(1)},
                         css="data verdicts"), caption=note)
    return sec


def _speedup(method, ratio) -> str:
    # by method, not title: with several variants the title is a full label ("Standard S
    # (b1) [lr=0.001]") and a Standard variant would read "1.00x faster" than itself
    if method == REFERENCE:
        return "is Standard"
    return "Standard not run" if ratio is None or pd.isna(ratio) else f"{ratio:.2f}x faster"
