"""Intervals: autocorrelated steps, few repeats, positivity (issue 10.9), checked by coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from analyses_frames import phases, runs
from profkit.analyses import runtime, stats

MS = 1_000_000
TRIALS, N_STEPS, RHO, MU = 300, 400, 0.7, 10.0
# binomial(TRIALS, 0.95) has sd 0.0126; 4 sd either side is missed with probability < 1e-4
TOL = 4 * math.sqrt(0.95 * 0.05 / TRIALS)


def ar1(n: int, rho: float, rng, mu: float = MU) -> np.ndarray:
    """Stationary AR(1) around mu with unit innovations: step times with slow stretches."""
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + e[t]
    return mu + x


@pytest.fixture(scope="module")
def series() -> list[np.ndarray]:
    rng = np.random.default_rng(20261202)
    return [ar1(N_STEPS, RHO, rng) for _ in range(TRIALS)]


def _coverage(series, ci) -> float:
    return float(np.mean([lo <= MU <= hi for lo, hi in (ci(x, i) for i, x in
                                                         enumerate(series))]))


def test_block_means_cover_the_mean_of_autocorrelated_steps_near_nominal(series):
    cov = _coverage(series, lambda x, i: stats.block_mean_ci(x))
    assert abs(cov - 0.95) <= TOL


def test_iid_bootstrap_under_covers_the_same_series(series):
    # the old method: (1 + rho) / (1 - rho) = 5.7x the variance it assumes, coverage ~ 0.6
    few = series[:100]
    cov = _coverage(few, lambda x, i: stats.bootstrap_ci(x, np.mean, n_boot=200, seed=i))
    assert cov < 0.95 - 4 * math.sqrt(0.95 * 0.05 / len(few))


def test_block_bootstrap_of_the_median_covers_better_than_iid(series):
    # the median of a symmetric AR(1) is mu; blocks recover most of the lost coverage
    few = series[:60]
    iid = _coverage(few, lambda x, i: stats.bootstrap_ci(x, n_boot=200, seed=i))
    blk = _coverage(few, lambda x, i: stats.block_bootstrap_ci(x, n_boot=200, seed=i))
    assert blk >= iid + 0.15 and blk >= 0.8


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_autocorrelation_time_matches_ar1_theory(rho):
    x = ar1(20000, rho, np.random.default_rng(3))
    assert stats.autocorr_time(x) == pytest.approx((1 + rho) / (1 - rho), rel=0.15)


def test_block_length_follows_the_data():
    rng = np.random.default_rng(4)
    assert stats.block_length(rng.normal(size=2000)) <= 5
    assert stats.block_length(ar1(2000, 0.9, rng)) >= 3 * 15


def test_constant_series_gives_a_point_interval():
    assert stats.block_mean_ci(np.full(50, 2.0)) == pytest.approx((2.0, 2.0))


def test_interval_of_a_positive_quantity_never_goes_below_zero():
    x = np.array([0.1, 0.1, 30.0])  # a linear t interval is [-38, 58]
    assert stats.t_ci(x)[0] < 0
    lo, hi = stats.positive_t_ci(x)
    assert 0 < lo < x.mean() < hi
    lo, hi = stats.positive_t_ci([0.0, 0.0, 5.0])
    assert 0 < lo < 5 / 3 < hi


def _table(run_frame, ph):
    es = runtime.epoch_phase_seconds(ph, run_frame)
    ss = runtime.step_phase_stats(ph, run_frame, set(es.loc[es["extrapolated"], "run_id"]))
    return runtime.phase_table(es, ss, run_frame).set_index("phase").loc["total"]


def _noisy(run_id: str, ms: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"run_id": run_id, "epoch": 0, "step": range(len(ms)), "phase": "forward",
                         "wall_ns": (ms * MS).astype(int), "warmup": False})


def test_two_repeats_give_no_t_interval_and_say_so():
    rng = np.random.default_rng(5)
    r = runs(*({"run_id": f"r{i}", "repeat": i, "n_train": 200 * 20} for i in range(2)))
    ph = pd.concat([_noisy(f"r{i}", ar1(200, 0.5, rng, mu=5 + 3 * i)) for i in range(2)])
    tot = _table(r, ph)
    assert tot["n_runs"] == 2 and tot["ci_method"].startswith("n<3 repeats")
    lo, hi = stats.t_ci([tot["s_per_epoch"] - 0.3, tot["s_per_epoch"] + 0.3])
    assert tot["ci_lo"] > 0 and tot["ci_lo"] != pytest.approx(lo)
    assert tot["ci_lo"] < tot["s_per_epoch"] < tot["ci_hi"]


def test_three_repeats_give_a_log_scale_t_interval_above_zero():
    r = runs(*({"run_id": f"r{i}", "repeat": i} for i in range(3)))
    per_step = [1, 1, 60]  # one wildly slow repeat: a linear t interval goes below zero
    ph = pd.concat([phases(f"r{i}", {"forward": per_step[i] * MS}, 5) for i in range(3)])
    tot = _table(r, ph)
    s = np.array(per_step) * 5 / 1e3
    assert tot["ci_method"] == "t over 3 repeats (log scale)"
    assert stats.t_ci(s)[0] < 0 < tot["ci_lo"]
    assert (tot["ci_lo"], tot["ci_hi"]) == pytest.approx(stats.positive_t_ci(s))
