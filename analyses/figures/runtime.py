"""Runtime figures: phases per method (Tables 3-4), runtime vs depth (Figure 8), accuracy vs time
(Figure 9), batch-size effects (Figures 10-11)."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from profkit.analyses.figures.base import (
    DEPTH,
    FACET,
    encode,
    hue_kw,
    integer_ticks,
    legend_label,
    new,
    relplot,
    tidy_log,
)
from profkit.analyses.runtime import TOTAL, phase_order

PHASE_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
                "#8c8c8c", "#ccb974", "#64b5cd"]


def phase_bars(table: pd.DataFrame):
    """Stacked bars: seconds per epoch by phase, one bar per configuration."""
    t = table[table["phase"] != TOTAL]
    if t.empty:
        return None
    t = t.assign(label=[f"{legend_label(m, b)}, {h} hidden" for m, b, h in
                        zip(t["method"], t["batch_size"], t["hidden_layers"], strict=True)])
    wide = t.pivot_table(index="label", columns="phase", values="s_per_epoch", aggfunc="median")
    wide = wide[phase_order(wide.columns)].sort_index(ascending=False)
    fig, ax = new(h=0.8 + 0.3 * len(wide), w=8)
    wide.plot.barh(stacked=True, ax=ax[0, 0], color=PHASE_COLORS[:wide.shape[1]], width=0.75)
    ax[0, 0].set_xlabel("seconds per epoch (full epoch; capped runs extrapolated)")
    ax[0, 0].set_ylabel("")
    ax[0, 0].legend(title="phase", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def depth_lines(depth: pd.DataFrame):
    """Figure 8: total seconds per epoch against the number of hidden layers."""
    if depth.empty:
        return None
    g = relplot(encode(depth), DEPTH, "s_per_epoch", col=FACET)
    for ax in g.axes.flat:
        ax.set(yscale="log", ylabel="seconds per epoch")
        integer_ticks(ax)
        tidy_log(ax, "y")
    return g.figure


def accuracy_vs_time(avt: pd.DataFrame):
    """Figure 9: validation accuracy against cumulative measured training time; one panel per
    depth, one line per run."""
    if avt.empty or avt["val_accuracy"].isna().all():
        return None
    d = encode(avt).assign(val_pct=100 * avt["val_accuracy"].to_numpy())
    g = relplot(d, "train_s", "val_pct", col=DEPTH, row=FACET, units="run_id", estimator=None,
                height=3.0, aspect=1.1)
    for ax in g.axes.flat:
        ax.set(xscale="log", xlabel="cumulative training seconds (measured)",
               ylabel="validation accuracy (%)")
        tidy_log(ax)
    return g.figure


def batch_effects(batch: pd.DataFrame):
    """Figures 10-11: final validation accuracy and seconds per epoch against batch size."""
    if batch.empty or batch["batch_size"].nunique() < 2:
        return None
    d = encode(batch).assign(val_pct=100 * batch["val_accuracy"].to_numpy())
    kw = hue_kw(d)
    kw.update(style=DEPTH, style_order=None, dashes=True)
    fig, ax = new(ncols=2, w=4.4)
    sns.lineplot(data=d, x="batch_size", y="val_pct", ax=ax[0, 0], markers=True, legend=False,
                 errorbar=None, **kw)
    sns.lineplot(data=d, x="batch_size", y="s_per_epoch", ax=ax[0, 1], markers=True,
                 errorbar=None, **kw)
    ax[0, 0].set(xlabel="batch size", ylabel="final validation accuracy (%)", xscale="log")
    ax[0, 1].set(xlabel="batch size", ylabel="seconds per epoch", xscale="log", yscale="log")
    for a in ax.flat:
        tidy_log(a)
        a.set_xticks(sorted(d["batch_size"].unique()), map(str, sorted(d["batch_size"].unique())))
    sns.move_legend(ax[0, 1], "upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig
