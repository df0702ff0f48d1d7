"""Accuracy: Table 2, accuracy over epochs and depth, confusion matrices, label shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
from profkit.analyses.results import GROUP_KEYS, run_keys


def final_accuracy(epochs: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: accuracy at its last evaluated epoch, epochs run, and the run's keys."""
    ev = epochs[epochs["test_accuracy"].notna()].sort_values(["run_id", "epoch"])
    last = ev.groupby("run_id", as_index=False).last()[
        ["run_id", "epoch", "val_accuracy", "test_accuracy"]]
    n = epochs.groupby("run_id").size().rename("epochs_run")
    out = run_keys(runs, ("max_steps", "epochs", "steps_done")).merge(last, on="run_id",
                                                                       how="left")
    return out.join(n, on="run_id")


def accuracy_table(final: pd.DataFrame) -> pd.DataFrame:
    """Table 2 (long): mean final test accuracy (%) per configuration over its repeats."""
    g = final.groupby(GROUP_KEYS, dropna=False)
    out = g.agg(test_pct=("test_accuracy", "mean"), sd_pct=("test_accuracy", "std"),
                val_pct=("val_accuracy", "mean"), n_runs=("run_id", "size"),
                epochs_run=("epochs_run", "max")).reset_index()
    for c in ("test_pct", "sd_pct", "val_pct"):
        out[c] = out[c] * 100
    # a step-capped run's "1 epoch" may be a few hundred steps: the cap goes with its accuracy
    for c in ("max_steps", "steps_done"):
        out[c] = g[c].max().to_numpy() if c in final else float("nan")
    return out.sort_values(["dataset", "hidden_layers", "method", "batch_size"])


def stopped_by_cap(df: pd.DataFrame) -> pd.Series:
    """Per row: the run stopped at its step cap (`max_steps`) rather than after whole epochs,
    so its "epoch" is a few hundred steps (a reproduction's timing runs)."""
    if "max_steps" not in df or "steps_done" not in df:
        return pd.Series(False, index=df.index)
    return df["max_steps"].notna() & (df["steps_done"] >= df["max_steps"])


def whole_epoch_runs(df: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The rows an accuracy figure or sentence may use: when a results set holds both
    whole-epoch runs and runs stopped by their step cap, the whole-epoch ones only; else all.
    Returns them and whether any were left out."""
    capped = stopped_by_cap(df)
    if not capped.any() or capped.all():
        return df, False
    return df[~capped], True


def accuracy_curves(epochs: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run and epoch: validation and test accuracy with the run's keys (Figures 4-6, 10, 12)."""
    cols = ["run_id", "epoch", "val_accuracy", "test_accuracy", "complete"]
    return epochs[cols].merge(run_keys(runs), on="run_id").sort_values(["run_id", "epoch"])


def depth_accuracy(final: pd.DataFrame) -> pd.DataFrame:
    """Mean final test accuracy (%) by method, batch size and depth (Figure 7)."""
    keys = [k for k in GROUP_KEYS if k != "hidden_layers"] + ["hidden_layers"]
    out = final.groupby(keys, dropna=False)["test_accuracy"].mean().mul(100)
    return out.rename("test_pct").reset_index()


def _last_epoch(confusion: pd.DataFrame, split: str) -> pd.DataFrame:
    c = confusion[confusion["split"] == split]
    last = c.groupby("run_id")["epoch"].transform("max")
    return c[c["epoch"] == last]


def confusion_matrices(confusion: pd.DataFrame, runs: pd.DataFrame,
                       split: str = "test") -> pd.DataFrame:
    """Long confusion counts of each run's last epoch, with row-normalised `share` (Figure 3)."""
    c = _last_epoch(confusion, split).copy()
    c["share"] = c["count"] / c.groupby(["run_id", "true_label"])["count"].transform("sum")
    return c.merge(run_keys(runs), on="run_id")


def label_shares(confusion: pd.DataFrame, runs: pd.DataFrame,
                 split: str = "test") -> pd.DataFrame:
    """Per run: share of the split's predictions given to each label, last epoch (Figure 13)."""
    c = _last_epoch(confusion, split)
    per = c.groupby(["run_id", "pred_label"], as_index=False)["count"].sum()
    per["share"] = per["count"] / per.groupby("run_id")["count"].transform("sum")
    return per.merge(run_keys(runs), on="run_id")


def prediction_entropy(shares: pd.DataFrame) -> pd.DataFrame:
    """Per run: how many labels the predictions use, as exp(entropy) of the label shares
    (10 = uniform over 10 labels, 1 = one label only); §10.3's collapse in one number."""
    p = shares[shares["share"] > 0]
    ent = p.groupby("run_id")["share"].apply(lambda s: float(-(s * np.log(s)).sum()))
    out = ent.rename("entropy").reset_index()
    out["effective_labels"] = np.exp(out["entropy"])
    return out

