"""Caches (§9.4): cache-miss counts per phase and method, the backend that measured them, and NA.

A counter the machine could not read stays NA with its reason (invariant I4 of
docs/architecture.md); it is shown as "unavailable (reason)" and never as zero.
"""

from __future__ import annotations

import pandas as pd
from profkit.analyses.results import GROUP_KEYS, run_keys

# callgrind's cache-simulator miss events (D1/LL read and write misses, instruction misses)
CALLGRIND_MISSES = {"I1mr", "ILmr", "D1mr", "D1mw", "DLmr", "DLmw", "LLmr", "LLmw", "LLdmr",
                    "LLdmw", "LLimr"}


def is_miss_event(event: str) -> bool:
    return "miss" in event.lower() or event in CALLGRIND_MISSES


def cache_misses(counters: pd.DataFrame, steps: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run, phase, event and backend: total misses, misses per training step, NA reasons."""
    c = counters[counters["event"].map(is_miss_event).astype(bool)]
    keys = ["run_id", "phase", "event", "backend", "simulated"]
    g = c.groupby(keys, as_index=False, dropna=False)
    out = g.agg(value=("value", _sum_or_na), na_reason=("na_reason", _reasons),
                multiplexed=("multiplexed", "any"))
    if len(out) and len(steps):
        out = out.join(steps.groupby("run_id").size().rename("n_steps"), on="run_id")
    else:  # joining two empty arrow-backed frames fails; compacted runs have no steps table
        out["n_steps"] = float("nan")
    out["per_step"] = out["value"] / out["n_steps"]
    return out.merge(run_keys(runs), on="run_id")


def _sum_or_na(s: pd.Series):
    """Sum of the available values; NA when none is available (never a zero for missing)."""
    return s.sum() if s.notna().any() else None


def _reasons(s: pd.Series):
    r = sorted(set(s.dropna()))
    return "; ".join(r) if r else None


def misses_by_method(misses: pd.DataFrame) -> pd.DataFrame:
    """Median misses per step per configuration, phase, event and backend."""
    keys = [*GROUP_KEYS, "phase", "event", "backend", "simulated"]
    g = misses.groupby(keys, dropna=False)
    return g.agg(per_step=("per_step", "median"), n_runs=("run_id", "size"),
                 na_reason=("na_reason", _reasons)).reset_index()


def relative_to(by_method: pd.DataFrame, reference: str = "mc-approx") -> pd.DataFrame:
    """Misses per step relative to `reference` at the same setting, as percent more (§9.4)."""
    keys = ["dataset", "batch_size", "hidden_layers", "width", "phase", "event", "backend"]
    ref = by_method[by_method["method"] == reference].groupby(keys)["per_step"].median()
    out = by_method.join(ref.rename("ref_per_step"), on=keys)
    out["pct_more"] = (out["per_step"] / out["ref_per_step"] - 1) * 100
    return out


def na_text(value, reason) -> str | None:
    """How a missing value is shown: 'unavailable (reason)'."""
    if pd.isna(value):
        return f"unavailable ({reason})" if reason else "unavailable (no reason recorded)"
    return None
