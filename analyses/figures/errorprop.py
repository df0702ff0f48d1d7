"""Error-propagation figures (§7): Theorem 7.2's curve, measured error by layer beside the
theory, and ALSH's active-set recall over training. Each takes a frame of
profkit.analyses.errorprop.ErrorPropagation and returns a Figure (None without data)."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from profkit.analyses.errorprop import CHANCE_STAT
from profkit.analyses.figures.base import color, integer_ticks, new

# The oracles are not training methods: colours of their own, apart from the methods' palette.
ORACLE_COLORS = {"topk-terms": "#17becf", "topk-units": "#bcbd22"}


def _color(estimator: str) -> str:
    return ORACLE_COLORS.get(estimator) or color(estimator)


def theory(curve: pd.DataFrame, paper: pd.DataFrame | None = None):
    fig, ax = new(w=5.0, h=3.4)
    a = ax[0, 0]
    a.plot(curve["k"], curve["error_to_estimate"], "o-",
           label=f"((c+1)/c)^k - 1, c = {curve['c'].iloc[0]:g}")
    a.plot(curve["k"], curve["error_to_exact"], "s--", label="same error / exact value")
    if paper is not None:
        a.plot(paper["k"], paper["paper"], "kx", ms=8, label="paper §7 table (c = 5)")
    a.axhline(1.0, color="grey", lw=0.8)
    a.set(xlabel="layer k", ylabel="relative error", title="Theorem 7.2")
    integer_ticks(a)
    a.legend(fontsize=8)
    fig.tight_layout()
    return fig


def measured(comparison: pd.DataFrame):
    """Median error-to-estimate by layer (solid, one colour per estimator, a marker per
    depth) and the theory at the c estimated from the same network (dotted), one panel per
    method the network was trained with."""
    d = comparison.dropna(subset=["error_to_estimate"])
    d = d[d["error_to_estimate"] > 0]  # a log axis: an exact estimate has no height
    if d.empty:
        return None
    trained = sorted(d["trained_with"].unique())
    fig, ax = new(ncols=len(trained), w=4.4, h=3.6, sharey=True)
    for a, tw in zip(ax.flat, trained, strict=True):
        for (est, depth), g in d[d["trained_with"] == tw].groupby(["method", "depth"]):
            g = g.sort_values("k")
            a.plot(g["k"], g["error_to_estimate"], "o-", color=_color(est), ms=4,
                   label=f"{est}, depth {depth}")
            if g["theory_pooled"].notna().any():
                a.plot(g["k"], g["theory_pooled"], ":", color=_color(est))
        # matplotlib's own log ticks (10^k): the theory at a small c spans many decades,
        # where 1-2-5 labels thin out to none
        a.set(xlabel="layer k", yscale="log", title=f"trained with {tw}")
        integer_ticks(a)
    ax[0, 0].set_ylabel("median |e| / |estimate|")
    fig.suptitle("Measured error (solid) and Theorem 7.2 at the estimated c (dotted)",
                 fontsize=10)
    fig.tight_layout()
    # one legend for every panel (each estimator and depth once), outside the data
    labelled = {lab: h for a in ax.flat for h, lab in zip(*a.get_legend_handles_labels(),
                                                           strict=True)}
    fig.legend(labelled.values(), labelled.keys(), fontsize=7, loc="upper left",
               bbox_to_anchor=(1.0, 0.92), frameon=False)
    return fig


def recall(rec: pd.DataFrame):
    """Recall per epoch (1-based), one panel per depth, one line per hidden layer (mean over
    runs); the random-set level dashed. Legend outside the data."""
    if rec.empty:
        return None
    depths = sorted(rec["hidden_layers"].dropna().unique()) if "hidden_layers" in rec \
        else [None]
    fig, axes = new(ncols=len(depths), w=3.6, h=3.2, sharey=True)
    chance = rec[CHANCE_STAT].dropna()
    d = rec.assign(epoch1=rec["epoch"] + 1, layer1=(rec["layer"] + 1).astype(str))
    row = axes[0]
    for a, h in zip(row, depths, strict=True):
        g = d if h is None else d[d["hidden_layers"] == h]
        sns.lineplot(data=g, x="epoch1", y="recall", hue="layer1", marker="o", errorbar=None,
                     ax=a, legend=a is row[-1], palette="viridis")
        if len(chance):
            a.axhline(float(chance.median()), color="grey", ls="--", lw=0.8,
                      label="random set")
        integer_ticks(a)
        a.set(xlabel="epoch", ylabel="recall of exact top units", ylim=(0, 1.02),
              title=f"{int(h)} hidden layer(s)" if h is not None else "")
    row[-1].legend(title="hidden layer", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                   frameon=False, fontsize=8)
    fig.suptitle("ALSH active-set recall (mean over runs)", fontsize=10)
    fig.tight_layout()
    return fig
