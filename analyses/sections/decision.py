"""The decision-tree section (§10.4): measured winners per leaf beside the paper's tree."""

from __future__ import annotations

from profkit.analyses.computed import Computed
from profkit.analyses.figures import decision as dfig
from profkit.analyses.sections import Section
from profkit.analyses.tables import fixed, html_table, num
from profkit.analyses.verdicts import agree_text

MAX_TREES = 3


def build(c: Computed) -> Section:
    sec = Section("decision", "Decision tree: which method to use (§10.4)",
                  f"Per leaf and dataset, the winner is the fastest (seconds per epoch) among the "
                  f"(method, batch size) candidates whose mean test accuracy is within "
                  f"{c.tolerance_pct:g} points of the leaf's best. Shallow = at most 4 hidden "
                  "layers. \"Open problem\" in the paper means no sampling method beat Standard; "
                  "a leaf agrees with it when Standard wins here. This machine trains in one "
                  "process, so it tests the paper's \"without parallel computing\" branch.")
    lv = c.leaves.assign(agree=c.leaves["agrees"].map(agree_text),
                         winner=c.leaves["winner"].fillna("no data"))
    sec.table(html_table(lv, {"dataset": "dataset", "setting": "setting", "depth": "depth",
                              "winner": "measured winner", "evidence": "evidence",
                              "paper": "paper's answer", "agree": "agrees with paper"}),
              "Leaves: measured winner beside the paper's answer")
    for d in list(c.leaves["dataset"].unique())[:MAX_TREES]:
        sec.figure(dfig.trees(c.leaves, d), f"Decision tree: measured ({d}) and the paper's",
                   "Leaf colours (key under the trees): whether the measured winner agrees "
                   "with the paper's answer for that leaf, as in the table above.")
    if c.judged.empty:
        sec.missing.append("no candidate has both an accuracy and a timing")
        return sec
    j = c.judged.sort_values(["dataset", "setting", "depth", "test_pct"], ascending=[
        True, True, True, False])
    sec.table(html_table(j, {"dataset": "dataset", "setting": "setting", "depth": "depth",
                             "candidate": "candidate", "depths": "depths run",
                             "test_pct": "test accuracy %", "s_per_epoch": "s/epoch",
                             "within_tolerance": "within tolerance", "winner": "winner"},
                         {"test_pct": fixed(2), "s_per_epoch": num(3)}),
              "Evidence per leaf: every candidate")
    return sec
