"""Accuracy figures: accuracy over epochs (Figures 4-6, 10, 12), by depth (Figure 7),
confusion matrices (Figure 3) and label prediction shares (Figure 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from profkit.analyses.figures.base import color, legend_label, linestyle, method_title, new
from profkit.analyses.labels import setting


def curves(curves: pd.DataFrame):
    """Validation accuracy per epoch; one panel per method, one line per depth and batch."""
    c = curves[curves["val_accuracy"].notna()]
    if c.empty:
        return None
    methods = sorted(c["method"].unique())
    fig, ax = new(ncols=min(3, len(methods)), nrows=-(-len(methods) // 3), w=4.0, h=3.0,
                  sharey=True)
    for a, m in zip(ax.flat, methods, strict=False):
        for (b, h), g in c[c["method"] == m].groupby(["batch_size", "hidden_layers"]):
            g = g.groupby("epoch")["val_accuracy"].mean()
            a.plot(g.index + 1, 100 * g.values, marker="o", linestyle=linestyle(b),
                   label=f"b{b} h{h}")
        a.set(title=method_title(m), xlabel="epoch")
        a.legend(fontsize=6)
    ax[0, 0].set_ylabel("validation accuracy (%)")
    for a in ax.flat[len(methods):]:
        a.set_visible(False)
    return fig


def depth_accuracy(depth: pd.DataFrame, published: pd.DataFrame | None = None):
    """Figure 7: final test accuracy by depth; the paper's MNIST values dashed grey if given."""
    if depth.empty or depth["test_pct"].isna().all():
        return None
    fig, ax = new()
    for (m, b), g in depth.groupby(["method", "batch_size"]):
        g = g.sort_values("hidden_layers")
        ax[0, 0].plot(g["hidden_layers"], g["test_pct"], marker="o", color=color(m),
                      linestyle=linestyle(b), label=legend_label(m, b))
        _paper_line(ax[0, 0], published, m, b)
    ax[0, 0].set(xlabel="hidden layers", ylabel="test accuracy (%)")
    ax[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _paper_line(a, published: pd.DataFrame | None, method: str, batch_size: int) -> None:
    if published is None:
        return
    p = published[(published["table"] == "accuracy by depth")
                  & (published["method"] == method_title(method))
                  & (published["setting"] == setting(batch_size))]
    if len(p):
        p = p.sort_values("hidden_layers")
        a.plot(p["hidden_layers"], p["value"], color=color(method), alpha=0.35, lw=1,
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
    fig, ax = new(ncols=ncols, nrows=nrows, w=2.3, h=2.3)
    for a, (m, b, h) in zip(ax.flat, panels, strict=False):
        _matrix(a, conf[(conf["method"] == m) & (conf["batch_size"] == b)
                        & (conf["hidden_layers"] == h)])
        a.set_title(f"{legend_label(m, b)} h{h}", fontsize=7)
    for a in ax.flat[len(panels):]:
        a.set_visible(False)
    fig.tight_layout()
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
    s = shares.assign(row=[f"{legend_label(m, b)} h{h}" for m, b, h in
                           zip(shares["method"], shares["batch_size"], shares["hidden_layers"],
                               strict=True)])
    wide = s.pivot_table(index="row", columns="pred_label", values="share", aggfunc="mean")
    fig, ax = new(w=7, h=0.6 + 0.3 * len(wide))
    a = ax[0, 0]
    a.grid(False)
    im = a.imshow(wide.to_numpy(), cmap="magma_r", vmin=0, vmax=max(0.3, np.nanmax(wide)),
                  aspect="auto")
    a.set_xticks(range(wide.shape[1]), wide.columns)
    a.set_yticks(range(len(wide)), wide.index, fontsize=7)
    a.set_xlabel("predicted label (uniform = 1/classes each)")
    fig.colorbar(im, ax=a, label="share of test predictions")
    return fig
