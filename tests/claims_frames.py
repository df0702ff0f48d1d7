"""Small synthetic analysis frames for the claim-verdict tests: the three frames the rules
read (per-run final accuracy, per-configuration phase times with their samples, per-run
memory growth), shaped as runtime.phase_table, accuracy.final_accuracy and
memory.memory_growth make them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from profkit.analyses import paper

BASE = dict(dataset="mnist", batch_size=1, hidden_layers=3, width=1000, flush_denormal=False,
            optimizer_impl="default", implementation="paper", workers=1,
            variant="")


def final(*rows: dict) -> pd.DataFrame:
    """One row per run: `test` (a fraction), optional epochs_run, max_steps and keys."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        acc = r.pop("test")
        out.append({**BASE, "run_id": f"r{i}", "repeat": i, "status": "complete",
                    "max_steps": None, "epochs": r.get("epochs_run", 1), "steps_done": 0,
                    "epoch": r.get("epochs_run", 1) - 1, "val_accuracy": acc,
                    "test_accuracy": acc, "epochs_run": 1, **r})
    cols = [*BASE, "run_id", "repeat", "status", "max_steps", "epochs", "steps_done", "epoch",
            "val_accuracy", "test_accuracy", "epochs_run", "method"]
    return pd.DataFrame(out, columns=cols) if out else pd.DataFrame(columns=cols)


def timing(method: str, seconds, phase: str = "total", **keys) -> dict:
    """A phase_table row whose repeats took `seconds` each (its `sample`)."""
    s = tuple(float(x) for x in seconds)
    return {**BASE, **keys, "method": method, "phase": phase, "sample": s,
            "s_per_epoch": float(np.median(s)), "n_runs": len(s), "extrapolated": False}


def phase_table(*rows: dict) -> pd.DataFrame:
    cols = [*BASE, "method", "phase", "sample", "s_per_epoch", "n_runs", "extrapolated"]
    return pd.DataFrame(list(rows), columns=cols)


def growth(method: str, mb: float, epochs_run: int = 1, **keys) -> dict:
    return {**BASE, **keys, "method": method, "run_id": f"{method}-{mb}", "growth_mb": mb,
            "epochs_run": epochs_run, "source": "memory probe (RSS samples during training)"}


def growth_table(*rows: dict) -> pd.DataFrame:
    cols = [*BASE, "method", "run_id", "growth_mb", "epochs_run", "source"]
    return pd.DataFrame(list(rows), columns=cols)


def computed(final_rows: pd.DataFrame | None = None, phases: pd.DataFrame | None = None,
             growths: pd.DataFrame | None = None, tolerance_pct: float = 2.0,
             scaling: pd.DataFrame | None = None):
    """The parts of a Computed bundle the claim rules read."""
    return SimpleNamespace(final=final() if final_rows is None else final_rows,
                           phase_table=phase_table() if phases is None else phases,
                           growth=growth_table() if growths is None else growths,
                           published=paper.load_published(), tolerance_pct=tolerance_pct,
                           scaling=pd.DataFrame() if scaling is None else scaling)
