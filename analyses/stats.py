"""Small statistics: intervals that respect autocorrelated steps, few repeats and positivity.

How intervals are computed (the report's note quotes INTERVALS_NOTE):
- Steps of one run are autocorrelated (a slow stretch lasts many steps), so they are not
  resampled one by one. The integrated autocorrelation time tau (1 + 2 x the sum of
  autocorrelations, summed in pairs while positive: Geyer's initial positive sequence) says
  how many steps carry one step's worth of independent information.
- Mean step time: the steps are cut into 5-10 blocks of consecutive steps, each at least
  3 tau long; the block means are close to independent, and a Student t interval over them
  (on the log scale by the delta method, mean x exp(+-t se/mean), so it never goes below
  zero) is the interval ("batch means").
- Median step time: moving-block bootstrap (blocks of ceil(3 tau) steps, at most n/10),
  percentile interval (a median of positive times stays positive).
- Over repeats: with >= 3 repeats, a Student t interval of the mean seconds over repeats
  (the between-repeat variation); with fewer there is no between-repeat interval and the
  within-run block interval above is used.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as st

LEVEL = 0.95
N_BOOT = 400
MIN_REPEATS = 3  # a t interval over 2 values has 1 degree of freedom: [-12.3, 25] for 6.36 s
BLOCK_TAUS = 3  # a block spans this many autocorrelation times
BLOCKS = (5, 10)  # fewest and most blocks for block means

INTERVALS_NOTE = (
    "How intervals are computed: 95% intervals. Steps within a run are autocorrelated, so "
    "they are never resampled one at a time. A run's mean step time (hence its seconds per "
    "epoch) gets a Student t interval over 5-10 means of blocks of consecutive steps, each "
    "block at least 3 integrated autocorrelation times long (estimated from the run's own "
    "steps); a median step time gets a moving-block bootstrap percentile interval with the "
    "same block length (at most a tenth of the steps). A configuration with >= 3 repeats gets"
    " a Student t interval over its repeats instead (between-repeat variation); with fewer "
    "(n<3 repeats) there is no between-repeat interval and the within-run interval is shown. "
    "Intervals of times are mean x exp(+-t se / mean) (a t interval on the log scale) or "
    "percentiles, so they never go below zero. Ratios B/A: ratio of means, Welch t on the "
    "log ratio (delta method); 'not significant' when its interval holds 1.")


def autocorr_time(x) -> float:
    """Integrated autocorrelation time of a series (1 for independent values, or constant x)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    xc = x - x.mean()
    var = float(np.dot(xc, xc))
    if n < 4 or var == 0:
        return 1.0
    f = np.fft.rfft(xc, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n] / var
    pairs = ac[: 2 * (n // 2)].reshape(-1, 2).sum(axis=1)  # Geyer: rho_2k + rho_2k+1
    stop = np.argmax(pairs <= 0) if (pairs <= 0).any() else len(pairs)
    return max(1.0, 2.0 * float(pairs[:stop].sum()) - 1.0)


def block_length(x) -> int:
    """Steps per block: ceil(BLOCK_TAUS x autocorrelation time), at least 1."""
    return max(1, math.ceil(BLOCK_TAUS * autocorr_time(x)))


def block_means(x) -> np.ndarray:
    """Means of BLOCKS[0]..BLOCKS[1] blocks of consecutive values, each >= block_length
    (fewer blocks only when x is too short); sizes differ by at most one, so no value (a
    slow first step, say) is left out."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    k = min(n, max(BLOCKS[0], min(BLOCKS[1], n // block_length(x))))
    if k == 0:
        return x
    return np.array([part.mean() for part in np.array_split(x, k)])


def positive_t_ci(x, level: float = LEVEL) -> tuple[float, float]:
    """Student t interval of the mean of positive values, on the log scale by the delta
    method: mean x exp(+-t se/mean), so never below zero and centred (in log) on the mean
    itself, not on a geometric mean that skewed step times pull far below it;
    (nan, nan) for n < 2; (0, 0) for a zero mean."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return float("nan"), float("nan")
    m = float(x.mean())
    if m <= 0:
        return 0.0, 0.0
    half = st.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)) / m
    return m * math.exp(-half), m * math.exp(half)


def block_mean_ci(x, level: float = LEVEL) -> tuple[float, float]:
    """Interval of the mean of an autocorrelated positive series (t over block means)."""
    return positive_t_ci(block_means(x), level)


def block_bootstrap_ci(x, stat=np.median, n_boot: int = N_BOOT, level: float = LEVEL,
                       seed: int = 0, block: int | None = None) -> tuple[float, float]:
    """Moving-block bootstrap percentile interval of `stat`; (nan, nan) for n < 2.
    Default block: block_length(x), at most n // 10; block=1 is the iid bootstrap."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 2:
        return float("nan"), float("nan")
    b = block or max(1, min(block_length(x), n // 10))
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - b + 1, size=(n_boot, -(-n // b)))
    idx = (starts[:, :, None] + np.arange(b)).reshape(n_boot, -1)[:, :n]
    boots = stat(x[idx], axis=1)
    a = (1 - level) / 2
    return float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))


def bootstrap_ci(x, stat=np.median, n_boot: int = N_BOOT, level: float = LEVEL,
                 seed: int = 0) -> tuple[float, float]:
    """iid percentile bootstrap interval of `stat` (for independent values only)."""
    return block_bootstrap_ci(x, stat, n_boot, level, seed, block=1)


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
