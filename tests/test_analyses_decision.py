"""Decision-tree winner logic (§10.4) on hand-made candidates."""

from __future__ import annotations

import pandas as pd
import pytest
from profkit.analyses import decision


def _cands(rows):
    df = pd.DataFrame(rows, columns=["method", "batch_size", "hidden_layers", "test_pct",
                                     "s_per_epoch"])
    acc = df.assign(dataset="mnist", width=1000, flush_denormal=False, optimizer_impl="default",
                    implementation="paper",
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
