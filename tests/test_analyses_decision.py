"""Decision-tree winner logic (§10.4) on hand-made candidates."""

from __future__ import annotations

import pandas as pd
import pytest
from profkit.analyses import decision


def _cands(rows):
    df = pd.DataFrame(rows, columns=["method", "batch_size", "hidden_layers", "test_pct",
                                     "s_per_epoch"])
    acc = df.assign(dataset="mnist", width=1000, flush_denormal=False, optimizer_impl="default",
                    implementation="paper", workers=1,
                    variant="")
    phase = acc.assign(phase="total")
    return decision.candidates(acc.drop(columns=["s_per_epoch"]), phase)


@pytest.mark.parametrize("rows,tol,winner", [
    # within 2 points of the best, the faster one wins
    ([("standard", 20, 3, 97.0, 10.0), ("mc-approx", 20, 3, 96.0, 8.0)], 2.0, "mc-approx"),
    # outside the tolerance, speed does not matter
    ([("standard", 20, 3, 97.0, 10.0), ("mc-approx", 20, 3, 90.0, 1.0)], 2.0, "standard"),
    # tolerance 0: only the most accurate qualifies
    ([("standard", 20, 3, 97.0, 10.0), ("mc-approx", 20, 3, 96.9, 1.0)], 0.0, "standard"),
    # no timing for the accurate candidate: the timed one within tolerance wins
    ([("standard", 20, 3, 97.0, None), ("dropout", 20, 3, 96.5, 5.0)], 2.0, "dropout"),
])
def test_winner_is_fastest_within_tolerance(rows, tol, winner):
    j = decision.judge(_cands(rows), tol)
    assert j.loc[j["winner"], "method"].tolist() == [winner]


def test_a_leaf_whose_candidates_have_no_accuracy_has_no_winner_and_says_why():
    # an interrupted whole-epoch run has no test accuracy; a results set may hold only that
    rows = [("standard", 1, 3, None, 100.0), ("mc-approx", 1, 3, None, 90.0)]
    lv = decision.leaves(decision.judge(_cands(rows)), ["mnist"]).set_index(["setting", "depth"])
    leaf = lv.loc[("SGD", "shallow")]
    assert leaf["winner"] is None and leaf["agrees"] is None
    assert leaf["evidence"] == "no candidate with a test accuracy" and leaf["candidates"] == 2


def test_leaves_split_batch_and_depth_and_say_when_empty():
    rows = [("standard", 1, 3, 95.0, 100.0), ("alsh-approx", 1, 3, 90.0, 300.0),
            ("standard", 20, 6, 96.0, 10.0), ("mc-approx", 20, 6, 96.5, 9.0)]
    lv = decision.leaves(decision.judge(_cands(rows)), ["mnist"]).set_index(["setting", "depth"])
    assert lv.loc[("SGD", "shallow"), "method"] == "standard"
    assert lv.loc[("SGD", "shallow"), "agrees"]  # paper: open problem without parallelism
    assert lv.loc[("mini-batch", "deep"), "method"] == "mc-approx"
    assert lv.loc[("mini-batch", "deep"), "agrees"]
    assert lv.loc[("mini-batch", "shallow"), "evidence"] == "no runs in this leaf"
    assert pd.isna(lv.loc[("SGD", "deep"), "winner"])


@pytest.mark.parametrize("batch,layers,leaf", [(1, 4, ("SGD", "shallow")),
                                               (1, 5, ("SGD", "deep")),
                                               (20, 1, ("mini-batch", "shallow")),
                                               (64, 7, ("mini-batch", "deep"))])
def test_leaf_of(batch, layers, leaf):
    assert decision.leaf_of(batch, layers) == leaf


def test_open_problem_leaf_without_standard_cannot_tell():
    rows = [("dropout", 1, 6, 50.0, 10.0)]
    lv = decision.leaves(decision.judge(_cands(rows)), ["mnist"]).set_index(["setting", "depth"])
    assert lv.loc[("SGD", "deep"), "agrees"] is None


