"""profkit.errorprop: measured per-layer errors, oracles, c from data, and the study file."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from profkit.analyses import errorprop as aep

from profkit import errorprop as ep
from profkit.config import RunConfig
from profkit.methods import METHODS
from profkit.methods.base import LayerEstimate, TrainingMethod
from profkit.model import MLP


def _mlp(seed: int, in_f=64, width=128, depth=6) -> MLP:
    torch.manual_seed(seed)
    return MLP(in_f, width, depth, 10)


class ExactFake(TrainingMethod):
    """An 'approximate' method whose estimates are exact: every unit active."""

    name = "exact-fake"

    def layer_estimates(self, x, y):
        return [LayerEstimate(i, "activation", a, a.clone())
                for i, a in enumerate(ep.exact_hidden(self.model, x))]


class TopUnitsFake(TrainingMethod):
    """Keeps the exact top 5% units per layer: ALSH with perfect retrieval."""

    name = "top-units-fake"

    def layer_estimates(self, x, y):
        return ep.topk_units(self.model, x, 0.05)[0]


def _fake(cls, width=40, depth=3):
    cfg = RunConfig(width=width, hidden_layers=depth)
    torch.manual_seed(0)
    return cls(cfg, 30, 10, torch.Generator().manual_seed(1))


def _metric(df, method, metric):
    d = df[(df["method"] == method) & (df["metric"] == metric)].sort_values("layer")
    return d["value"].to_numpy()


@pytest.mark.parametrize("oracle", list(ep.ORACLES))
def test_oracle_keeping_everything_has_zero_error(oracle):
    m = _mlp(0, depth=4)
    x = torch.rand(6, 64)
    for est in ep.ORACLES[oracle](m, x, 1.0)[0]:
        assert ep.error_metrics(est.exact, est.estimate)["rel_error"] < 1e-12


def test_exact_method_measures_zero_error_and_infinite_c():
    df = ep.measure(_fake(ExactFake), torch.rand(5, 30), torch.zeros(5, dtype=torch.long),
                    oracles=())
    assert set(df["method"]) == {"exact-fake"} and set(df["trained_with"]) == {"exact-fake"}
    assert np.all(_metric(df, "exact-fake", "rel_error") == 0)
    assert np.all(_metric(df, "exact-fake", "error_to_estimate_median") == 0)
    # every unit is computed, so no layer has an inactive part: c = inf
    assert np.all(np.isinf(_metric(df, "exact-fake", "c_median")))


def test_method_path_matches_the_oracle_it_imitates():
    df = ep.measure(_fake(TopUnitsFake), torch.rand(5, 30), torch.zeros(5, dtype=torch.long),
                    oracles=("topk-units",))
    for metric in ("rel_error", "node_rel_error_median", "error_to_estimate_median"):
        np.testing.assert_allclose(_metric(df, "top-units-fake", metric),
                                   _metric(df, "topk-units", metric), rtol=1e-12)
    c = _metric(df, "top-units-fake", "c_median")
    assert math.isinf(c[0]) and np.all(np.isfinite(c[1:]))  # layer 0 reads the whole input


def test_error_grows_with_depth_for_fixed_fraction_topk():
    """Random Kaiming networks, 6 hidden layers, 5% of terms kept: the relative error of the
    propagated estimate increases layer by layer (median over 5 seeds), and keeping 50% of
    the terms is more accurate than 5% at every layer."""
    by_seed, half = [], []
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        m, x = _mlp(seed, width=96), torch.rand(6, 64, generator=gen)
        by_seed.append([ep.error_metrics(e.exact, e.estimate)["rel_error"]
                        for e in ep.topk_terms(m, x, 0.05)[0]])
        half.append([ep.error_metrics(e.exact, e.estimate)["rel_error"]
                     for e in ep.topk_terms(m, x, 0.5)[0]])
    med = np.median(by_seed, axis=0)
    assert np.all(np.diff(med) > 0), med
    assert med[-1] - med[0] > 0.1
    assert np.all(np.array(half) < np.array(by_seed))


@pytest.mark.parametrize("c", [2.0, 5.0])
def test_c_is_recovered_on_a_constructed_layer(c):
    """Each node has 5 of 100 input terms equal to 1 and 95 equal to 5 / (95 c): the top 5%
    are the active ones and they sum to exactly c times the rest."""
    m = MLP(100, 20, 1, 2)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        w = torch.full((20, 100), 5.0 / (95 * c))
        for j in range(20):
            w[j, torch.randperm(100, generator=gen)[:5]] = 1.0
        m.hidden[0].weight.copy_(w)
    x = torch.ones(3, 100)
    ests, cs = ep.topk_terms(m, x, 0.05)
    np.testing.assert_allclose(cs[0].numpy(), c, rtol=1e-6)
    q = ep.c_metrics(cs[0])
    assert q["c_q25"] == pytest.approx(c) and q["c_q75"] == pytest.approx(c)
    # one layer: the error relative to the estimate is the theorem's ((c+1)/c)^1 - 1 = 1/c
    err = ep.error_metrics(ests[0].exact, ests[0].estimate)
    assert err["error_to_estimate_median"] == pytest.approx(aep.theory_ratio(c, 1), rel=1e-5)


def test_bad_names_and_fraction_are_rejected(tiny_cfg):
    method = _fake(ExactFake)
    x, y = torch.rand(2, 30), torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match="valid oracles: topk-terms, topk-units"):
        ep.measure(method, x, y, oracles=("nope",))
    with pytest.raises(ValueError, match="fraction"):
        ep.measure(method, x, y, fraction=0.0)
    with pytest.raises(ValueError, match="valid methods"):
        ep.run_study(tiny_cfg(), depths=(1,), seeds=(0,), methods=("nope",))


def test_run_study_writes_a_study_the_analyses_read(tiny_cfg, tmp_path):
    cfg = tiny_cfg(width=16, batch_size=4)
    study = ep.run_study(cfg, depths=(1, 2), seeds=(0, 1), steps=3, batch=4,
                         methods=("standard",), results=tmp_path)
    assert ep.STUDY_FILE == aep.STUDY_FILE
    back = aep.read_study(tmp_path)
    pd.testing.assert_frame_equal(back, study, check_dtype=False)
    assert set(study["trained_with"]) == {"standard"}
    assert set(study["method"]) == set(ep.ORACLES)  # Standard is exact: oracles only
    assert set(zip(study["depth"], study["layer"], strict=True)) == {(1, 0), (2, 0), (2, 1)}
    comp = aep.theory_comparison(study)
    assert set(comp["method"]) == set(ep.ORACLES) and comp["error_to_estimate"].notna().all()
    assert aep.read_study(tmp_path / "missing").empty


@pytest.mark.skipif("alsh-approx" not in METHODS, reason="ALSH-approx not registered")
def test_alsh_with_every_unit_active_measures_zero_error(tiny_cfg):
    cfg = tiny_cfg(method="alsh-approx", width=16, hidden_layers=2, batch_size=4,
                   method_params={"cap_fraction": 1.0})
    from profkit.data import load_dataset

    ds = load_dataset(cfg.dataset)
    x, y = ep.measurement_batch(ds, 4, 0)
    df = ep.measure(ep.train_fresh(cfg, ds, 2), x, y, oracles=())
    assert len(_metric(df, "alsh-approx", "rel_error")) == 2
    assert np.all(_metric(df, "alsh-approx", "rel_error") < 1e-6)


@pytest.mark.skipif("mc-approx" not in METHODS, reason="MC-approx not registered")
def test_mc_with_full_sampling_measures_zero_error(tiny_cfg):
    cfg = tiny_cfg(method="mc-approx", width=16, hidden_layers=2, batch_size=4,
                   method_params={"sample_ratio": 1.0, "min_k": 1})
    from profkit.data import load_dataset

    ds = load_dataset(cfg.dataset)
    x, y = ep.measurement_batch(ds, 4, 0)
    df = ep.measure(ep.train_fresh(cfg, ds, 2), x, y, oracles=())
    assert set(df["quantity"]) == {"grad_input", "grad_weight"}
    assert np.all(_metric(df, "mc-approx", "rel_error") < 1e-5)
