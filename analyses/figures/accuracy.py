"""Accuracy figures: accuracy over epochs (Figures 4-6, 10, 12), by depth (Figure 7),
confusion matrices (Figure 3) and label prediction shares (Figure 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from profkit.analyses.figures.base import (
    DEPTH,
    FACET,
    color,
    encode,
    integer_ticks,
    legend_label,
    method_title,
    new,
    relplot,
)
from profkit.analyses.labels import setting
from profkit.analyses.results import PUBLISHED


def curves(curves: pd.DataFrame):
    """Validation accuracy per epoch (1-based); one panel per depth, hue method, style S/M."""
    c = curves[curves["val_accuracy"].notna()]
    if c.empty:
        return None
    d = encode(c).assign(val_pct=100 * c["val_accuracy"].to_numpy(),
                         epoch1=c["epoch"].to_numpy() + 1)
    g = relplot(d, "epoch1", "val_pct", col=DEPTH, row=FACET, height=3.0, aspect=1.1,
                errorbar=None)
    for ax in g.axes.flat:
        ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
        integer_ticks(ax)
    return g.figure


def depth_accuracy(depth: pd.DataFrame, published: pd.DataFrame | None = None):
    """Figure 7: final test accuracy by depth; the paper's MNIST values dotted if given."""
    if depth.empty or depth["test_pct"].isna().all():
        return None
    if "variant" in depth:  # a published variant is a table row, not a point on these lines
        default = ~depth["variant"].astype(str).str.startswith(PUBLISHED)
        depth = depth[default] if default.any() else depth
    d = encode(depth)
    g = relplot(d, DEPTH, "test_pct", col=FACET, errorbar=None)
    panels = g.axes_dict if d[FACET].nunique() > 1 else {None: g.axes.flat[0]}
    for name, ax in panels.items():
        # the paper's depth values are MNIST's: drawn only where MNIST runs are
        sub = d if name is None else d[d[FACET] == name]
        sub = sub[sub["dataset"] == "mnist"] if "dataset" in sub else sub
        for (m, b), _ in sub.groupby(["method", "batch_size"]):
            _paper_line(ax, published, m, b)
        ax.set(ylabel="test accuracy (%)")
        integer_ticks(ax)
    return g.figure


def _paper_line(a, published: pd.DataFrame | None, method: str, batch_size: int) -> None:
    if published is None:
        return
    p = published[(published["table"] == "accuracy by depth")
                  & (published["method"] == method_title(method))
                  & (published["setting"] == setting(batch_size))]
    if len(p):
        p = p.sort_values("hidden_layers")
        a.plot(p["hidden_layers"], p["value"], color=color(method), alpha=0.5, lw=1.2,
               linestyle=":", label="_nolegend_")


def confusion_grid(conf: pd.DataFrame, max_cols: int = 5):
    """Figure 3: row-normalised confusion matrices, one panel per method x batch x depth
    (rows method x batch and columns depth when several depths were run)."""
    if conf.empty:
        return None
    panels = sorted({(m, b, h) for m, b, h in
                     zip(conf["method"], conf["batch_size"], conf["hidden_layers"], strict=True)})
    depths = sorted({p[2] for p in panels})
    ncols = len(depths) if len(depths) > 1 else min(max_cols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, ax = new(ncols=ncols, nrows=nrows, w=2.4, h=2.6)
    for a, (m, b, h) in zip(ax.flat, panels, strict=False):
        _matrix(a, conf[(conf["method"] == m) & (conf["batch_size"] == b)
                        & (conf["hidden_layers"] == h)])
        a.set_title(f"{legend_label(m, b)}\n{h} hidden layer(s)", fontsize=8)
    for a in ax.flat[len(panels):]:
        a.set_visible(False)
    fig.tight_layout(h_pad=1.5)
    return fig


def _matrix(a, c: pd.DataFrame) -> None:
    a.grid(False)
    if c.empty:
        a.text(0.5, 0.5, "no run", ha="center", va="center", transform=a.transAxes)
        a.set_xticks([]), a.set_yticks([])
        return
    c = c[c["run_id"] == c["run_id"].iloc[0]]  # first repeat
    k = int(max(c["true_label"].max(), c["pred_label"].max())) + 1
    mat = np.zeros((k, k))
    mat[c["true_label"].to_numpy(), c["pred_label"].to_numpy()] = c["share"].fillna(0)
    a.imshow(mat, cmap="Blues", vmin=0, vmax=1)
    a.set_xlabel("predicted", fontsize=7)
    a.set_ylabel("true", fontsize=7)
    a.tick_params(labelsize=6)


def label_shares(shares: pd.DataFrame):
    """Figure 13: share of test predictions per label; rows method/batch/depth."""
    if shares.empty:
        return None
    s = shares.assign(row=[f"{legend_label(m, b)}, {h} hidden" for m, b, h in
                           zip(shares["method"], shares["batch_size"], shares["hidden_layers"],
                               strict=True)])
    wide = s.pivot_table(index="row", columns="pred_label", values="share", aggfunc="mean")
    fig, ax = new(w=7, h=0.6 + 0.3 * len(wide))
    a = ax[0, 0]
    a.grid(False)
    im = a.imshow(wide.to_numpy(), cmap="magma_r", vmin=0, vmax=max(0.3, np.nanmax(wide)),
                  aspect="auto")
    a.set_xticks(range(wide.shape[1]), wide.columns)
    a.set_yticks(range(len(wide)), wide.index, fontsize=8)
    a.set_xlabel("predicted label (uniform = 1/classes each)")
    fig.colorbar(im, ax=a, label="share of test predictions")
    return fig
