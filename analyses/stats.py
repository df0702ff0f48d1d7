"""Small statistics: medians with bootstrap intervals, t intervals over repeats, variation."""

from __future__ import annotations

import numpy as np
from scipy import stats as st

LEVEL = 0.95
N_BOOT = 400


def bootstrap_ci(x, stat=np.median, n_boot: int = N_BOOT, level: float = LEVEL,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of `stat`; (nan, nan) for fewer than 2 values."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))  # (n_boot, n) resample indices
    boots = stat(x[idx], axis=1)
    a = (1 - level) / 2
    return float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))


def t_ci(x, level: float = LEVEL) -> tuple[float, float]:
    """Student-t interval of the mean; (nan, nan) for fewer than 2 values."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    half = st.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def cv(x) -> float:
    """Coefficient of variation (sample sd / mean); nan for fewer than 2 values or zero mean."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2 or x.mean() == 0:
        return float("nan")
    return float(x.std(ddof=1) / x.mean())