def _run_frames(specs):
    """(run_id, method, workers, samples/s, test accuracy) -> runs, epochs, steps frames."""
    from analyses_frames import runs

    r = runs(*({"run_id": i, "method": m, "batch_size": 1, "workers": w, "n_train": 1000}
               for i, m, w, _, _ in specs))
    ep = pd.DataFrame({"run_id": [s[0] for s in specs], "epoch": 0,
                       "train_wall_ns": [int(1000 / s[3] * 1e9) for s in specs],
                       "test_accuracy": [s[4] for s in specs], "val_accuracy": 0.5,
                       "complete": True})
    st = pd.DataFrame([{"run_id": s[0], "epoch": 0, "step": k, "batch_size": 1}
                       for s in specs for k in range(1000)])
    return r, ep, st


def test_scaling_gives_speedup_and_efficiency_against_one_worker():
    from profkit.analyses import accuracy, parallel

    r, ep, st = _run_frames([("a1", "alsh-approx", 1, 100.0, 0.80),
                             ("a2", "alsh-approx", 2, 150.0, 0.79),
                             ("s1", "standard", 1, 50.0, 0.84)])
    sc = parallel.scaling(parallel.throughput(ep, st, r), accuracy.final_accuracy(ep, r))
    # standard has no multi-worker run: it is not a scaling row
    assert sc["method"].tolist() == ["alsh-approx", "alsh-approx"]
    two = sc[sc["workers"] == 2].iloc[0]
    assert two["samples_per_s"] == pytest.approx(150.0, rel=1e-6)
    assert two["speedup"] == pytest.approx(1.5, rel=1e-6)
    assert two["efficiency"] == pytest.approx(0.75, rel=1e-6)
    assert two["test_pct"] == pytest.approx(79.0)


def test_parallel_leaf_is_decided_by_multi_worker_runs_or_missing():
    from profkit.analyses import accuracy, parallel

    r, ep, st = _run_frames([("a1", "alsh-approx", 1, 100.0, 0.80),
                             ("a2", "alsh-approx", 2, 180.0, 0.80),
                             ("s1", "standard", 1, 50.0, 0.81),
                             ("s2", "standard", 2, 90.0, 0.81)])
    sc = parallel.scaling(parallel.throughput(ep, st, r), accuracy.final_accuracy(ep, r))
    lv = decision.leaves(decision.judge(_cands([])), ["mnist"], sc).set_index(
        ["setting", "depth"])
    leaf = lv.loc[("SGD", decision.PARALLEL)]
    assert leaf["method"] == "alsh-approx" and leaf["agrees"]
    assert "x 2 workers" in leaf["winner"] and "efficiency 90%" in leaf["evidence"]
    # Standard faster with two workers: the leaf disagrees with the paper
    r, ep, st = _run_frames([("a2", "alsh-approx", 2, 80.0, 0.80),
                             ("s2", "standard", 2, 90.0, 0.81)])
    sc = parallel.scaling(parallel.throughput(ep, st, r), accuracy.final_accuracy(ep, r))
    leaf = decision.leaves(decision.judge(_cands([])), ["mnist"], sc).set_index(
        ["setting", "depth"]).loc[("SGD", decision.PARALLEL)]
    assert leaf["method"] == "standard" and not leaf["agrees"]
    missing = decision.leaves(decision.judge(_cands([])), ["mnist"], sc.iloc[:0]).set_index(
        ["setting", "depth"]).loc[("SGD", decision.PARALLEL)]
    assert pd.isna(missing["winner"]) and "no multi-worker runs" in missing["evidence"]


def test_verdicts_leave_the_parallel_leaf_to_the_decision_section():
    from profkit.analyses import accuracy, parallel, verdicts

    r, ep, st = _run_frames([("a1", "alsh-approx", 1, 100.0, 0.80),
                             ("a2", "alsh-approx", 2, 180.0, 0.80)])
    sc = parallel.scaling(parallel.throughput(ep, st, r), accuracy.final_accuracy(ep, r))
    judged = decision.judge(_cands([("standard", 1, 3, 95.0, 100.0)]))
    v = verdicts.verdicts(judged, decision.leaves(judged, ["mnist"], sc))
    assert v["depth"].str.startswith("shallow (").tolist() == [True]  # one-process leaf only


def _final(method, acc, max_steps, optimizer_impl, run_id):
    return {"dataset": "mnist", "method": method, "batch_size": 20, "hidden_layers": 3,
            "width": 1000, "flush_denormal": False, "optimizer_impl": optimizer_impl,
            "implementation": "paper", "workers": 1, "variant": "", "run_id": run_id,
            "max_steps": max_steps, "test_accuracy": acc, "val_accuracy": acc, "epochs_run": 1}


