"""Memory (§9.4): resident memory over training and its growth per run and per method.

Growth is the last minus the first RSS sample taken during training (epoch >= 0). Without
memory-probe rows it falls back to the epoch-end RSS in `epochs` (needs >= 2 epochs; it then
misses the first epoch's growth and says so); otherwise the growth is NA with a reason.
"""

from __future__ import annotations

import pandas as pd
from profkit.analyses.results import GROUP_KEYS, run_keys

MB = 1e6
RSS = "rss"


def memory_series(memory: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """RSS samples over time (seconds since the run started, MB), with the run keys."""
    m = memory[(memory["metric"] == RSS) & memory["bytes"].notna()].copy()
    m["t_s"] = m["t_ns"] / 1e9
    m["rss_mb"] = m["bytes"].astype(float) / MB
    cols = ["run_id", "t_s", "epoch", "step", "phase", "source", "rss_mb"]
    return m[cols].sort_values(["run_id", "t_s"]).merge(run_keys(runs), on="run_id")


def memory_growth(memory: pd.DataFrame, epochs: pd.DataFrame,
                  runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: RSS at the start and end of training, growth (MB) and growth per epoch."""
    rows = [_growth_row(rid, memory[memory["run_id"] == rid], epochs[epochs["run_id"] == rid])
            for rid in runs["run_id"]]
    cols = ["run_id", "rss_start_mb", "rss_end_mb", "growth_mb", "growth_per_epoch_mb",
            "epochs_run", "source", "na_reason"]
    return pd.DataFrame(rows, columns=cols).merge(run_keys(runs), on="run_id")


def _growth_row(run_id: str, mem: pd.DataFrame, ep: pd.DataFrame) -> dict:
    n_ep = int(ep["epoch"].nunique())
    row = {"run_id": run_id, "epochs_run": n_ep, "rss_start_mb": None, "rss_end_mb": None,
           "source": None, "na_reason": None}
    rss = mem[(mem["metric"] == RSS) & (mem["epoch"] >= 0) & mem["bytes"].notna()]
    rss = rss.sort_values("t_ns")
    if len(rss) >= 2:
        row.update(rss_start_mb=rss["bytes"].iloc[0] / MB, rss_end_mb=rss["bytes"].iloc[-1] / MB,
                   source="memory probe (RSS samples during training)")
    elif ep["rss_bytes"].notna().sum() >= 2:
        e = ep[ep["rss_bytes"].notna()].sort_values("epoch")
        row.update(rss_start_mb=e["rss_bytes"].iloc[0] / MB,
                   rss_end_mb=e["rss_bytes"].iloc[-1] / MB,
                   source="epoch-end RSS (misses the first epoch's growth)")
    else:
        row["na_reason"] = ("no memory-probe RSS samples, < 2 epoch-end RSS values: "
                            "use the memory probe or >= 2 epochs")
    return _with_growth(row)


def _with_growth(row: dict) -> dict:
    if row["rss_start_mb"] is None:
        return {**row, "growth_mb": None, "growth_per_epoch_mb": None}
    growth = row["rss_end_mb"] - row["rss_start_mb"]
    per = growth / row["epochs_run"] if row["epochs_run"] else None
    return {**row, "growth_mb": growth, "growth_per_epoch_mb": per}


def growth_by_method(growth: pd.DataFrame) -> pd.DataFrame:
    """Median growth per configuration over its runs; NA (with the reasons) when none has it."""
    g = growth.groupby(GROUP_KEYS, dropna=False)
    out = g.agg(growth_mb=("growth_mb", "median"), growth_per_epoch_mb=("growth_per_epoch_mb",
                                                                         "median"),
                rss_end_mb=("rss_end_mb", "median"), n_runs=("run_id", "size"),
                na_reason=("na_reason", _first_reason)).reset_index()
    return out


def _first_reason(s: pd.Series):
    s = s.dropna()
    return s.iloc[0] if len(s) else None
