"""Parallel scaling (--workers P, profkit/hogwild.py): throughput in samples per second, and
its speed-up and efficiency against the same configuration in one process."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.results import GROUP_KEYS, run_keys

# a configuration apart from its worker count: what a speed-up compares across
CONFIG_KEYS = [k for k in GROUP_KEYS if k != "workers"]


def throughput(epochs: pd.DataFrame, steps: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run and epoch: samples trained, the epoch's training wall time (all workers at
    once) and samples per second, with the run's keys."""
    if epochs.empty or steps.empty:
        return pd.DataFrame(columns=["run_id", "epoch", "samples", "train_s", "samples_per_s",
                                     *GROUP_KEYS])
    samples = steps.groupby(["run_id", "epoch"]).batch_size.sum().rename("samples")
    ep = epochs[["run_id", "epoch", "train_wall_ns"]].join(samples, on=["run_id", "epoch"])
    ep = ep[ep["samples"].notna() & (ep["train_wall_ns"] > 0)]
    ep = ep.assign(train_s=ep["train_wall_ns"] / 1e9)
    ep["samples_per_s"] = ep["samples"] / ep["train_s"]
    return ep.drop(columns="train_wall_ns").merge(run_keys(runs), on="run_id")


def scaling(thr: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and worker count: median samples/s over its runs' epochs, mean test
    accuracy (%), speed-up over the same configuration with one worker and efficiency
    (speed-up / workers); NA where the one-worker run is missing. Only configurations run
    with more than one worker count or more than one worker appear."""
    if thr.empty:
        return pd.DataFrame(columns=[*GROUP_KEYS, "samples_per_s", "test_pct", "speedup",
                                     "efficiency", "n_runs"])
    g = thr.groupby(GROUP_KEYS, dropna=False)
    out = g.agg(samples_per_s=("samples_per_s", "median"),
                n_runs=("run_id", "nunique")).reset_index()
    acc = final.groupby(GROUP_KEYS, dropna=False)["test_accuracy"].mean().mul(100)
    out = out.join(acc.rename("test_pct"), on=GROUP_KEYS)
    parallel = out.groupby(CONFIG_KEYS, dropna=False)["workers"].transform("max") > 1
    out = out[parallel].copy()
    one = out[out["workers"] == 1].set_index(CONFIG_KEYS)["samples_per_s"].rename("base")
    out = out.join(one, on=CONFIG_KEYS)
    out["speedup"] = out["samples_per_s"] / out["base"]
    out["efficiency"] = out["speedup"] / out["workers"]
    return out.drop(columns="base").sort_values([*CONFIG_KEYS, "workers"], ignore_index=True)
