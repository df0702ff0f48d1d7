"""The ALSH section: what explains the recall of ALSH-approx's active sets."""

from __future__ import annotations

from profkit.analyses import alsh
from profkit.analyses.computed import Computed
from profkit.analyses.figures import alsh as afig
from profkit.analyses.labels import column_label
from profkit.analyses.sections import Section
from profkit.analyses.tables import html_table, num

MAX_ROWS = 60


def build(c: Computed) -> Section:
    sec = Section("alsh", "ALSH-approx: what explains its recall",
                  "Recall is the share of the exact top-5% units by <a, w_j> that the active "
                  "set holds (random choice: k/n). bucket_fraction is the share of the set "
                  "found in buckets rather than padded; tables_probed how many tables were "
                  "read before the cap filled; largest_bucket_share the share of the units in "
                  "a table's largest bucket; data_extra_share and query_extra_share the share "
                  "of the transformed vectors' squared norm in the transform's appended terms "
                  "(near 1: those terms, not the weights, decide the codes). docs/alsh.md "
                  "explains the configurations.")
    f = c.frames
    diag = alsh.diagnostics(f["method_stats"], c.runs)
    if diag.empty:
        sec.missing.append("no alsh-approx run in these results")
    else:
        fmts = {col: num(3) for col in diag.columns if diag[col].dtype.kind == "f"}
        sec.table(html_table(diag, {col: column_label(col) for col in diag.columns}, fmts,
                             max_rows=MAX_ROWS), "Diagnostics per run configuration and layer")
        occ = alsh.occupancy(f.get("lsh_tables", diag.iloc[:0]), c.runs)
        sec.figure(afig.occupancy(occ), "Bucket occupancy per table",
                   "One point per hash table: with the paper's K = 6, L = 5 and l2-alsh-sign, "
                   "a few buckets hold most units, so the first probed bucket fills the cap.",
                   missing="no lsh_tables rows (runs older than the occupancy diagnostics)")
    _study(sec, c)
    return sec


def _study(sec: Section, c: Computed) -> None:
    study = c.frames.get("alsh_study")  # load_results reads the study with the runs
    if study is None or study.empty:
        sec.missing.append("no recall study in these results: profkit.alsh_study.run_study("
                           "cfg, results=DIR) adds one")
        return
    sec.figure(afig.study_recall(study), "Recall against K, L and the selection rule",
               "Mean over hidden layers of a briefly trained network; dashed: random choice.")
    summ = alsh.study_summary(study)
    sec.table(html_table(summ, {col: column_label(col) for col in summ.columns},
                         {col: num(3) for col in summ.columns if summ[col].dtype.kind == "f"},
                         max_rows=MAX_ROWS), "Recall study: every configuration, best first")
