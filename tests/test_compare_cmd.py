"""`profkit compare` (issue 10.11): hand-made result sets with known answers, then real runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from analyses_frames import epochs, runs
from profkit.analyses.comparison import CompareError, compare_results
from profkit.analyses.results import Results

import profkit
from profkit.cli import main as cli

MS = 1_000_000


def _steps(run_id: str, mean_ms: float, seed: int, n: int = 100) -> pd.DataFrame:
    ms = mean_ms * np.exp(np.random.default_rng(seed).normal(0, 0.05, n))
    rows = [{"run_id": run_id, "epoch": 0, "step": s, "phase": ph,
             "wall_ns": int(v * share * MS), "warmup": False}
            for s, v in enumerate(ms) for ph, share in (("forward", 0.25), ("backward", 0.75))]
    return pd.DataFrame(rows)


def _results(specs: list[tuple[str, str, float, float]]) -> Results:
    """specs: (run_id, method, mean ms per step, test accuracy); 100 steps = 1 full epoch."""
    r = runs(*({"run_id": i, "method": m, "n_train": 2000, "batch_size": 20} for i, m, _, _
               in specs))
    r["n_test"] = 1000
    ph = pd.concat([_steps(i, ms, k) for k, (i, _, ms, _) in enumerate(specs)])
    ep = pd.concat([epochs(i, [acc]) for i, _, _, acc in specs])
    return Results({"runs": r, "phases": ph, "epochs": ep}, None)


def test_b_twice_as_slow_is_found_with_its_ratio_in_the_interval():
    a = _results([("a", "standard", 10.0, 0.90)])
    b = _results([("b", "dropout", 20.0, 0.80)])
    out = compare_results(a, b)
    assert "method" in out["differ"] and "dataset" in out["keys"]
    tot = out["time"].set_index("phase").loc["total"]
    assert tot["verdict"] == "slower" and tot["ratio_lo"] < 2.0 < tot["ratio_hi"]
    assert tot["s_per_epoch_a"] == pytest.approx(1.0, rel=0.05)  # 100 steps x 10 ms
    acc = out["accuracy"].iloc[0]
    assert acc["diff_pts"] == pytest.approx(-10.0) and acc["verdict"] == "lower"
    assert acc["diff_lo"] < -10 < acc["diff_hi"]


def test_same_speed_and_accuracy_are_not_significant():
    a = _results([("a", "standard", 10.0, 0.900)])
    b = _results([("b", "standard", 10.0, 0.905)])
    out = compare_results(a, b)
    assert (out["time"]["verdict"] == "not significant").all()
    assert out["accuracy"]["verdict"].iloc[0] == "not significant"


def test_filters_split_one_directory_and_bad_filters_are_named():
    both = _results([("a", "standard", 10.0, 0.9), ("b", "mc-approx", 5.0, 0.9)])
    out = compare_results(both, both, where_a={"method": "standard"},
                          where_b={"method": "mc-approx"})
    assert out["time"].set_index("phase").loc["total", "verdict"] == "faster"
    with pytest.raises(CompareError, match="unknown filter key 'depth'; valid keys: dataset"):
        compare_results(both, both, where={"depth": 3})
    with pytest.raises(CompareError, match="no runs on side B match method=alsh-approx"):
        compare_results(both, both, where_b={"method": "alsh-approx"})


def test_configurations_that_do_not_match_are_a_clear_error():
    a = _results([("a", "standard", 10.0, 0.9), ("c", "standard", 10.0, 0.9)])
    a.frames["runs"]["hidden_layers"] = [3, 5]
    b = _results([("b", "standard", 10.0, 0.9), ("d", "standard", 10.0, 0.9)])
    b.frames["runs"]["hidden_layers"] = [4, 6]
    with pytest.raises(CompareError, match="no configuration of A matches one of B on "
                       "dataset, method, batch_size, hidden_layers"):
        compare_results(a, b)


@pytest.fixture(scope="module")
def two_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    for name, method in (("base", "standard"), ("new", "mc-approx")):
        cfg = profkit.RunConfig(method=method, dataset="digits", hidden_layers=1, width=16,
                                batch_size=20, epochs=1, max_steps=30, warmup_steps=2,
                                results=str(root / name))
        profkit.run(cfg, progress=False)
    return root


def test_compare_two_real_results_dirs_as_json(two_dirs, capsys):
    assert cli(["compare", str(two_dirs / "base"), str(two_dirs / "new"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "method" in out["differs_in"]
    phases = {r["phase"]: r for r in out["time"]}
    assert {"forward", "backward", "optimizer", "total"} <= set(phases)
    tot = phases["total"]
    assert tot["ratio_lo"] <= tot["ratio"] <= tot["ratio_hi"] and tot["ratio_lo"] > 0
    assert tot["verdict"] in ("faster", "slower", "not significant")
    assert 0 <= out["accuracy"][0]["test_pct_a"] <= 100


def test_compare_within_one_dir_prints_a_table(two_dirs, capsys):
    for d in ("base", "new"):
        shutil.copytree(two_dirs / d, two_dirs / "all", dirs_exist_ok=True)
    assert cli(["compare", str(two_dirs / "all"), str(two_dirs / "all"),
                "--a", "method=standard", "--b", "method=mc-approx",
                "--filter", "batch_size=20"]) == 0
    text = capsys.readouterr().out
    assert "B/A [95% CI]" in text and "total" in text and "test accuracy" in text


def test_compare_bad_filter_is_a_clear_error(two_dirs, capsys):
    assert cli(["compare", str(two_dirs / "base"), str(two_dirs / "new"),
                "--filter", "depth=3"]) == 2
    err = capsys.readouterr().err
    assert "unknown filter key 'depth'" in err and "hidden_layers" in err
