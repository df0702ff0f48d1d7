"""Runtime analyses on hand-made phase frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from analyses_frames import phases, runs
from profkit.analyses import runtime, stats

MS = 1_000_000


def _table(run_frame, ph):
    es = runtime.epoch_phase_seconds(ph, run_frame)
    ss = runtime.step_phase_stats(ph, run_frame, set(es.loc[es["extrapolated"], "run_id"]))
    return runtime.ratio_to_standard(runtime.phase_table(es, ss, run_frame))


def test_complete_epoch_is_the_measured_sum_with_every_phase_and_no_diagnostic():
    r = runs({"run_id": "a", "n_train": 100, "batch_size": 20})  # 5 steps per epoch
    ph = phases("a", {"forward": 2 * MS, "backward": 3 * MS, "other": MS, "diagnostic": 50 * MS},
                n_steps=5, warmup=1, warm_factor=10)
    es = runtime.epoch_phase_seconds(ph, r).set_index("phase")
    assert "diagnostic" not in es.index
    # warm-up step counts in a measured epoch: forward = (10*2 + 4*2) ms
    assert es.loc["forward", "seconds"] == pytest.approx(0.028)
    assert es.loc["total", "seconds"] == pytest.approx((10 * 6 + 4 * 6) / 1000)
    assert not es["extrapolated"].any()


def test_capped_epoch_is_extrapolated_from_steady_steps():
    r = runs({"run_id": "a", "n_train": 1000, "batch_size": 1})  # 1000 steps per full epoch
    ph = phases("a", {"forward": 2 * MS, "other": MS}, n_steps=50, warmup=10, warm_factor=100)
    es = runtime.epoch_phase_seconds(ph, r).set_index("phase")
    assert es["extrapolated"].all()
    assert es.loc["forward", "seconds"] == pytest.approx(2.0)  # 2 ms x 1000 steps
    assert es.loc["total", "seconds"] == pytest.approx(3.0)


@pytest.mark.parametrize("method,batch,expected", [
    ("mc-approx", 20, 0.5),      # half Standard's time at the same batch and depth
    ("dropout", 20, 2.0),
    ("standard", 20, 1.0),
    ("mc-approx", 1, None),      # no Standard at batch 1: NA, not a number
])
def test_ratio_to_standard_matches_setting(method, batch, expected):
    r = runs({"run_id": "s", "method": "standard", "batch_size": 20},
             {"run_id": "m", "method": "mc-approx", "batch_size": 20},
             {"run_id": "d", "method": "dropout", "batch_size": 20},
             {"run_id": "m1", "method": "mc-approx", "batch_size": 1})
    ph = pd.concat([phases("s", {"forward": 4 * MS}, 5), phases("m", {"forward": 2 * MS}, 5),
                    phases("d", {"forward": 8 * MS}, 5), phases("m1", {"forward": MS}, 100)])
    t = _table(r, ph)
    row = t[(t["method"] == method) & (t["batch_size"] == batch) & (t["phase"] == "total")]
    got = row["ratio"].iloc[0]
    assert (pd.isna(got) if expected is None else got == pytest.approx(expected))


def test_repeats_give_a_t_interval_around_the_median():
    r = runs(*({"run_id": f"r{i}", "repeat": i} for i in range(3)))
    ph = pd.concat([phases(f"r{i}", {"forward": (10 + i) * MS}, 5) for i in range(3)])
    tot = _table(r, ph).set_index("phase").loc["total"]
    assert tot["n_runs"] == 3 and tot["ci_method"].startswith("t over 3")
    s = np.array([0.05, 0.055, 0.06])
    from scipy import stats as st
    rel = st.t.ppf(0.975, 2) * s.std(ddof=1) / np.sqrt(3) / s.mean()  # log scale (issue 10.9)
    lo, hi = s.mean() * np.exp(-rel), s.mean() * np.exp(rel)
    assert tot["s_per_epoch"] == pytest.approx(0.055)
    assert (tot["ci_lo"], tot["ci_hi"]) == (pytest.approx(lo), pytest.approx(hi))
    assert lo < 0.055 < hi


def test_step_medians_exclude_warmup():
    r = runs({"run_id": "a"})
    ph = phases("a", {"forward": MS}, n_steps=5, warmup=2, warm_factor=1000)
    ss = runtime.step_phase_stats(ph, r).set_index("phase")
    assert ss.loc["forward", "median_ms"] == pytest.approx(1.0)
    assert ss.loc["forward", "n_steps"] == 3


@pytest.mark.parametrize("x,level", [(np.arange(10.0), 0.95), ([1.0, 2.0, 3.0, 4.0], 0.9)])
def test_t_ci_against_textbook(x, level):
    from scipy import stats as st
    x = np.asarray(x)
    half = st.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    assert stats.t_ci(x, level) == (pytest.approx(x.mean() - half), pytest.approx(x.mean() + half))


def test_bootstrap_ci_covers_true_median_of_a_known_distribution():
    rng = np.random.default_rng(1)
    hits = sum(lo <= 0.0 <= hi for lo, hi in
               (stats.bootstrap_ci(rng.normal(size=200), seed=i) for i in range(100)))
    # nominal 95%: a binomial(100, 0.95) count is >= 87 with probability > 0.999
    assert hits >= 87


def test_phase_order_puts_other_and_total_last():
    assert runtime.phase_order(["total", "other", "lsh_query", "forward", "data"]) == [
        "data", "forward", "lsh_query", "other", "total"]


def test_accuracy_vs_time_accumulates_measured_seconds():
    r = runs({"run_id": "a", "n_train": 40, "batch_size": 20})
    ph = pd.concat([phases("a", {"forward": 500 * MS}, 2, epoch=e, first_step=2 * e)
                    for e in range(2)])
    ep = pd.DataFrame({"run_id": "a", "epoch": [0, 1], "val_accuracy": [0.5, 0.7],
                       "test_accuracy": [0.5, 0.7]})
    avt = runtime.accuracy_vs_time(ep, runtime.epoch_phase_seconds(ph, r), r)
    assert avt["train_s"].tolist() == pytest.approx([1.0, 2.0])


def test_runs_differing_in_threads_are_kept_apart_not_merged_as_repeats():
    r = runs({"run_id": "a", "threads": 1}, {"run_id": "b", "threads": 2})
    ph = pd.concat([phases("a", {"forward": 2 * MS}, 5), phases("b", {"forward": MS}, 5)])
    tot = _table(r, ph)
    tot = tot[tot["phase"] == "total"]
    assert sorted(tot["variant"]) == ["threads=1", "threads=2"]
    assert (tot["n_runs"] == 1).all()
