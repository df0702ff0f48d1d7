"""Runtime figures: phases per method (Tables 3-4), runtime vs depth (Figure 8), accuracy vs time
(Figure 9), batch-size effects (Figures 10-11)."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.figures.base import color, legend_label, linestyle, new
from profkit.analyses.runtime import TOTAL, phase_order

PHASE_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
                "#8c8c8c", "#ccb974", "#64b5cd"]


def phase_bars(table: pd.DataFrame):
    """Stacked bars: seconds per epoch by phase, one bar per configuration."""
    t = table[table["phase"] != TOTAL]
    if t.empty:
        return None
    t = t.assign(label=[f"{legend_label(m, b)} h{h}" for m, b, h in
                        zip(t["method"], t["batch_size"], t["hidden_layers"], strict=True)])
    wide = t.pivot_table(index="label", columns="phase", values="s_per_epoch", aggfunc="median")
    wide = wide[phase_order(wide.columns)].sort_index(ascending=False)
    fig, ax = new(h=0.8 + 0.32 * len(wide), w=8)
    wide.plot.barh(stacked=True, ax=ax[0, 0], color=PHASE_COLORS[:wide.shape[1]], width=0.75)
    ax[0, 0].set_xlabel("seconds per epoch (full epoch; capped runs extrapolated)")
    ax[0, 0].set_ylabel("")
    ax[0, 0].legend(title="phase", fontsize=8, loc="lower right")
    return fig


def depth_lines(depth: pd.DataFrame):
    """Figure 8: total seconds per epoch against the number of hidden layers."""
    if depth.empty:
        return None
    fig, ax = new()
    for (m, b), g in depth.groupby(["method", "batch_size"]):
        g = g.sort_values("hidden_layers")
        ax[0, 0].plot(g["hidden_layers"], g["s_per_epoch"], marker="o", color=color(m),
                      linestyle=linestyle(b), label=legend_label(m, b))
    ax[0, 0].set(xlabel="hidden layers", ylabel="seconds per epoch", yscale="log")
    ax[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def accuracy_vs_time(avt: pd.DataFrame):
    """Figure 9: validation accuracy against cumulative measured training time."""
    if avt.empty or avt["val_accuracy"].isna().all():
        return None
    fig, ax = new()
    for _rid, g in avt.groupby("run_id"):
        m, b, h = g["method"].iloc[0], g["batch_size"].iloc[0], g["hidden_layers"].iloc[0]
        ax[0, 0].plot(g["train_s"], 100 * g["val_accuracy"], marker="o", color=color(m),
                      linestyle=linestyle(b), label=f"{legend_label(m, b)} h{h}")
    ax[0, 0].set(xlabel="cumulative training seconds (measured)",
                 ylabel="validation accuracy (%)", xscale="log")
    ax[0, 0].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def batch_effects(batch: pd.DataFrame):
    """Figures 10-11: final validation accuracy and seconds per epoch against batch size."""
    if batch.empty or batch["batch_size"].nunique() < 2:
        return None
    fig, ax = new(ncols=2, w=4.6)
    for (m, h), g in batch.groupby(["method", "hidden_layers"]):
        g = g.sort_values("batch_size")
        kw = dict(marker="o", color=color(m), label=f"{legend_label(m, 20).split()[0]} h{h}")
        ax[0, 0].plot(g["batch_size"], 100 * g["val_accuracy"], **kw)
        ax[0, 1].plot(g["batch_size"], g["s_per_epoch"], **kw)
    ax[0, 0].set(xlabel="batch size", ylabel="final validation accuracy (%)", xscale="log")
    ax[0, 1].set(xlabel="batch size", ylabel="seconds per epoch", xscale="log", yscale="log")
    ax[0, 1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
