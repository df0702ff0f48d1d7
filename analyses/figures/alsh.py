"""ALSH figures: recall against the hash configuration, and bucket occupancy per table."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from profkit.analyses.figures.base import new


def study_recall(study: pd.DataFrame):
    """Recall of the exact top units against K, one line per (L, selection), a panel per
    family; the dashed line is a random set's k/n."""
    if study.empty:
        return None
    d = study.groupby(["family", "selection", "K", "L", "rerank"], as_index=False)["recall"].mean()
    d["tables"] = [f"L={L} {s}" + (f" rerank {r}" if r else "")
                   for L, s, r in zip(d["L"], d["selection"], d["rerank"], strict=True)]
    fams = sorted(d["family"].unique())
    fig, ax = new(ncols=len(fams), w=3.6, h=3.0, sharey=True)
    for a, fam in zip(ax.flat, fams, strict=True):
        sns.lineplot(d[d["family"] == fam], x="K", y="recall", hue="tables", marker="o", ax=a)
        a.axhline(float(study["recall_random"].median()), color="grey", ls="--", lw=0.8)
        a.set(title=fam, ylim=(0, 1.02), ylabel="recall (mean over layers)")
        a.legend(fontsize=6)
    return fig


def occupancy(occ: pd.DataFrame):
    """Share of each layer's units in each table's largest bucket (mean over the epoch's
    builds), one point per table, per run configuration and layer."""
    if occ.empty:
        return None
    fig, ax = new(w=6.5, h=0.5 + 0.45 * occ["config"].nunique() * occ["layer"].nunique())
    d = occ.assign(row=occ["config"] + " | layer " + occ["layer"].astype(str))
    sns.stripplot(d, x="largest_share", y="row", hue="layer", ax=ax[0, 0], size=3,
                  legend=False)
    ax[0, 0].set(xlabel="share of units in the table's largest bucket", ylabel="", xlim=(0, 1))
    return fig
