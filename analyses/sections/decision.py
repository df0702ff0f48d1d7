"""The decision-tree section (§10.4): measured winners per leaf beside the paper's tree."""

from __future__ import annotations

from profkit.analyses.computed import Computed
from profkit.analyses.figures import decision as dfig
from profkit.analyses.sections import Section
from profkit.analyses.tables import fixed, html_table, num, pct
from profkit.analyses.verdicts import agree_text

MAX_TREES = 3


def build(c: Computed) -> Section:
    sec = Section("decision", "Decision tree: which method to use (§10.4)",
                  f"Per leaf and dataset, the winner is the fastest (seconds per epoch) among the "
                  f"(method, batch size) candidates whose mean test accuracy is within "
                  f"{c.tolerance_pct:g} points of the leaf's best. Shallow = at most 4 hidden "
                  "layers. \"Open problem\" in the paper means no sampling method beat Standard; "
                  "a leaf agrees with it when Standard wins here. The SGD-shallow leaf splits "
                  "as the paper's does: without parallel computing (one-process runs) and with "
                  "it (runs of --workers P > 1, HOGWILD-style worker processes sharing the "
                  "parameters), where the winner is the highest throughput in samples per "
                  "second within the tolerance.")
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
    _scaling(sec, c)
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


def _scaling(sec: Section, c: Computed) -> None:
    if c.scaling.empty:
        sec.missing.append("no multi-worker runs: the parallel leaf is undecided (profkit run "
                           "--workers P, beside the same run with --workers 1)")
        return
    sec.table(html_table(c.scaling, {
        "dataset": "dataset", "method": "method", "batch_size": "batch",
        "hidden_layers": "layers", "width": "width", "implementation": "implementation",
        "workers": "workers", "samples_per_s": "samples/s", "speedup": "speed-up",
        "efficiency": "efficiency", "test_pct": "test accuracy %", "n_runs": "runs"},
        {"samples_per_s": num(4), "speedup": fixed(2), "efficiency": pct(0),
         "test_pct": fixed(2)}),
        "Parallel scaling: throughput against one worker",
        "Samples per second over each epoch's wall time, all workers at once (median over "
        "epochs and runs); speed-up over the same configuration with one worker; efficiency = "
        "speed-up / workers.")
