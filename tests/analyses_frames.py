"""Hand-made tidy frames with known answers, for the analyses tests."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.results import enrich_runs


def runs(*rows: dict) -> pd.DataFrame:
    """A runs frame as load_results makes it; each row overrides these defaults."""
    base = dict(dataset="mnist", method="standard", batch_size=20, hidden_layers=3, width=1000,
                flush_denormal=False, optimizer_impl="default", lr=1e-3, optimizer="adam",
                adam_eps=1e-4, momentum=0.0, max_steps=None, epochs=1, repeat=0,
                status="complete", clean_timing=True, instruments="clock", path="x")
    facts = dict(n_train=100, n_test=10, steps_done=0, epochs_done=1, error=None,
                 started_at=None)  # the run.json facts store.load flattens into runs
    df = pd.DataFrame([{**base, **facts, **r} for r in rows])
    return enrich_runs(df)


def phases(run_id: str, per_step: dict[str, int], n_steps: int, epoch: int = 0,
           warmup: int = 0, first_step: int = 0, warm_factor: int = 1) -> pd.DataFrame:
    """Every step spends per_step[phase] ns in each phase (warm-up steps warm_factor times)."""
    rows = []
    for s in range(first_step, first_step + n_steps):
        w = s < warmup
        for ph, ns in per_step.items():
            rows.append({"run_id": run_id, "epoch": epoch, "step": s, "phase": ph,
                         "wall_ns": ns * (warm_factor if w else 1), "warmup": w})
    return pd.DataFrame(rows)


def epochs(run_id: str, accs: list[float | None], rss: list[int | None] | None = None):
    n = len(accs)
    return pd.DataFrame({"run_id": run_id, "epoch": range(n), "val_accuracy": accs,
                         "test_accuracy": accs, "complete": True, "subnormal_fraction": 0.0,
                         "rss_bytes": rss if rss is not None else [None] * n})