def _time(method, s, optimizer_impl, extrapolated):
    return {**_final(method, 0, None, optimizer_impl, ""), "phase": "total", "s_per_epoch": s,
            "extrapolated": extrapolated}


def test_a_mixed_set_takes_accuracy_from_whole_epochs_and_time_from_timing_runs():
    from profkit.analyses import accuracy
    from profkit.analyses.computed import decision_inputs
    # a reproduction: whole-epoch accuracy runs (fused Adam) beside capped timing runs
    # (default Adam) whose accuracy after 150 steps means little
    final = pd.DataFrame([
        _final("standard", 0.96, None, "fused", "a"),
        _final("mc-approx", 0.95, None, "fused", "b"),
        _final("standard", 0.30, 150, "default", "c"),
        _final("mc-approx", 0.20, 150, "default", "d"),
        _final("dropout", 0.25, 150, "default", "e")])  # timed only: not a candidate
    table = pd.DataFrame([
        _time("standard", 40.0, "fused", False), _time("mc-approx", 60.0, "fused", False),
        _time("standard", 50.0, "default", True), _time("mc-approx", 45.0, "default", True),
        _time("dropout", 30.0, "default", True)])
    acc = accuracy.accuracy_table(final)
    c = decision.candidates(*decision_inputs(final, acc, table)).set_index("method")
    assert sorted(c.index) == ["mc-approx", "standard"]
    assert c.loc["standard", "test_pct"] == pytest.approx(96.0)  # not averaged with 30%
    assert c.loc["mc-approx", "s_per_epoch"] == 45.0  # the timing runs', not the accuracy run's
    j = decision.judge(c.reset_index(), 2.0)
    assert j.loc[j["winner"], "method"].tolist() == ["mc-approx"]
    # all capped (a quick look such as the demo): every run is its own candidate, as before
    capped = final[final["max_steps"].notna()]
    a2, t2 = decision_inputs(capped, accuracy.accuracy_table(capped), table)
    assert t2 is table and len(a2) == 3


def test_a_named_method_alone_in_its_leaf_decides_nothing():
    # mini-batch deep: the paper names MC-approx; winning without Standard beside it is vacuous
    alone = [("mc-approx", 20, 6, 95.0, 70.0)]
    lv = decision.leaves(decision.judge(_cands(alone)), ["mnist"]).set_index(["setting", "depth"])
    assert lv.loc[("mini-batch", "deep"), "method"] == "mc-approx"
    assert lv.loc[("mini-batch", "deep"), "agrees"] is None
    both = alone + [("standard", 20, 6, 95.5, 80.0)]
    lv = decision.leaves(decision.judge(_cands(both)), ["mnist"]).set_index(["setting", "depth"])
    assert lv.loc[("mini-batch", "deep"), "agrees"]  # faster within tolerance of Standard


def test_variants_are_candidates_of_their_own_and_published_ones_are_not_candidates():
    df = pd.DataFrame([("standard", 95.0, 100.0, ""),
                       ("standard", 84.0, 100.0, "as published"),
                       ("mc-approx", 96.0, 120.0, "lr=0.0001"),
                       ("mc-approx", 60.0, 90.0, "lr=0.001")],
                      columns=["method", "test_pct", "s_per_epoch", "variant"])
    acc = df.assign(dataset="mnist", batch_size=1, hidden_layers=3, width=1000,
                    flush_denormal=False, optimizer_impl="default", implementation="paper",
                    workers=1)
    c = decision.candidates(acc.drop(columns=["s_per_epoch"]), acc.assign(phase="total"))
    by = c.set_index("candidate")["test_pct"]
    # the default Standard is not averaged with its published variant (89.5), which is gone
    assert by.to_dict() == {"Standard S (b1)": 95.0, "MC-approx S (b1) [lr=0.0001]": 96.0,
                            "MC-approx S (b1) [lr=0.001]": 60.0}
    j = decision.judge(c, 2.0)
    assert j.loc[j["winner"], "candidate"].tolist() == ["Standard S (b1)"]  # faster, in 2 pts


