"""Accuracy analyses: Table 2, last-epoch choice, confusion shares and label shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from analyses_frames import epochs, runs
from profkit.analyses import accuracy


def _confusion(run_id: str, mat: np.ndarray, epoch: int = 0, split: str = "test"):
    k = mat.shape[0]
    t, p = np.divmod(np.arange(k * k), k)
    return pd.DataFrame({"run_id": run_id, "epoch": epoch, "split": split, "true_label": t,
                         "pred_label": p, "count": mat.reshape(-1)})


def test_final_accuracy_is_last_evaluated_epoch():
    r = runs({"run_id": "a"})
    ep = epochs("a", [0.5, 0.8, None])  # the last epoch diverged: no evaluation
    f = accuracy.final_accuracy(ep, r).iloc[0]
    assert f["test_accuracy"] == 0.8 and f["epoch"] == 1 and f["epochs_run"] == 3


@pytest.mark.parametrize("accs,mean,sd", [([0.9, 0.8], 85.0, 7.0710678), ([0.5], 50.0, None)])
def test_accuracy_table_means_repeats_in_percent(accs, mean, sd):
    r = runs(*({"run_id": f"r{i}", "repeat": i} for i in range(len(accs))))
    ep = pd.concat([epochs(f"r{i}", [a]) for i, a in enumerate(accs)])
    row = accuracy.accuracy_table(accuracy.final_accuracy(ep, r)).iloc[0]
    assert row["test_pct"] == pytest.approx(mean) and row["n_runs"] == len(accs)
    assert pd.isna(row["sd_pct"]) if sd is None else row["sd_pct"] == pytest.approx(sd)


def test_accuracy_table_keeps_batch_sizes_apart():
    r = runs({"run_id": "s", "batch_size": 1}, {"run_id": "m", "batch_size": 20})
    ep = pd.concat([epochs("s", [0.9]), epochs("m", [0.7])])
    t = accuracy.accuracy_table(accuracy.final_accuracy(ep, r)).set_index("batch_size")
    assert t.loc[1, "test_pct"] == pytest.approx(90) and t.loc[20, "test_pct"] == pytest.approx(70)


def test_label_shares_use_the_last_epoch_and_test_split():
    r = runs({"run_id": "a"})
    early = _confusion("a", np.array([[5, 0], [0, 5]]), epoch=0)
    val = _confusion("a", np.array([[0, 10], [0, 10]]), epoch=1, split="val")
    last = _confusion("a", np.array([[3, 1], [2, 4]]), epoch=1)
    sh = accuracy.label_shares(pd.concat([early, val, last]), r).set_index("pred_label")
    assert sh.loc[0, "share"] == pytest.approx(0.5) and sh.loc[1, "share"] == pytest.approx(0.5)


@pytest.mark.parametrize("mat,labels", [
    (np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5]]), 3.0),  # uniform predictions: all 3 labels
    (np.array([[5, 0, 0], [5, 0, 0], [5, 0, 0]]), 1.0),  # collapsed onto one label (§10.3)
])
def test_prediction_entropy_counts_effective_labels(mat, labels):
    r = runs({"run_id": "a"})
    ent = accuracy.prediction_entropy(accuracy.label_shares(_confusion("a", mat), r))
    assert ent["effective_labels"].iloc[0] == pytest.approx(labels)


def test_confusion_rows_are_normalised_per_true_label():
    r = runs({"run_id": "a"})
    c = accuracy.confusion_matrices(_confusion("a", np.array([[3, 1], [0, 2]])), r)
    c = c.set_index(["true_label", "pred_label"])["share"]
    assert c[(0, 0)] == pytest.approx(0.75) and c[(1, 1)] == pytest.approx(1.0)


def test_a_capped_row_says_its_steps_not_an_epoch():
    import pandas as pd
    from profkit.analyses.accuracy import stopped_by_cap
    from profkit.analyses.sections.accuracy import trained
    rows = pd.DataFrame({"epochs": [1, 2, 1], "max_steps": [150.0, 10_000.0, float("nan")],
                         "steps_done": [150.0, 7_000.0, 60_000.0]})
    said = [trained(e, c, s) for e, c, s in
            zip(rows["epochs"], stopped_by_cap(rows), rows["steps_done"], strict=True)]
    assert said[0] == "150 steps (capped)"
    assert said[1] == "2"  # a cap the run never reached
    assert said[2] == "1"


def test_accuracy_figures_leave_out_capped_runs_only_beside_whole_epoch_ones():
    import pandas as pd
    from profkit.analyses.accuracy import whole_epoch_runs
    f = pd.DataFrame({"run_id": ["w", "c", "n"], "max_steps": [None, 150.0, 10_000.0],
                      "steps_done": [60_000, 150, 3_000]})
    kept, dropped = whole_epoch_runs(f)
    assert kept["run_id"].tolist() == ["w", "n"] and dropped  # "n" never reached its cap
    kept, dropped = whole_epoch_runs(f[f["run_id"] == "c"])  # a quick look: all capped
    assert kept["run_id"].tolist() == ["c"] and not dropped


def test_most_accurate_finding_skips_capped_runs_beside_whole_epoch_ones():
    import pandas as pd
    from profkit.analyses import findings
    acc = pd.DataFrame({"dataset": "mnist", "method": ["standard", "mc-approx"],
                        "batch_size": 20, "hidden_layers": 3, "test_pct": [95.0, 96.0],
                        "epochs_run": 1, "max_steps": [None, 150.0], "steps_done": [3000, 150]})
    text = " ".join(findings._accuracy(acc))
    assert "Standard M (b20)" in text and "MC-approx" not in text
    only_capped = acc.iloc[[1]]
    assert "MC-approx M (b20)" in " ".join(findings._accuracy(only_capped))
