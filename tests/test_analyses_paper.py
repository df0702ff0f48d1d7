"""Paper comparison: matching on dataset/method/setting/depth/metric and stated differences."""

from __future__ import annotations

import pandas as pd
import pytest
from profkit.analyses import paper


def _acc(dataset, method, batch, layers=3, width=1000, pct=90.0, epochs=50):
    return pd.DataFrame([{"dataset": dataset, "method": method, "batch_size": batch,
                          "hidden_layers": layers, "width": width, "variant": "",
                          "test_pct": pct, "epochs_run": epochs, "flush_denormal": False,
                          "optimizer_impl": "default"}])


_EMPTY_PHASES = pd.DataFrame(columns=["dataset", "method", "batch_size", "hidden_layers",
                                      "width", "variant", "phase", "s_per_epoch",
                                      "extrapolated"])


def test_published_table_is_shipped_with_the_package():
    pub = paper.load_published()
    row = pub[(pub["table"] == "Table 2") & (pub["dataset"] == "MNIST")
              & (pub["method"] == "MC-approx") & (pub["setting"] == "M")]
    assert row["value"].iloc[0] == pytest.approx(98.10)


@pytest.mark.parametrize("dataset,method,batch,layers,paper_value", [
    ("mnist", "mc-approx", 20, 3, 98.10),        # MC-approxM, Table 2
    ("mnist", "mc-approx", 1, 3, 98.38),         # MC-approxS, Table 2
    ("fashion-mnist", "standard", 1, 3, 73.64),  # StandardS, Table 2
    ("kmnist", "dropout", 1, 3, 9.84),
])
def test_table2_matching(dataset, method, batch, layers, paper_value):
    m = paper.measured_metrics(_acc(dataset, method, batch, layers), _EMPTY_PHASES)
    cmp = paper.compare(m, paper.load_published())
    t2 = cmp[cmp["table"] == "Table 2"]
    assert t2["paper"].tolist() == [pytest.approx(paper_value)]
    assert bool(t2["comparable"].iloc[0])


@pytest.mark.parametrize("batch", [64, 5])
def test_other_batch_sizes_have_no_published_counterpart(batch):
    m = paper.measured_metrics(_acc("mnist", "standard", batch), _EMPTY_PHASES)
    assert paper.compare(m, paper.load_published()).empty


@pytest.mark.parametrize("kw,needle", [
    (dict(dataset="mnist-5k"), "not comparable"),
    (dict(width=256), "width 256"),
    (dict(epochs=2), "2 epoch(s) (paper 50)"),
])
def test_differences_are_stated(kw, needle):
    args = dict(dataset="mnist", method="standard", batch=1) | kw
    m = paper.measured_metrics(_acc(args.pop("dataset"), args.pop("method"), args.pop("batch"),
                                    **args), _EMPTY_PHASES)
    cmp = paper.compare(m, paper.load_published())
    assert len(cmp) and not cmp["comparable"].any()
    assert all(needle in d for d in cmp["differences"])


def test_timings_match_tables_3_and_4_and_always_note_hardware():
    ph = pd.DataFrame([{"dataset": "mnist", "method": "standard", "batch_size": 20,
                        "hidden_layers": 3, "width": 1000, "variant": "", "phase": p,
                        "s_per_epoch": s, "extrapolated": False}
                       for p, s in (("total", 20.0), ("forward", 2.0), ("backward", 5.0),
                                    ("optimizer", 13.0))])
    cmp = paper.compare(paper.measured_metrics(_acc("mnist", "standard", 20).iloc[:0], ph),
                        paper.load_published()).set_index("metric")
    assert cmp.loc["epoch_total", "paper"] == pytest.approx(39.310)
    assert cmp.loc["backpropagation", "paper"] == pytest.approx(23.143)
    assert "optimizer" not in cmp.index
    assert cmp["differences"].str.contains("different CPU").all()


def test_protocol_differences_name_batch_epochs_hardware_dataset():
    runs = pd.DataFrame({"dataset": ["mnist-5k"], "batch_size": [20], "epochs_done": [2],
                         "max_steps": [400], "width": [256], "flush_denormal": [False]})
    env = pd.DataFrame({"cpu_model": ["Some CPU"]})
    text = " ".join(paper.protocol_differences(runs, env))
    for needle in ("Batch sizes run: 20", "Epochs run: 2-2 (paper: 50)", "capped at 400",
                   "Some CPU", "i9-9920X", "mnist-5k", "width"):
        assert needle.lower() in text.lower()