def test_candidates_compared_are_timed_from_one_source():
    from profkit.analyses.computed import timing_runs
    keys = ["dataset", "method", "hidden_layers"]
    t = pd.DataFrame([_time("standard", 40.0, "fused", False),
                      _time("standard", 50.0, "default", True),
                      _time("mc-approx", 60.0, "fused", False),
                      _time("dropout", 5.0, "default", True)])  # timed only: no candidate
    acc = t[t["method"] != "dropout"]

    def times(tt):
        kept = timing_runs(tt, keys, acc)
        return sorted(zip(kept["method"], kept["s_per_epoch"], strict=True))

    # MC-approx has no timing run: both are timed from their whole-epoch runs
    assert times(t) == [("mc-approx", 60.0), ("standard", 40.0)]
    # both have timing runs: both from those
    t2 = pd.concat([t, pd.DataFrame([_time("mc-approx", 45.0, "default", True)])])
    assert times(t2) == [("mc-approx", 45.0), ("standard", 50.0)]
    # another depth is another comparison: its sources are chosen on their own
    deep = pd.DataFrame([{**_time("standard", 90.0, "fused", False), "hidden_layers": 7}])
    both = pd.concat([t2, deep])
    kept = timing_runs(both, keys, pd.concat([acc, deep]))
    assert sorted(kept["s_per_epoch"]) == [45.0, 50.0, 90.0]


def test_a_standard_variant_that_is_fastest_reads_is_standard():
    from profkit.analyses import verdicts
    from profkit.analyses.sections.verdicts import _speedup
    rows = [("standard", 95.0, 100.0, "lr=0.001"), ("mc-approx", 96.0, 120.0, "lr=0.0001")]
    acc = pd.DataFrame(rows, columns=["method", "test_pct", "s_per_epoch", "variant"]).assign(
        dataset="mnist", batch_size=1, hidden_layers=3, width=1000, flush_denormal=False,
        optimizer_impl="default", implementation="paper", workers=1)
    c = decision.candidates(acc.drop(columns=["s_per_epoch"]), acc.assign(phase="total"))
    judged = decision.judge(c)
    v = verdicts.verdicts(judged, decision.leaves(judged, ["mnist"])).iloc[0]
    assert v["fastest"] == "Standard S (b1) [lr=0.001]" and v["fastest_method"] == "standard"
    assert _speedup(v["fastest_method"], v["vs_standard"]) == "is Standard"
    assert _speedup("mc-approx", 1.25) == "1.25x faster"


def test_candidates_are_compared_at_the_depths_they_share():
    # Standard at 1 and 3 hidden layers, MC-approx at 3 only: compared at 3, where MC-approx
    # is faster; averaging Standard over its shallower run would have made it win
    rows = [("standard", 1, 1, 95.0, 50.0), ("standard", 1, 3, 95.0, 120.0),
            ("mc-approx", 1, 3, 95.5, 100.0)]
    c = _cands(rows).set_index("method")
    assert c.loc["standard", "depths"] == "3" and c.loc["standard", "s_per_epoch"] == 120.0
    j = decision.judge(c.reset_index())
    assert j.loc[j["winner"], "method"].tolist() == ["mc-approx"]
    # no depth in common: each keeps its own (shown in `depths`)
    c = _cands([("standard", 1, 1, 95.0, 50.0), ("mc-approx", 1, 3, 95.5, 100.0)])
    assert sorted(c["depths"]) == ["1", "3"]


def test_run_length_in_a_variant_label_does_not_split_a_candidate():
    from profkit.analyses import accuracy
    from profkit.analyses.computed import decision_inputs, without_run_length
    assert without_run_length("lr=0.001, max_steps=150, epochs=1") == "lr=0.001"
    assert without_run_length(None) == ""
    final = pd.DataFrame([_final("standard", 0.96, None, "fused", "a"),
                          {**_final("standard", 0.3, 150, "default", "c"),
                           "variant": "max_steps=150"}])
    table = pd.DataFrame([_time("standard", 40.0, "fused", False),
                          {**_time("standard", 50.0, "default", True),
                           "variant": "max_steps=150"}])
    acc, t = decision_inputs(final, accuracy.accuracy_table(final), table)
    c = decision.candidates(acc, t)
    assert c["s_per_epoch"].tolist() == [50.0]  # the timing run's, joined across the labels
