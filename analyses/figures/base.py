"""Figure plumbing: the Agg backend, method colours, and a Figure -> inline PNG data URI."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from profkit.analyses.labels import method_title, run_label  # noqa: E402

COLORS = {"standard": "#444444", "dropout": "#1f77b4", "adaptive-dropout": "#2ca02c",
          "alsh-approx": "#d62728", "mc-approx": "#9467bd"}
DASH = {1: (0, (4, 2)), 20: "solid"}
DPI = 90


def color(method: str) -> str:
    return COLORS.get(method, "#8c564b")


def linestyle(batch_size: int):
    return DASH.get(int(batch_size), (0, (1, 1)))


def new(ncols: int = 1, nrows: int = 1, w: float = 6.0, h: float = 3.6, **kw):
    plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3})
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), squeeze=False, **kw)
    return fig, axes


def to_data_uri(fig) -> str:
    """PNG bytes of `fig` as a data: URI (inline: the report loads nothing from anywhere)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def legend_label(method: str, batch_size: int) -> str:
    return run_label(method, batch_size)


__all__ = ["color", "legend_label", "linestyle", "method_title", "new", "plt", "to_data_uri"]
