"""Ratios B/A with intervals and significance (issue 10.10-11) on samples with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from analyses_frames import phases, runs
from profkit.analyses import compare, findings, runtime

MS = 1_000_000


def test_a_clear_speed_up_is_significant_and_its_interval_covers_the_true_ratio():
    rng = np.random.default_rng(0)
    trials = [compare.ratio(10 * np.exp(rng.normal(0, 0.05, 8)),
                            5 * np.exp(rng.normal(0, 0.05, 8))) for _ in range(300)]
    assert all(r["verdict"] == "faster" and r["p_value"] < 1e-6 for r in trials)
    cover = np.mean([r["ratio_lo"] < 0.5 < r["ratio_hi"] for r in trials])
    assert abs(cover - 0.95) <= 4 * math.sqrt(0.95 * 0.05 / 300)  # binomial, 4 sd
    r = trials[0]
    assert compare.describe(r) == (f"B is {1 / r['ratio']:.2f}x faster than A (B/A "
                                   f"{r['ratio']:.3g} [{r['ratio_lo']:.3g}, "
                                   f"{r['ratio_hi']:.3g}]), p={r['p_value']:.2g}")


def test_equal_distributions_are_not_significant_at_the_nominal_rate():
    # under the null, p < 0.05 in 5% of trials: binomial(400, 0.05) <= 36 w.p. > 0.9999
    rng = np.random.default_rng(1)
    hits = sum(compare.ratio(10 + rng.normal(0, 1, 5), 10 + rng.normal(0, 1, 5))["verdict"]
               != compare.NOT_SIGNIFICANT for _ in range(400))
    assert 5 <= hits <= 36


def test_a_small_difference_with_few_noisy_repeats_is_not_significant():
    r = compare.ratio([10.0, 14.0, 8.0], [9.0, 13.0, 7.5])
    assert r["verdict"] == compare.NOT_SIGNIFICANT and r["ratio_lo"] < 1 < r["ratio_hi"]
    assert "not significant" in compare.describe(r)


def test_one_value_a_side_gives_a_ratio_but_no_test():
    r = compare.ratio([4.0], [2.0])
    assert r["ratio"] == pytest.approx(0.5) and math.isnan(r["p_value"])
    assert r["verdict"] == compare.NOT_SIGNIFICANT


def test_nonpositive_or_missing_samples_are_no_data():
    assert compare.ratio([], [1.0, 2.0])["verdict"] == "no data"
    assert compare.ratio([0.0, 1.0], [1.0, 2.0])["verdict"] == "no data"


def _table(run_frame, ph):
    es = runtime.epoch_phase_seconds(ph, run_frame)
    ss = runtime.step_phase_stats(ph, run_frame, set(es.loc[es["extrapolated"], "run_id"]))
    return runtime.ratio_to_standard(runtime.phase_table(es, ss, run_frame))


def _noisy(run_id: str, mean_ms: float, n: int, seed: int) -> pd.DataFrame:
    ms = mean_ms * np.exp(np.random.default_rng(seed).normal(0, 0.1, n))
    return pd.DataFrame({"run_id": run_id, "epoch": 0, "step": range(n), "phase": "forward",
                         "wall_ns": (ms * MS).astype(int), "warmup": False})


def test_ratio_to_standard_says_faster_or_not_significant_from_the_steps():
    r = runs({"run_id": "s", "method": "standard", "n_train": 4000},
             {"run_id": "m", "method": "mc-approx", "n_train": 4000},
             {"run_id": "d", "method": "dropout", "n_train": 4000})
    ph = pd.concat([_noisy("s", 10, 200, 1), _noisy("m", 5, 200, 2), _noisy("d", 10, 200, 3)])
    t = _table(r, ph)
    tot = t[t["phase"] == "total"].set_index("method")
    assert tot.loc["mc-approx", "verdict"] == "faster"
    assert tot.loc["mc-approx", "ratio_lo"] < 0.5 < tot.loc["mc-approx", "ratio_hi"]
    assert tot.loc["dropout", "verdict"] == compare.NOT_SIGNIFICANT
    assert tot.loc["standard", "ratio"] == pytest.approx(1.0)


def _three(ms: dict[str, int]):
    r = runs(*({"run_id": f"{m}{i}", "method": m, "repeat": i} for m in ms for i in range(3)))
    ph = pd.concat([phases(f"{m}{i}", {"forward": (k + i) * MS}, 5) for m, k in ms.items()
                    for i in range(3)])
    return " ".join(findings._speed(_table(r, ph)))


def test_fastest_claim_is_tested_against_the_runner_up_and_standard():
    text = _three({"standard": 10, "dropout": 10})
    assert "not significantly faster than the next, Standard" in text
    text = _three({"standard": 20, "dropout": 10})
    assert "Fastest" in text and "Dropout" in text and "not significant" not in text
    assert "faster than the next, Standard" in text
    text = _three({"standard": 20, "dropout": 10, "mc-approx": 10})
    assert "not significantly faster than the next" in text and "faster than Standard" in text


def test_fastest_sentence_names_the_implementation_when_its_group_mixes_them():
    r = runs({"run_id": "s", "method": "standard", "implementation": "paper"},
             {"run_id": "d", "method": "dropout", "implementation": "tuned"})
    ph = pd.concat([phases("s", {"forward": 20 * MS}, 5), phases("d", {"forward": 10 * MS}, 5)])
    text = " ".join(findings._speed(_table(r, ph)))
    assert "Dropout M (b20) [tuned implementation]" in text
    assert "Standard M (b20) [paper implementation]" in text
    same = runs({"run_id": "s", "method": "standard"}, {"run_id": "d", "method": "dropout"})
    text = " ".join(findings._speed(_table(same, ph)))
    assert "Dropout M (b20)," in text and "implementation" not in text
