"""Environment: the machine and the settings that produced a results set, as short tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

MACHINE_FIELDS = {"hostname": "host", "cpu_model": "CPU", "cpu_cores_logical": "logical cores",
                  "cpu_affinity": "cores usable", "cpu_caches": "caches",
                  "memory_bytes": "memory", "hypervisor": "virtual machine",
                  "torch_version": "torch", "torch_threads": "torch threads",
                  "torch_cpu_capability": "torch CPU capability", "python": "Python",
                  "platform": "platform", "profkit_version": "profkit",
                  "profkit_commit": "profkit commit", "perf_event_paranoid": "perf_event_paranoid"}
NONE = {"threads": "torch default", "max_steps": "no cap"}
SETTING_FIELDS = ("dataset", "method", "hidden_layers", "width", "batch_size", "epochs",
                  "max_steps", "optimizer", "optimizer_impl", "lr", "adam_eps",
                  "flush_denormal", "threads", "warmup_steps", "seed", "repeat")


def machine(env: pd.DataFrame) -> pd.DataFrame:
    """field, value: every distinct value over runs (several hosts show as a list)."""
    rows = []
    for col, label in MACHINE_FIELDS.items():
        vals = env[col].dropna().map(_fmt).unique() if col in env else []
        rows.append({"field": label, "value": ", ".join(sorted(vals)) or "not recorded"})
    return pd.DataFrame(rows)


def _fmt(v) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool) and v > 2**30:
        return f"{v / 2**30:.1f} GiB"
    return _str(v)


def _str(v) -> str:
    return ("yes" if v else "no") if isinstance(v, bool | np.bool_) else str(v)


def settings(runs: pd.DataFrame) -> pd.DataFrame:
    """field, values: the distinct values of each config field over the runs."""
    rows = []
    for col in SETTING_FIELDS:
        if col in runs:
            none = NONE.get(col, "none")
            vals = runs[col].map(lambda v, none=none: none if pd.isna(v) else _str(v)).unique()
            rows.append({"field": col, "values": ", ".join(sorted(vals, key=_natural))})
    rows.append({"field": "runs", "values": f"{len(runs)} ({_status_counts(runs)})"})
    return pd.DataFrame(rows)


def _natural(s: str):
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def _status_counts(runs: pd.DataFrame) -> str:
    return ", ".join(f"{n} {s}" for s, n in runs["status"].value_counts().items())
