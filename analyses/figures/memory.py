"""Memory figures (§9.4): RSS over training per run, and growth per configuration."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from profkit.analyses.figures.base import DEPTH, FACET, METHOD, encode, hue_kw, new, relplot


def rss_over_time(series: pd.DataFrame):
    """RSS against time since the run started; one panel per depth, one line per run."""
    if series.empty:
        return None
    g = relplot(encode(series), "t_s", "rss_mb", col=DEPTH, row=FACET, units="run_id",
                estimator=None, height=3.0, aspect=1.1, markers=False)
    for ax in g.axes.flat:
        ax.set(xlabel="seconds since run start", ylabel="RSS (MB)")
    return g.figure


def growth_bars(growth: pd.DataFrame):
    """RSS growth per configuration, coloured by method."""
    g = growth[growth["growth_mb"].notna()]
    if g.empty:
        return None
    d = encode(g).assign(config=[f"{s}, {h} hidden" for s, h in
                                 zip(encode(g)["Setting"], g["hidden_layers"], strict=True)])
    d = d.sort_values(["method", "batch_size", "hidden_layers"])
    kw = hue_kw(d)
    fig, ax = new(h=0.9 + 0.28 * len(d), w=7)
    sns.barplot(data=d, y=d[METHOD] + ": " + d["config"], x="growth_mb", hue=METHOD,
                hue_order=kw["hue_order"], palette=kw["palette"], ax=ax[0, 0], dodge=False,
                errorbar=None)
    ax[0, 0].set(xlabel="RSS growth over training (MB)", ylabel="")
    sns.move_legend(ax[0, 0], "upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
