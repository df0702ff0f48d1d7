"""MC-approx: exact-backward oracles, unbiased layer estimates, counts, params, learning."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from profkit import load
from profkit.config import ConfigError, RunConfig, paper_config
from profkit.methods import METHODS
from profkit.methods.base import Standard
from profkit.methods.mc import MCApprox
from profkit.phases import NullMarker
from profkit.sampling import sample_size
from profkit.train import run

EXACT = {"sample_ratio": 1.0, "epsilon": 0.0}


pytestmark = pytest.mark.usefixtures("one_thread")


def _make(cls, seed: int = 0, in_features: int = 12, n_classes: int = 5, **cfg):
    base = dict(method="mc-approx" if cls is MCApprox else "standard", hidden_layers=2, width=16,
                batch_size=8)
    base.update(cfg)
    torch.manual_seed(seed)  # model initialisation, as the trainer does
    return cls(RunConfig(**base), in_features, n_classes, torch.Generator().manual_seed(seed + 1))


def _batch(seed: int = 0, n: int = 8, in_features: int = 12, n_classes: int = 5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, in_features, generator=g), torch.randint(n_classes, (n,), generator=g)


@pytest.mark.parametrize(("exact_at_full_k", "dense_above"), [(True, 1.0), (False, 1.0),
                                                               (False, 0.0)])
def test_full_k_without_mixing_is_the_exact_backward(exact_at_full_k, dense_above):
    """With k = n and eps = 0 every pair has p = 1: the gradients are autograd's, either by
    the exact shortcut or through the sampling code (gather or zero-scale, scale by 1)."""
    params = {**EXACT, "exact_at_full_k": exact_at_full_k, "dense_above": dense_above}
    mc = _make(MCApprox, method_params=params, hidden_layers=3)
    x, y = _batch()
    F.nll_loss(mc.forward_train(x), y).backward()
    model = mc.model
    want = torch.autograd.grad(F.nll_loss(model(x), y), list(model.parameters()))
    for p, g in zip(model.parameters(), want, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-7)


def test_first_layer_computes_no_grad_input():
    mc = _make(MCApprox)
    x, y = _batch()
    x.requires_grad_(False)
    F.nll_loss(mc.forward_train(x), y).backward()
    stats = {(r["layer"], r["stat"]) for r in mc.on_epoch_end(0)}
    assert (0, "sampled_pairs_grad_input") not in stats
    assert (0, "sampled_pairs_grad_weight") in stats and (1, "sampled_pairs_grad_input") in stats


@pytest.mark.parametrize("exact_at_full_k", [True, False])
def test_full_k_trains_step_for_step_like_standard(exact_at_full_k):
    params = {**EXACT, "exact_at_full_k": exact_at_full_k}
    mc = _make(MCApprox, method_params=params, hidden_layers=3, width=32)
    std = _make(Standard, hidden_layers=3, width=32)
    for s in range(30):
        x, y = _batch(seed=s)
        lm = mc.train_step(x, y, NullMarker())
        ls = std.train_step(x, y, NullMarker())
        assert float(lm) == pytest.approx(float(ls), rel=1e-5, abs=1e-6)
    for a, b in zip(mc.model.parameters(), std.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_default_params_sample_only_where_k_is_below_n():
    """The negative control of the oracle. Batch 8 and 5 classes are below min_k 10, so the
    grad_weight products and the output layer's grad_input are exact; hidden layer 1's
    grad_input (64 pairs, k = 57) is sampled, which changes layer 0's weight gradient only."""
    mc = _make(MCApprox, width=64)
    x, y = _batch()
    F.nll_loss(mc.forward_train(x), y).backward()
    model = mc.model
    want = torch.autograd.grad(F.nll_loss(model(x), y), list(model.parameters()))
    got = [p.grad for p in model.parameters()]  # w0, b0, w1, b1, w2, b2
    assert not torch.allclose(got[0], want[0], rtol=1e-3, atol=1e-6)
    assert not torch.allclose(got[1], want[1], rtol=1e-3, atol=1e-6)
    for i in (2, 3, 4, 5):
        torch.testing.assert_close(got[i], want[i])


def test_layer_estimates_are_unbiased_at_every_depth():
    """Each sampled product is conditionally unbiased given its (sampled) upstream gradient
    and linear in it, so the propagated estimates of every layer are unbiased."""
    mc = _make(MCApprox, hidden_layers=3, width=10, batch_size=10,
               method_params={"sample_ratio": 0.3, "min_k": 2})
    x, y = _batch(n=10)
    draws = [mc.layer_estimates(x, y) for _ in range(300)]
    first = draws[0]
    assert {(e.layer, e.quantity) for e in first} == (
        {(i, "grad_weight") for i in range(4)} | {(i, "grad_input") for i in (1, 2, 3)})
    for j, e in enumerate(first):
        est = torch.stack([d[j].estimate for d in draws])  # (draws, *shape)
        assert est.shape[1:] == e.exact.shape
        se = est.std(0) / len(draws) ** 0.5
        z = (est.mean(0) - e.exact) / se.clamp_min(1e-12)
        assert z.abs().max() < 5, (e.layer, e.quantity)
        assert float(est.std(0).max()) > 0  # the estimate is random: sampling happened
    assert mc.on_epoch_end(0) == []  # analysis draws are not counted as training


