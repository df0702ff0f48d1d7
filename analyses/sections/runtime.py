"""The runtime section: Tables 3-4 with every phase, ratios to Standard, Figures 8-11."""

from __future__ import annotations

import pandas as pd
from profkit.analyses import compare, runtime, stats
from profkit.analyses.computed import Computed
from profkit.analyses.figures import runtime as rfig
from profkit.analyses.labels import run_label
from profkit.analyses.results import GROUP_KEYS
from profkit.analyses.sections import Section
from profkit.analyses.sections import claims as s_claims
from profkit.analyses.tables import drop_constant, fixed, html_table, num

CONFIG_COLS = {"config": "method (setting)", "dataset": "dataset", "hidden_layers": "hidden layers",
               "width": "width", "flush_denormal": "flush denormal",
               "optimizer_impl": "optimizer impl", "implementation": "implementation",
               "variant": "variant"}
OPTIONAL = ["dataset", "hidden_layers", "width", "flush_denormal", "optimizer_impl",
            "implementation", "variant"]


def with_config(df: pd.DataFrame) -> pd.DataFrame:
    labels = [run_label(m, b) for m, b in zip(df["method"], df["batch_size"], strict=True)]
    return df.assign(config=labels)


def _wide(table: pd.DataFrame, value: str) -> pd.DataFrame:
    w = table.set_index([*GROUP_KEYS, "phase"])[value].unstack("phase")
    w = w[runtime.phase_order(w.columns)].reset_index()
    return with_config(w).sort_values(["dataset", "hidden_layers", "batch_size", "method"])


def _paper_cols(c: Computed) -> pd.DataFrame:
    """Paper's Table 3/4 totals keyed like the measured configurations."""
    cmp = c.comparison[c.comparison["metric"].isin(["epoch_total", "feedforward",
                                                     "backpropagation"])]
    if cmp.empty:
        return pd.DataFrame(columns=["dataset", "method", "batch_size", "hidden_layers",
                                     "width", "variant"])
    cmp = cmp.rename(columns={"profkit_dataset": "ds", "profkit_method": "m"})
    w = cmp.pivot_table(index=["ds", "m", "batch_size", "hidden_layers", "width", "variant"],
                        columns="metric", values="paper", aggfunc="first").reset_index()
    w = w.rename(columns={"ds": "dataset", "m": "method", "epoch_total": "paper_total",
                          "feedforward": "paper_ff", "backpropagation": "paper_bp"})
    w["hidden_layers"] = w["hidden_layers"].astype(int)
    return w


def phase_seconds_table(c: Computed) -> str:
    t = c.phase_table
    wide = _wide(t, "s_per_epoch")
    tot = t[t["phase"] == "total"].set_index(GROUP_KEYS)[["ci_lo", "ci_hi", "ci_method", "ratio",
                                                          "extrapolated"]]
    wide = wide.join(tot, on=GROUP_KEYS)
    keys = ["dataset", "method", "batch_size", "hidden_layers", "width", "variant"]
    wide = wide.merge(_paper_cols(c), on=keys, how="left")
    for col in ("paper_ff", "paper_bp", "paper_total"):  # absent when nothing is published
        if col not in wide:
            wide[col] = float("nan")
    phases = [p for p in runtime.phase_order(t["phase"].unique()) if p != "total"]
    # the total with its CI under it, and the paper's three numbers in one cell: the key
    # columns fit 1200 px
    wide["total_ci"] = [f"{_g(t)}\n[{_g(lo)}, {_g(hi)}]" if pd.notna(lo) else _g(t)
                        for t, lo, hi in zip(wide["total"], wide["ci_lo"], wide["ci_hi"],
                                             strict=True)]
    wide["paper"] = [" / ".join(_g(v) if pd.notna(v) else "—" for v in r)
                     if any(pd.notna(v) for v in r) else "—"
                     for r in zip(wide["paper_ff"], wide["paper_bp"], wide["paper_total"],
                                  strict=True)]
    cols = {**CONFIG_COLS, **{p: f"{p} s" for p in phases},
            "total_ci": "total s [95% CI]", "ci_method": "CI method", "ratio": "total / Standard",
            "extrapolated": "extra\u00adpolated",
            "paper": "paper: feedforward / backprop / total s"}
    cols, note = drop_constant(cols, wide, [*OPTIONAL, "ci_method"])
    fmts = {p: num(3) for p in phases} | {"ratio": fixed(2)}
    return html_table(wide, cols, fmts, css="data cells", note=note)


def ratio_table(c: Computed) -> str:
    """Per configuration and phase: time / Standard's [95% CI], 'not significant' when the
    interval holds 1 (compare.ratio)."""
    t = c.phase_table.assign(cell=[_ratio_cell(r) for r in c.phase_table.itertuples()])
    wide = _wide(t, "cell")
    phases = runtime.phase_order(c.phase_table["phase"].unique())
    cols, note = drop_constant({**CONFIG_COLS, **{p: p for p in phases}}, wide, OPTIONAL)
    return html_table(wide, cols, note=note)


