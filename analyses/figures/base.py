"""Figure plumbing: the Agg backend, one palette for the five methods, seaborn facets, and a
Figure -> inline PNG data URI."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402
from PIL import Image  # noqa: E402
from profkit.analyses.labels import (  # noqa: E402
    METHOD_TITLES,
    method_title,
    run_label,
    setting_label,
)

COLORS = {"standard": "#444444", "dropout": "#1f77b4", "adaptive-dropout": "#2ca02c",
          "alsh-approx": "#d62728", "mc-approx": "#9467bd"}
OTHER_COLOR = "#8c564b"
DASH = {1: (0, (4, 2)), 20: "solid"}
DPI = 90
# Column names the figures' frames get (they are also the legend and facet titles).
METHOD, SETTING, DEPTH, FACET = "Method", "Setting", "Hidden layers", "facet"


def color(method: str) -> str:
    return COLORS.get(method, OTHER_COLOR)


def linestyle(batch_size: int):
    return DASH.get(int(batch_size), (0, (1, 1)))


def theme() -> None:
    sns.set_theme(style="whitegrid", font_scale=0.9, rc={"grid.alpha": 0.4})


def new(ncols: int = 1, nrows: int = 1, w: float = 6.0, h: float = 3.6, **kw):
    theme()
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), squeeze=False, **kw)
    return fig, axes


def encode(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with the columns the figures encode: method title (hue), S/M setting (style),
    depth, and the facet (implementation when it varies, else dataset when that varies)."""
    out = df.assign(**{METHOD: [method_title(m) for m in df["method"]],
                       SETTING: [setting_label(b) for b in df["batch_size"]]})
    if "hidden_layers" in out:
        out[DEPTH] = out["hidden_layers"].astype(int)
    col = facet_column(out)
    out[FACET] = out[col].astype(str) if col else ""
    return out


def facet_column(df: pd.DataFrame) -> str | None:
    for col in ("implementation", "dataset"):
        if col in df and df[col].nunique() > 1:
            return col
    return None


def hue_kw(df: pd.DataFrame) -> dict:
    """hue = method with the fixed palette, style = setting; levels in the paper's order."""
    methods = [method_title(m) for m in METHOD_TITLES if method_title(m) in set(df[METHOD])]
    methods += sorted(set(df[METHOD]) - set(methods))
    palette = {method_title(m): c for m, c in COLORS.items()} | {
        m: OTHER_COLOR for m in methods if m not in {method_title(k) for k in COLORS}}
    settings = sorted(set(df[SETTING]), key=lambda s: (len(s), s))
    dashes = {s: _dash_for(s) for s in settings}
    return dict(hue=METHOD, hue_order=methods, palette=palette, style=SETTING,
                style_order=settings, dashes=dashes)


def _dash_for(label: str):
    return "" if label.startswith("M") else ((4, 2) if label.startswith("S") else (1, 1))


def relplot(df: pd.DataFrame, x: str, y: str, col: str | None = None, row: str | None = None,
            height: float = 3.2, aspect: float = 1.3, markers: bool = True, **kw):
    """seaborn relplot (lines with markers) with method hue and setting style; facets by `col`
    and `row` when they have more than one level. Returns the Figure."""
    theme()
    col = col if col and df[col].nunique() > 1 else None
    row = row if row and df[row].nunique() > 1 else None
    g = sns.relplot(data=df, x=x, y=y, col=col, row=row, kind="line", markers=markers,
                    height=height, aspect=aspect, facet_kws={"sharex": False,
                                                             "margin_titles": bool(row)},
                    **hue_kw(df), **kw)
    g.set_titles(col_template="{col_name}", row_template="{row_name}")
    if col:
        g.set_titles(col_template=f"{col} = {{col_name}}" if col == DEPTH else "{col_name}")
    sns.move_legend(g, "upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)
    g.figure.tight_layout()
    return g


def integer_ticks(ax, axis: str = "x") -> None:
    """Depth and epoch are counts: tick them at integers only."""
    getattr(ax, f"{axis}axis").set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def tidy_log(ax, axis: str = "x") -> None:
    """Log axis labelled at 1, 2, 5 x 10^k in plain numbers; no minor labels (they overlap)."""
    a = getattr(ax, f"{axis}axis")
    a.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    a.set_minor_formatter(NullFormatter())


def to_data_uri(fig) -> str:
    """PNG bytes of `fig` as a data: URI (inline: the report loads nothing from anywhere)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(_palette(buf.getvalue())).decode("ascii")


def _palette(png: bytes) -> bytes:
    """The PNG with a 256-colour palette instead of 32-bit RGBA: a chart has a few colours
    and their anti-aliasing, so it looks the same at a third of the bytes (a report inlines
    every figure; the reproduction's went from 2.2 to 0.8 MB)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")  # opaque: figures have a white face
    out = io.BytesIO()
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                 dither=Image.Dither.NONE).save(out, format="PNG", optimize=True)
    return out.getvalue()


def legend_label(method: str, batch_size: int) -> str:
    return run_label(method, batch_size)


__all__ = ["color", "encode", "integer_ticks", "legend_label", "linestyle", "method_title",
           "new", "plt", "relplot", "tidy_log", "to_data_uri"]
