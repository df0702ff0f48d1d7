"""Results: a results directory's tidy frames (profkit.load) with the analyses' run columns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from profkit.schema import STUDY_TABLES
from profkit.store import load, read_study

# Config columns that can differ between runs of one (dataset, method, batch, depth, width)
# and change results; when they vary across a results set they are folded into `variant`.
VARIANT_COLS = ("lr", "optimizer", "adam_eps", "momentum", "max_steps", "epochs", "threads")
# implementation (paper | tuned) keeps the two code paths apart in every table and figure
# workers (--workers P) keeps multi-process runs apart: their steps overlap in time
GROUP_KEYS = ["dataset", "method", "batch_size", "hidden_layers", "width", "flush_denormal",
              "optimizer_impl", "implementation", "workers", "variant"]
PUBLISHED = "as published"  # the variant label of as_published=true runs
MATCH_KEYS = ["dataset", "batch_size", "hidden_layers", "width", "flush_denormal",
              "optimizer_impl", "implementation", "workers"]  # what a ratio to Standard shares


@dataclass
class Results:
    """The frames of profkit.load (runs with the analyses' columns added) and the study tables."""

    frames: dict[str, pd.DataFrame]
    path: Path | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    @property
    def runs(self) -> pd.DataFrame:
        return self.frames["runs"]


def load_results(path: str | Path) -> Results:
    """Load every run under `path`; raise FileNotFoundError (with the fix) when there are none."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"results directory {path} does not exist; make runs with "
                                "`profkit run --results DIR` or `profkit demo --results DIR`")
    frames = load(path)
    if frames["runs"].empty:
        raise FileNotFoundError(f"no runs (run.json files) under {path}; make runs with "
                                "`profkit run --results DIR` or `profkit demo --results DIR`")
    frames["runs"] = enrich_runs(frames["runs"])  # load() flattened run.json already
    for name in STUDY_TABLES:  # once per results directory; empty with its columns if absent
        frames[name] = read_study(name, path)
    return Results(frames, path)


def enrich_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Defaults for runs older than a field, full-epoch step counts and the `variant` label."""
    out = runs.copy()
    for col, default in (("flush_denormal", False), ("optimizer_impl", "default"),
                         ("implementation", "paper"), ("workers", 1),
                         ("width", 0), ("hidden_layers", 0)):
        if col not in out:
            out[col] = default
    out["workers"] = out["workers"].fillna(1).astype(int)  # runs before --workers: one process
    out["full_epoch_steps"] = [
        math.ceil(n / b) if pd.notna(n) and pd.notna(b) else pd.NA
        for n, b in zip(out["n_train"], out["batch_size"], strict=True)]
    out["variant"] = variant_labels(out)
    pub = as_published(out)
    out.loc[pub, "variant"] = [f"{PUBLISHED}, {v}" if v else PUBLISHED
                               for v in out.loc[pub, "variant"]]
    return out


def as_published(runs: pd.DataFrame) -> pd.Series:
    """Runs of a method's published variant (`--param as_published=true`): kept apart from
    the default ones in every table (their `variant` starts with PUBLISHED)."""
    if "param_as_published" not in runs:
        return pd.Series(False, index=runs.index)
    return runs["param_as_published"].map(_truthy).astype(bool)


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v) if v is not None and not pd.isna(v) else False


def variant_labels(runs: pd.DataFrame) -> pd.Series:
    """A short label of the VARIANT_COLS values that differ between runs of the same dataset,
    method, batch size, depth and width ('' when none do): it keeps such runs apart."""
    base = [k for k in ("dataset", "method", "batch_size", "hidden_layers", "width") if k in runs]
    cols = [c for c in VARIANT_COLS if c in runs and
            (runs.assign(_v=runs[c].astype(str)).groupby(base)["_v"].nunique() > 1).any()]
    if not cols:
        return pd.Series([""] * len(runs), index=runs.index, dtype="object")
    return runs[cols].apply(lambda r: ", ".join(f"{c}={r[c]}" for c in cols), axis=1)


def run_keys(runs: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The per-run key columns analyses join onto observations."""
    cols = ["run_id", *GROUP_KEYS, "repeat", "status", *extra]
    return runs[[c for c in cols if c in runs]]
