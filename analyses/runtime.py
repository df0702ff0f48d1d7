"""Runtime: seconds per epoch by phase, per-step medians with intervals, ratios to Standard.

Every phase is kept, `other` included; `diagnostic` is not training time and is left out.
An epoch cut short by a step cap is extrapolated to a full epoch from its steady-state
(non-warm-up) mean step time, and flagged `extrapolated`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from profkit.analyses import compare, stats
from profkit.analyses.labels import REFERENCE
from profkit.analyses.results import GROUP_KEYS, MATCH_KEYS, run_keys

DIAGNOSTIC, TOTAL = "diagnostic", "total"
FIRST_PHASES = ("data", "forward", "backward", "optimizer")


def phase_order(names) -> list[str]:
    """data, forward, backward, optimizer, method-specific phases, other, total."""
    names = set(names)
    head = [p for p in FIRST_PHASES if p in names]
    tail = [p for p in ("other", TOTAL) if p in names]
    return head + sorted(names - set(head) - set(tail)) + tail


def training_phases(phases: pd.DataFrame) -> pd.DataFrame:
    """Phase rows that are training time, plus a `total` row per step (their sum)."""
    ph = phases[phases["phase"] != DIAGNOSTIC]
    tot = ph.groupby(["run_id", "epoch", "step"], as_index=False).agg(
        wall_ns=("wall_ns", "sum"), warmup=("warmup", "first"))
    tot["phase"] = TOTAL
    return pd.concat([ph[tot.columns], tot], ignore_index=True)


def _blocks(blocks: pd.DataFrame | None) -> pd.DataFrame:
    """Training-time rows of phase_blocks (`profkit compact`; empty for raw results)."""
    if blocks is None or blocks.empty:
        return pd.DataFrame(columns=["run_id", "epoch", "phase", "n_steps", "warmup", "sum_ns"])
    return blocks[blocks["phase"] != DIAGNOSTIC]


def epoch_phase_seconds(phases: pd.DataFrame, runs: pd.DataFrame,
                        blocks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per run, epoch and phase: seconds (per full epoch), steps seen, extrapolated or not.
    Compacted runs (`blocks`, profkit.compact) give the same sums and counts."""
    keys = ["run_id", "epoch", "phase"]
    ph = training_phases(phases)
    out = ph.groupby(keys, as_index=False).agg(wall_ns=("wall_ns", "sum"),
                                               n_steps=("wall_ns", "size"))
    b = _blocks(blocks)
    if len(ph) or not len(b):
        steady = ph[~ph["warmup"].astype(bool)].groupby(keys)["wall_ns"].mean()
        out = out.join(steady.rename("steady_ns"), on=keys)
    if len(b):
        bo = b.groupby(keys, as_index=False).agg(wall_ns=("sum_ns", "sum"),
                                                 n_steps=("n_steps", "sum"))
        st = b[~b["warmup"].astype(bool)].groupby(keys)[["sum_ns", "n_steps"]].sum()
        bo = bo.join((st["sum_ns"] / st["n_steps"]).rename("steady_ns"), on=keys)
        out = pd.concat([out, bo], ignore_index=True) if len(out) else bo
    out = out.merge(runs[["run_id", "full_epoch_steps"]], on="run_id", how="left")
    full = pd.to_numeric(out["full_epoch_steps"], errors="coerce")
    out["extrapolated"] = full.notna() & (out["n_steps"] < full)
    per_step = out["steady_ns"].fillna(out["wall_ns"] / out["n_steps"])
    out["seconds"] = np.where(out["extrapolated"], per_step * full, out["wall_ns"]) / 1e9
    return out.drop(columns=["steady_ns"])


