"""ALSH-approx diagnostics: what explains its recall, from method_stats, lsh_tables and the
recall study (profkit.alsh_study)."""

from __future__ import annotations

import pandas as pd

DIAG_STATS = ("recall_topk", "recall_random", "bucket_fraction", "tables_probed",
              "largest_bucket_share", "bucket_size_mean", "data_extra_share",
              "query_extra_share", "active_set_mean")
CONFIG_PARAMS = ("family", "selection", "K", "L", "rerank")


def config_label(runs: pd.DataFrame) -> pd.Series:
    """`family/selection K=.. L=..` (+ rerank) per run, from the runs frame's param_ columns."""
    def one(r) -> str:
        get = lambda k, d=None: r.get(f"param_{k}", d)  # noqa: E731
        text = f"{get('family')}/{get('selection', 'table-order')} K={get('K')} L={get('L')}"
        return text + (f" rerank={get('rerank')}" if get("rerank", 0) else "")
    return runs.apply(one, axis=1)


def diagnostics(method_stats: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per ALSH run configuration and hidden layer: the mean over epochs of every diagnostic
    statistic (columns DIAG_STATS present in the data)."""
    alsh = runs[runs["method"] == "alsh-approx"]
    ms = method_stats[method_stats["run_id"].isin(alsh["run_id"])
                      & method_stats["stat"].isin(DIAG_STATS) & (method_stats["layer"] >= 0)]
    if ms.empty:
        return pd.DataFrame()
    labels = alsh.assign(config=config_label(alsh))[["run_id", "config", "batch_size",
                                                      "dataset"]]
    wide = ms.merge(labels, on="run_id").pivot_table(
        index=["dataset", "config", "batch_size", "layer"], columns="stat", values="value",
        aggfunc="mean").reset_index()
    wide.columns.name = None
    return wide[[c for c in ["dataset", "config", "batch_size", "layer", *DIAG_STATS]
                 if c in wide]]


def occupancy(lsh_tables: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """lsh_tables rows labelled with their run's configuration (for the occupancy figure)."""
    if lsh_tables.empty:
        return pd.DataFrame()
    alsh = runs.assign(config=config_label(runs))[["run_id", "config"]]
    return lsh_tables.merge(alsh, on="run_id")


def study_summary(study: pd.DataFrame) -> pd.DataFrame:
    """Mean recall over layers per configuration, best first, with the chance level."""
    if study.empty:
        return pd.DataFrame()
    keys = ["family", "selection", "K", "L", "m", "U", "bin_size", "rerank"]
    out = study.groupby(keys, as_index=False).agg(
        recall=("recall", "mean"), recall_layer0=("recall", "first"),
        recall_random=("recall_random", "mean"), bucket_fraction=("bucket_fraction", "mean"),
        tables_probed=("tables_probed", "mean"),
        largest_bucket_share=("largest_bucket_share", "mean"),
        data_extra_share=("data_extra_share", "mean"))
    return out.sort_values("recall", ascending=False, ignore_index=True)
