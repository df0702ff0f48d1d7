"""Results: a results directory's tidy frames plus the run.json facts the frames do not carry."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from profkit.schema import STUDY_TABLES
from profkit.store import load, read_study

# Config columns that can differ between runs of one (dataset, method, batch, depth, width)
# and change results; when they vary across a results set they are folded into `variant`.
VARIANT_COLS = ("lr", "optimizer", "adam_eps", "momentum", "max_steps", "epochs", "threads")
# implementation (paper | tuned) keeps the two code paths apart in every table and figure
GROUP_KEYS = ["dataset", "method", "batch_size", "hidden_layers", "width", "flush_denormal",
              "optimizer_impl", "implementation", "variant"]
PUBLISHED = "as published"  # the variant label of as_published=true runs
MATCH_KEYS = ["dataset", "batch_size", "hidden_layers", "width", "flush_denormal",
              "optimizer_impl", "implementation"]  # what a ratio to Standard must share


@dataclass
class Results:
    """The frames of profkit.load (runs enriched with run.json facts) and each run's warnings."""

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
    metas = [_read_meta(Path(p)) for p in frames["runs"]["path"]]
    frames["runs"] = enrich_runs(frames["runs"], pd.DataFrame([m["row"] for m in metas]))
    frames["run_warnings"] = pd.DataFrame(
        [{"run_id": m["row"]["run_id"], "message": w} for m in metas for w in m["warnings"]],
        columns=["run_id", "message"])
    frames["environment"] = pd.DataFrame([m["environment"] for m in metas])
    for name in STUDY_TABLES:  # once per results directory; empty with its columns if absent
        frames[name] = read_study(name, path)
    return Results(frames, path)


def _read_meta(run_dir: Path) -> dict[str, Any]:
    meta = json.loads((run_dir / "run.json").read_text())
    env = meta.get("environment", {}) or {}
    sizes = (meta.get("dataset") or {}).get("sizes") or {}
    row = {"run_id": meta["run_id"], "n_train": sizes.get("train"), "n_test": sizes.get("test"),
           "steps_done": meta.get("steps_done"), "epochs_done": meta.get("epochs_done"),
           "error": meta.get("error"), "started_at": meta.get("started_at")}
    environment = {"run_id": meta["run_id"],
                   **{k: v for k, v in env.items() if not isinstance(v, dict)},
                   "cpu_caches": _caches(env.get("cpu_caches"))}
    return {"row": row, "warnings": list(meta.get("warnings") or []), "environment": environment}


def _caches(caches: dict[str, str] | None) -> str | None:
    return ", ".join(f"{k} {v}" for k, v in caches.items()) if caches else None


def enrich_runs(runs: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Join run.json facts, add full-epoch step counts and the `variant` label."""
    out = runs.merge(meta, on="run_id", how="left")
    for col, default in (("flush_denormal", False), ("optimizer_impl", "default"),
                         ("implementation", "paper"),
                         ("width", 0), ("hidden_layers", 0)):
        if col not in out:
            out[col] = default
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