def step_phase_stats(phases: pd.DataFrame, runs: pd.DataFrame,
                     extrapolated_runs: set[str] = frozenset(),
                     blocks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per run and phase: median ms per non-warm-up step with a moving-block bootstrap CI,
    mean, CV, and a block-means CI of seconds per full epoch: over all steps (warm-up
    included, as the measured epoch is), or over steady steps for runs whose epochs were
    extrapolated; `block_ms` keeps those block means (ms) for pooling over repeats."""
    ph = training_phases(phases)
    full = runs.set_index("run_id")["full_epoch_steps"]
    rows = [_step_row(rid, phase, g, full.get(rid), rid in extrapolated_runs)
            for (rid, phase), g in ph.groupby(["run_id", "phase"])]
    rows += [_compacted_row(rid, phase, g, full.get(rid))
             for (rid, phase), g in _blocks(blocks).groupby(["run_id", "phase"])]
    cols = ["run_id", "phase", "n_steps", "median_ms", "median_lo_ms", "median_hi_ms",
            "mean_ms", "cv", "epoch_lo_s", "epoch_hi_s", "block_ms", "full_steps", "compacted"]
    return pd.DataFrame(rows, columns=cols)


def _compacted_row(run_id: str, phase: str, g: pd.DataFrame, full_steps) -> dict:
    """A compacted run's phase: the exact mean of its steady steps; no per-step median and
    no within-run interval (profkit compact keeps block sums, not the steps)."""
    steady = g[~g["warmup"].astype(bool)]
    steady = steady if len(steady) else g
    n = int(steady["n_steps"].sum())
    nan = float("nan")
    return {"run_id": run_id, "phase": phase, "n_steps": n, "median_ms": nan,
            "median_lo_ms": nan, "median_hi_ms": nan,
            "mean_ms": float(steady["sum_ns"].sum()) / n / 1e6 if n else nan, "cv": nan,
            "epoch_lo_s": nan, "epoch_hi_s": nan, "block_ms": None,
            "full_steps": float(full_steps) if pd.notna(full_steps) else nan,
            "compacted": True}


def _step_row(run_id: str, phase: str, g: pd.DataFrame, full_steps, steady_only: bool) -> dict:
    all_ms = g["wall_ns"].to_numpy() / 1e6
    ms = all_ms[~g["warmup"].to_numpy(dtype=bool)]
    ms = ms if len(ms) else all_ms
    lo, hi = stats.block_bootstrap_ci(ms)
    blocks = stats.block_means(ms if steady_only else all_ms)
    mlo, mhi = stats.positive_t_ci(blocks)
    full = float(full_steps) if pd.notna(full_steps) else np.nan
    return {"run_id": run_id, "phase": phase, "n_steps": len(ms), "median_ms": np.median(ms),
            "median_lo_ms": lo, "median_hi_ms": hi, "mean_ms": ms.mean(), "cv": stats.cv(ms),
            "epoch_lo_s": mlo * full / 1e3, "epoch_hi_s": mhi * full / 1e3,
            "block_ms": tuple(blocks), "full_steps": full, "compacted": False}


def phase_table(epoch_seconds: pd.DataFrame, step_stats: pd.DataFrame,
                runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and phase: seconds per epoch (median over runs of each run's mean over
    epochs) with a 95% CI: t over repeats (log scale) with >= 3 repeats, else t over the
    pooled block means of the runs' steps (within-run variation only; see stats)."""
    per_run = epoch_seconds.groupby(["run_id", "phase"], as_index=False).agg(
        seconds=("seconds", "mean"), n_epochs=("epoch", "size"),
        extrapolated=("extrapolated", "any"))
    cols = ["run_id", "phase", "median_ms", "block_ms", "full_steps"]
    cols += ["compacted"] if "compacted" in step_stats else []
    per_run = per_run.merge(step_stats[cols], on=["run_id", "phase"], how="left")
    per_run = per_run.merge(run_keys(runs), on="run_id")
    if per_run.empty:
        return pd.DataFrame(columns=[*GROUP_KEYS, "phase", "s_per_epoch", "ci_lo", "ci_hi",
                                     "ci_method", "sample", "median_step_ms", "n_runs", "n_epochs",
                                     "extrapolated", "repeat_cv", "share"])
    rows = [_group_row(k, g) for k, g in per_run.groupby([*GROUP_KEYS, "phase"], dropna=False)]
    out = pd.DataFrame(rows)
    totals = out[out["phase"] == TOTAL].set_index(GROUP_KEYS)["s_per_epoch"]
    out["share"] = out["s_per_epoch"] / out.join(totals.rename("_t"), on=GROUP_KEYS)["_t"]
    return out


def _group_row(key: tuple, g: pd.DataFrame) -> dict:
    row = dict(zip([*GROUP_KEYS, "phase"], key, strict=True))
    s = g["seconds"].to_numpy()
    lo, hi, how, sample = _group_ci(s, g)
    row.update(sample=sample, s_per_epoch=float(np.median(s)), ci_lo=lo, ci_hi=hi, ci_method=how,
               median_step_ms=float(g["median_ms"].median()), n_runs=len(s),
               n_epochs=int(g["n_epochs"].sum()), extrapolated=bool(g["extrapolated"].any()),
               repeat_cv=stats.cv(s))
    return row


def _group_ci(s: np.ndarray, g: pd.DataFrame) -> tuple[float, float, str, tuple]:
    """Between-repeat interval with >= MIN_REPEATS repeats, else pooled within-run blocks;
    and the sample it came from (seconds per epoch), which compare.ratio tests."""
    if len(s) >= stats.MIN_REPEATS:
        return (*stats.positive_t_ci(s), f"t over {len(s)} repeats (log scale)", tuple(s))
    blocks = [np.asarray(b) * f / 1e3 for b, f in zip(g["block_ms"], g["full_steps"],
                                                    strict=True) if isinstance(b, tuple)]
    sample = np.concatenate(blocks) if blocks else np.array([])
    lo, hi = stats.positive_t_ci(sample) if len(sample) else (np.nan, np.nan)
    if not blocks and "compacted" in g and g["compacted"].fillna(False).astype(bool).any():
        return lo, hi, (f"n<3 repeats ({len(s)}): no between-repeat interval; compacted data "
                        "(profkit compact) keeps no steps for a within-run one"), tuple(sample)
    return lo, hi, (f"n<3 repeats ({len(s)}): no between-repeat interval; t over block "
                    "means of steps"), tuple(sample)


def ratio_to_standard(table: pd.DataFrame) -> pd.DataFrame:
    """Adds `standard_s` and compare.RATIO_COLS: this row / Standard's at the same dataset,
    batch size, depth, width, flush and optimizer implementation, same phase (compare.ratio:
    ratio of means with interval, p-value, verdict); NA when Standard is absent."""
    out = compare.ratio_to_reference(table, table["method"] == REFERENCE, [*MATCH_KEYS, "phase"])
    return out.rename(columns={"ref_s_per_epoch": "standard_s"})


def depth_runtime(table: pd.DataFrame) -> pd.DataFrame:
    """Total seconds per epoch by method, batch size and depth (the paper's Figure 8)."""
    t = table[table["phase"] == TOTAL]
    cols = [*GROUP_KEYS, "s_per_epoch", "ci_lo", "ci_hi", "extrapolated"]
    return t[cols].sort_values(["dataset", "method", "batch_size", "hidden_layers"])


def accuracy_vs_time(epochs: pd.DataFrame, epoch_seconds: pd.DataFrame,
                     runs: pd.DataFrame) -> pd.DataFrame:
    """Per run and epoch: cumulative measured training seconds and accuracy (Figure 9).
    Measured (not extrapolated) time: a capped epoch counts what it really took."""
    t = epoch_seconds[epoch_seconds["phase"] == TOTAL][["run_id", "epoch", "wall_ns"]]
    out = epochs[["run_id", "epoch", "val_accuracy", "test_accuracy"]].merge(
        t, on=["run_id", "epoch"], how="inner").sort_values(["run_id", "epoch"])
    out["train_s"] = out.groupby("run_id")["wall_ns"].cumsum() / 1e9
    return out.drop(columns=["wall_ns"]).merge(run_keys(runs), on="run_id")


def batch_effects(table: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: batch size, seconds per epoch and final accuracy (Figures 10-11)."""
    t = table[table["phase"] == TOTAL][[*GROUP_KEYS, "s_per_epoch", "extrapolated"]]
    acc = final.groupby(GROUP_KEYS, dropna=False)[["val_accuracy", "test_accuracy"]].mean()
    return t.join(acc, on=GROUP_KEYS).sort_values(["dataset", "method", "batch_size"])