def test_on_epoch_end_count_pairs_and_k():
    mc = _make(MCApprox, width=40, batch_size=20, in_features=12, n_classes=10)
    steps = 200
    for s in range(steps):
        mc.train_step(*_batch(seed=s, n=20, n_classes=10), NullMarker())
    st = {(r["layer"], r["stat"]): r["value"] for r in mc.on_epoch_end(0)}
    assert st[(1, "k_grad_input")] == sample_size(40, 0.9, 10) == 36
    assert st[(0, "k_grad_weight")] == sample_size(20, 0.9, 10) == 18
    assert st[(2, "k_grad_input")] == 10 and st[(2, "sampled_pairs_grad_input")] == 10  # exact
    # The output layer's G rows (softmax - onehot) are never zero, so E[pairs] = 0.9 k + 0.1.
    # Bernoulli count variance <= n / 4 per step.
    pairs = st[(2, "sampled_pairs_grad_weight")]
    assert abs(pairs - (0.9 * 18 + 0.1)) < 5 * (20 / 4 / steps) ** 0.5
    assert 0 < st[(1, "sampled_pairs_grad_input")] < 40
    assert mc.on_epoch_end(1) == []  # reset after reporting


def test_the_k_exactly_10_reading():
    mc = _make(MCApprox, width=256, batch_size=20, in_features=12, n_classes=10,
               method_params={"sample_ratio": 0.0, "min_k": 10})
    mc.train_step(*_batch(n=20, n_classes=10), NullMarker())
    st = {(r["layer"], r["stat"]): r["value"] for r in mc.on_epoch_end(0)}
    assert st[(1, "k_grad_input")] == 10 and st[(0, "k_grad_weight")] == 10
    assert st[(1, "sampled_pairs_grad_input")] < 40


@pytest.mark.parametrize("depth", [1, 20])
def test_batch_one_and_any_depth(depth):
    """At batch 1 grad_weight has one pair: k = 1 = n, exact (one row of G times one of X)."""
    mc = _make(MCApprox, hidden_layers=depth, width=24, batch_size=1)
    for s in range(3):
        loss = mc.train_step(*_batch(seed=s, n=1), NullMarker())
        assert torch.isfinite(loss)
    st = {(r["layer"], r["stat"]): r["value"] for r in mc.on_epoch_end(0)}
    assert all(st[(i, "k_grad_weight")] == 1 == st[(i, "sampled_pairs_grad_weight")]
               for i in range(depth + 1))


@pytest.mark.parametrize(("params", "field"), [
    ({"sample_ratio": 1.5}, "sample_ratio"), ({"sample_ratio": -0.1}, "sample_ratio"),
    ({"sample_ratio": "half"}, "sample_ratio"), ({"min_k": 0}, "min_k"),
    ({"min_k": 2.5}, "min_k"), ({"epsilon": 1.1}, "epsilon"), ({"epsilon": float("nan")},
                                                                "epsilon"),
    ({"capping": "soft"}, "capping"), ({"exact_at_full_k": "yes"}, "exact_at_full_k"),
    ({"dense_above": 1.5}, "dense_above"), ({"k": 10}, "k")])
def test_bad_params_are_config_errors_naming_the_field(params, field):
    with pytest.raises(ConfigError, match=field):
        RunConfig(method="mc-approx", method_params=params)


def test_registered_with_paper_params():
    assert METHODS["mc-approx"] is MCApprox
    assert MCApprox.paper_params()["sample_ratio"] == 0.9
    cfg = paper_config("mc-approx", dataset="mnist-5k", batch_size=1)
    assert cfg.lr == 1e-4 and cfg.method_params["min_k"] == 10
    assert cfg.method_params["epsilon"] == 0.1
    assert paper_config("mc-approx", dataset="mnist-5k").batch_size == 20


def test_learns_on_mnist_5k_with_phases_and_stats(tmp_path):
    cfg = RunConfig(method="mc-approx", dataset="mnist-5k", hidden_layers=3, width=256,
                    batch_size=20, max_steps=200, warmup_steps=5, results=str(tmp_path))
    r = run(cfg, progress=False)
    t = load(r.path)
    assert r.status == "complete"
    assert t["epochs"].test_accuracy.iloc[0] > 0.75  # chance is 0.10
    assert set(t["phases"].phase) == {"data", "forward", "backward", "optimizer", "other"}
    ms = t["method_stats"]
    assert set(ms.layer) == {0, 1, 2, 3}
    k = ms[(ms.stat == "k_grad_input") & (ms.layer == 1)].value.iloc[0]
    assert k == sample_size(256, 0.9, 10)
