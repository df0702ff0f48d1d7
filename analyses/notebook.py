"""Notebook session: the one setup call every notebook makes (results directory, analyses
computed once on first use, figures displayed as PNGs)."""

from __future__ import annotations

import io
import os
from functools import cached_property
from pathlib import Path

import pandas as pd
from profkit.analyses.computed import Computed, compute
from profkit.analyses.figures.base import plt
from profkit.analyses.results import Results, load_results

ENV = "PROFKIT_RESULTS"  # overrides the notebook's `results` parameter (tests, papermill)


def resolve(path: str | Path) -> Path:
    """The results directory: $PROFKIT_RESULTS, else `path` as given, else relative to the
    repository root (a notebook runs in notebooks/)."""
    p = Path(os.environ.get(ENV, path))
    if not p.exists() and not p.is_absolute() and (Path("..") / p).exists():
        p = Path("..") / p
    return p


class NotebookSession:
    """A results directory, its Results and Computed (each made once, when first asked for)."""

    def __init__(self, path: Path):
        self.path = path

    @cached_property
    def results(self) -> Results:
        return load_results(self.path)

    @cached_property
    def computed(self) -> Computed:
        """Every analysis, once: the same call the HTML report makes."""
        return compute(self.results)


def setup(results: str | Path = "results/demo") -> NotebookSession:
    """Resolve the results directory, set pandas' display width, say which directory it is."""
    pd.set_option("display.max_columns", 40, "display.width", 200)
    session = NotebookSession(resolve(results))
    print("results directory:", session.path.resolve())
    return session


def show(fig, missing: str = "no data for this figure") -> None:
    """Display a matplotlib figure as a PNG (whatever the backend) and free it; print
    `missing` when there is no figure."""
    from IPython.display import Image, display  # IPython only where a notebook displays

    if fig is None:
        print(missing)
        return
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    display(Image(buf.getvalue()))


def select(df: pd.DataFrame, where: dict) -> pd.DataFrame:
    """Rows of `df` whose columns equal every value in `where` (e.g. {"method": "standard"})."""
    bad = [k for k in where if k not in df]
    if bad:
        raise KeyError(f"not a column: {', '.join(bad)}; columns: {', '.join(map(str, df))}")
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    return df[mask]

