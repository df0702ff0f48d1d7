"""Memory figures (§9.4): RSS over training per run, and growth per configuration."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.figures.base import color, legend_label, linestyle, new


def rss_over_time(series: pd.DataFrame):
    if series.empty:
        return None
    fig, ax = new()
    for _rid, g in series.groupby("run_id"):
        m, b, h = g["method"].iloc[0], g["batch_size"].iloc[0], g["hidden_layers"].iloc[0]
        ax[0, 0].plot(g["t_s"], g["rss_mb"], color=color(m), linestyle=linestyle(b),
                      label=f"{legend_label(m, b)} h{h}")
    ax[0, 0].set(xlabel="seconds since run start", ylabel="RSS (MB)")
    ax[0, 0].legend(fontsize=6, ncol=2)
    return fig


def growth_bars(growth: pd.DataFrame):
    g = growth[growth["growth_mb"].notna()]
    if g.empty:
        return None
    labels = [f"{legend_label(m, b)} h{h}" for m, b, h in
              zip(g["method"], g["batch_size"], g["hidden_layers"], strict=True)]
    fig, ax = new(h=0.8 + 0.3 * len(g))
    ax[0, 0].barh(labels, g["growth_mb"], color=[color(m) for m in g["method"]])
    ax[0, 0].set_xlabel("RSS growth over training (MB)")
    return fig
