"""The paper-comparison section: every measured value that has a published counterpart."""

from __future__ import annotations

from profkit.analyses import paper
from profkit.analyses.computed import Computed
from profkit.analyses.sections import Section
from profkit.analyses.tables import html_table, num


def build(c: Computed) -> Section:
    sec = Section("paper", "Comparison with the paper's published numbers",
                  "Matched on dataset, method, setting (S = batch 1, M = batch 20), hidden "
                  "layers and metric. \"Differences\" says why a pair is not like for like; "
                  "only rows without differences compare directly.")
    sec.items(paper.protocol_differences(c.runs, c.frames["environment"]),
              "Protocol differences")
    if c.comparison.empty:
        sec.missing.append("no measured value has a published counterpart (the paper reports "
                           "batch 1 or 20, the datasets of its Table 2, and depths 1-7, 10, 20)")
    else:
        cmp = c.comparison.assign(comparable=c.comparison["comparable"].map(
            {True: "yes", False: "no"}))
        sec.table(html_table(cmp, {"table": "paper table", "dataset": "paper dataset",
                                   "profkit_dataset": "measured on", "method": "method",
                                   "setting": "setting", "hidden_layers": "hidden layers",
                                   "width": "width", "metric": "metric",
                                   "measured": "measured", "paper": "paper", "unit": "unit",
                                   "paper_note": "paper note", "comparable": "comparable",
                                   "differences": "differences"},
                             {"measured": num(4), "paper": num(4)}),
                  "Measured beside published")
    missing = paper.unmatched_tables(c.published, c.comparison)
    if missing:
        sec.missing.append("published results with no measured counterpart here: "
                           + ", ".join(missing))
    return sec