def _ratio_cell(r) -> object:
    if pd.isna(r.ratio):
        return None
    ci = "" if pd.isna(r.ratio_lo) else f" [{r.ratio_lo:.2f}, {r.ratio_hi:.2f}]"
    ns = f" {compare.NOT_SIGNIFICANT}" if r.verdict == compare.NOT_SIGNIFICANT else ""
    return f"{r.ratio:.2f}{ci}{ns}" if r.method != "standard" else "1"


def step_table(c: Computed) -> str:
    """Per run: each phase's median ms per step with its bootstrap 95% CI, one cell per phase."""
    s = c.step_stats.merge(c.runs[["run_id", *GROUP_KEYS, "repeat"]], on="run_id")
    packed = s["compacted"].fillna(False).astype(bool) if "compacted" in s else [False] * len(s)
    s = s.assign(cell=["not kept (compacted)" if p else f"{m:.3g}\n[{lo:.3g}, {hi:.3g}]"
                       for m, lo, hi, p in zip(s["median_ms"], s["median_lo_ms"],
                                               s["median_hi_ms"], packed, strict=True)])
    w = s.set_index(["run_id", *GROUP_KEYS, "repeat", "n_steps", "phase"])["cell"]
    w = w.unstack("phase")
    phases = runtime.phase_order(w.columns)
    w = with_config(w[phases].reset_index()).sort_values(
        ["dataset", "hidden_layers", "batch_size", "method", "repeat"])
    cols = {**CONFIG_COLS, "repeat": "repeat", "n_steps": "steps", **{p: p for p in phases}}
    cols, note = drop_constant(cols, w, [*OPTIONAL, "repeat", "n_steps"])
    return html_table(w, cols, css="data cells", note=note)


def build(c: Computed) -> Section:
    sec = Section("runtime", "Runtime: where the time of a training step goes (Tables 3-4, "
                  "Figures 8-11)",
                  "Seconds per epoch by phase. Every phase is timed, so the columns add up to "
                  "the total (the paper's tables show feedforward and backpropagation only and "
                  "leave most of the total unexplained). Capped runs are extrapolated to a full "
                  "epoch from their steady-state step time. 95% CI: between repeats with >= 3 "
                  "repeats, else from blocks of consecutive steps (see How intervals are "
                  "computed, below).")
    if c.phase_table.empty:
        sec.missing.append("no phase timings (phases table is empty)")
        return sec
    s_claims.runtime_ratios(c, sec)
    packed = c.step_stats.loc[c.step_stats["compacted"].fillna(False).astype(bool), "run_id"] \
        if "compacted" in c.step_stats else []
    if len(packed):
        sec.text(f"{pd.Series(packed).nunique()} long runs here are compacted (`profkit "
                 "compact`: blocks of steps instead of every step): their seconds per epoch and "
                 "mean step times are exact, their per-step medians and within-run intervals "
                 "are not available, so an interval of theirs comes only from >= 3 repeats.")
    sec.table(phase_seconds_table(c), "Seconds per epoch by phase, with the paper's values")
    sec.table(ratio_table(c), "Ratio to Standard at the same dataset, batch size, depth, width "
              "[95% CI]",
              "Ratio of mean times; Welch t on the log ratio (see How intervals are "
              "computed); 'not significant' when the data cannot tell it from 1. — where "
              "Standard was not run at that setting.")
    sec.table(step_table(c), "Per-step phase times, ms (warm-up excluded): median [moving-"
              "block bootstrap 95% CI]")
    sec.text(stats.INTERVALS_NOTE)
    _figures(sec, c)
    return sec


def _figures(sec: Section, c: Computed) -> None:
    sec.figure(rfig.phase_bars(c.phase_table), "Seconds per epoch by phase")
    depth = runtime.depth_runtime(c.phase_table)
    sec.figure(rfig.depth_lines(depth) if depth["hidden_layers"].nunique() > 1 else None,
               "Figure 8: runtime vs depth",
               missing="Figure 8 (runtime vs depth) needs runs at >= 2 depths")
    avt = runtime.accuracy_vs_time(c.frames["epochs"], c.epoch_seconds, c.runs)
    sec.figure(rfig.accuracy_vs_time(avt), "Figure 9: accuracy vs training time",
               "Cumulative measured training time (not extrapolated).")
    be = runtime.batch_effects(c.phase_table, c.final)
    sec.figure(rfig.batch_effects(be), "Figures 10-11: batch-size effects",
               missing="Figures 10-11 (batch-size effects) need runs at >= 2 batch sizes")


def _g(v) -> str:
    return f"{v:.3g}"
