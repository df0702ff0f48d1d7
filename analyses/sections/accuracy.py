"""The accuracy section: Table 2 beside the paper, Figures 3-7, 12-13."""

from __future__ import annotations

import pandas as pd
from profkit.analyses import accuracy
from profkit.analyses.computed import Computed
from profkit.analyses.figures import accuracy as afig
from profkit.analyses.sections import Section
from profkit.analyses.sections.runtime import CONFIG_COLS, OPTIONAL, with_config
from profkit.analyses.tables import drop_constant, fixed, html_table


def _paper_acc(c: Computed) -> pd.DataFrame:
    cmp = c.comparison[c.comparison["metric"] == "test_accuracy"]
    keys = ["profkit_dataset", "profkit_method", "batch_size", "hidden_layers", "width", "variant"]
    if cmp.empty:
        return pd.DataFrame(columns=[*keys, "paper_t2", "paper_depth"])
    t2 = cmp[cmp["table"] == "Table 2"].groupby(keys)["paper"].first().rename("paper_t2")
    dep = cmp[cmp["table"] == "accuracy by depth"].groupby(keys)["paper"].first()
    return pd.concat([t2, dep.rename("paper_depth")], axis=1).reset_index()


def table2(c: Computed) -> str:
    t = with_config(c.acc_table)
    p = _paper_acc(c).rename(columns={"profkit_dataset": "dataset", "profkit_method": "method"})
    t = t.merge(p, on=["dataset", "method", "batch_size", "hidden_layers", "width", "variant"],
                how="left")
    t["epochs_run"] = [trained(e, m, s) for e, m, s in
                       zip(t["epochs_run"], accuracy.stopped_by_cap(t), t["steps_done"],
                           strict=True)]
    cols = {"dataset": "dataset", "hidden_layers": "hidden layers", **CONFIG_COLS,
            "test_pct": "test accuracy %", "sd_pct": "sd over repeats", "n_runs": "runs",
            "epochs_run": "epochs (or steps)", "val_pct": "val accuracy %",
            "paper_t2": "paper Table 2 %",
            "paper_depth": "paper by depth (suppl.) %"}
    cols, note = drop_constant(cols, t, [o for o in OPTIONAL if o != "hidden_layers"])
    f = fixed(2)
    return html_table(t, cols, {"test_pct": f, "sd_pct": f, "val_pct": f, "paper_t2": f,
                                "paper_depth": f}, note=note)


def trained(epochs, capped: bool, steps_done) -> str:
    """What a row's accuracy was trained for: whole epochs, or the steps of a run its step cap
    stopped (a timing run), which are not an epoch whatever its epoch count says."""
    if capped:
        return f"{int(steps_done)} steps (capped)"
    return "" if pd.isna(epochs) else str(int(epochs))


def build(c: Computed) -> Section:
    sec = Section("accuracy", "Accuracy (Table 2, Figures 3-7, 12-13)",
                  "Test accuracy at each run's last evaluated epoch (evaluation is exact: no "
                  "sampling, no dropout mask). The batch size is explicit in every row: the "
                  "paper's Table 2 compares MC-approx at batch 20 with the others at batch 1.")
    if c.acc_table["test_pct"].isna().all():
        sec.missing.append("no evaluated epochs (epochs table has no test accuracy)")
        return sec
    sec.table(table2(c), "Table 2: test accuracy, with the paper's values beside")
    f, runs = c.frames, c.runs
    final, only_whole = accuracy.whole_epoch_runs(c.final)
    note = (" Step-capped timing runs are left out: a few hundred steps beside whole epochs "
            "would draw a line between two different things." if only_whole else "")
    sec.figure(afig.curves(accuracy.accuracy_curves(
                   f["epochs"], runs[runs["run_id"].isin(final["run_id"])])),
               "Figures 4-6, 10, 12: validation accuracy per epoch", note.strip())
    dep = accuracy.depth_accuracy(final)
    sec.figure(afig.depth_accuracy(dep, c.published) if dep["hidden_layers"].nunique() > 1
               else None, "Figure 7: test accuracy vs depth",
               "Dotted: the paper's MNIST values by depth (authors' supplement)." + note,
               missing="Figure 7 (accuracy vs depth) needs runs at >= 2 depths")
    _prediction_figures(sec, c)
    return sec


def _prediction_figures(sec: Section, c: Computed) -> None:
    conf = c.frames["confusion"]
    if conf.empty:
        sec.missing.append("Figures 3 and 13: no confusion counts (confusion table is empty)")
        return
    sec.figure(afig.confusion_grid(accuracy.confusion_matrices(conf, c.runs)),
               "Figure 3: confusion matrices (test split, last epoch, row-normalised)")
    shares = accuracy.label_shares(conf, c.runs)
    ent = accuracy.prediction_entropy(shares).merge(
        c.runs[["run_id", "method", "batch_size", "hidden_layers"]], on="run_id")
    ent = with_config(ent).sort_values(["method", "batch_size", "hidden_layers"])
    sec.figure(afig.label_shares(shares), "Figure 13: share of test predictions per label",
               collapse_caption(ent, int(conf["true_label"].max()) + 1))
    sec.table(html_table(ent, {"config": "method (setting)", "hidden_layers": "hidden layers",
                               "effective_labels": "labels used (exp entropy)"},
                         {"effective_labels": fixed(2)}),
              "Label diversity of predictions (10 = uniform over 10 labels, 1 = a single label)")


COLLAPSED = 3.0  # effective labels (exp entropy) below which predictions count as collapsed


def collapse_caption(ent: pd.DataFrame, n_classes: int) -> str:
    """What the shares show, from the data: which configurations predict few labels."""
    if ent.empty:
        return ""
    per = ent.groupby(["config", "hidden_layers"])["effective_labels"].mean().sort_values()
    low = per[per < COLLAPSED]
    head = (f"Label diversity ranges from {per.iloc[0]:.1f} to {per.iloc[-1]:.1f} effective "
            f"labels of {n_classes} (exp of the entropy of the prediction shares). ")
    if low.empty:
        return head + f"No configuration's predictions collapse below {COLLAPSED:g} labels."
    by_method = low.groupby(level="config").size().sort_values(ascending=False)
    named = ", ".join(f"{m} ({n} of {int((per.index.get_level_values('config') == m).sum())} "
                      "depths)" for m, n in by_method.items())
    return head + (f"{len(low)} of {len(per)} configurations collapse onto fewer than "
                   f"{COLLAPSED:g} labels: {named}.")
