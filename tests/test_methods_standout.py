"""Adaptive-Dropout (Standout): oracle against Standard, formula, beta adaptation, evaluation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from method_steps import CLASSES, IN, batches, train

from profkit.config import ConfigError, RunConfig
from profkit.data import load_dataset
from profkit.methods import get_method
from profkit.phases import NullMarker
from profkit.store import load
from profkit.train import run

ALWAYS_KEEP = {"alpha": 0.0, "beta_init": 40.0, "adapt_beta": False}  # sigmoid(40) == 1.0f


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist-5k")


def make(method: str, params: dict | None = None, hidden_layers: int = 3, width: int = 16,
         in_features: int = IN, n_classes: int = CLASSES, seed: int = 0, **cfg_kw):
    cfg = RunConfig(method=method, hidden_layers=hidden_layers, width=width,
                    method_params=params or {}, **cfg_kw)
    torch.manual_seed(seed)
    return get_method(method)(cfg, in_features, n_classes,
                              torch.Generator().manual_seed(seed + 1))




def stats(method) -> dict[tuple[int, str], float | None]:
    return {(r["layer"], r["stat"]): r["value"] for r in method.on_epoch_end(0)}


@pytest.mark.parametrize("pi_grad", [False, True])
@pytest.mark.parametrize("depth", [1, 4])
def test_keep_probability_one_equals_standard(pi_grad, depth):
    std = make("standard", hidden_layers=depth)
    so = make("adaptive-dropout", {**ALWAYS_KEEP, "pi_grad": pi_grad}, hidden_layers=depth)
    torch.testing.assert_close(train(so, 25, 6), train(std, 25, 6), rtol=1e-5, atol=1e-6)
    for pa, pb in zip(so.model.parameters(), std.model.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)
    s = stats(so)
    assert all(s[(i, "keep_rate")] == 1.0 for i in range(depth))


def _manual_forward(m, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The documented formula, written out: relu(z) * Bernoulli(sigmoid(alpha z + beta))."""
    for i, lin in enumerate(m.model.hidden):
        z = x @ lin.weight.T + lin.bias
        pi = torch.sigmoid(m.alpha * z + m.beta[i])
        x = F.relu(z) * torch.bernoulli(pi, generator=gen)
    return F.log_softmax(x @ m.model.output.weight.T + m.model.output.bias, dim=1)


def test_training_forward_matches_formula_and_reuses_z(monkeypatch):
    m = make("adaptive-dropout", {"p": 0.3, "alpha": 0.7, "adapt_beta": False})
    x = torch.randn(6, IN)
    gen = torch.Generator()
    gen.set_state(m.gen.get_state())
    expected = _manual_forward(m, x, gen)
    calls = []
    real_linear = F.linear
    monkeypatch.setattr(torch.nn.functional, "linear",
                        lambda *a: calls.append(1) or real_linear(*a))
    with torch.no_grad():
        got = m.forward_train(x)
    torch.testing.assert_close(got, expected)
    assert len(calls) == 4  # one matmul per layer: pi reuses z


def test_evaluate_is_the_expectation_and_does_not_sample():
    m = make("adaptive-dropout", {"p": 0.2, "alpha": 1.5})
    train(m, 5, 4)  # move beta away from its start
    x = torch.randn(5, IN)
    state = m.gen.get_state()
    h = x
    for i, lin in enumerate(m.model.hidden):
        z = lin(h)
        h = F.relu(z) * torch.sigmoid(1.5 * z + m.beta[i])
    expected = F.log_softmax(m.model.output(h), dim=1)
    torch.testing.assert_close(m.evaluate(x), expected)
    torch.testing.assert_close(m.evaluate(x), expected)
    assert torch.equal(m.gen.get_state(), state)


def _train_mnist(m, ds, steps: int, batch: int = 20, offset: int = 0) -> None:
    for s in range(offset, offset + steps):
        i = (s * batch) % (len(ds.y_train) - batch)
        m.train_step(ds.X_train[i:i + batch], ds.y_train[i:i + batch], NullMarker())


@pytest.mark.parametrize("p,beta_init", [(0.05, None), (0.05, 5.0), (0.3, -5.0)])
def test_reaches_target_keep_rate(mnist, p, beta_init):
    # beta starts at logit(p) or far away (pi ~ 1 or ~0); after 150 steps the keep rate over
    # the next 100 steps must be the target within 5% of p. Why 5%: the feedback is an
    # integral controller on the logit of each step's mean pi, so the time average of its
    # logit errors is exactly (beta_end - beta_start) / (gain * steps): measured <= 0.004
    # here, i.e. <= 0.4% of p (d pi / d logit = p (1 - p)); the rest is the Jensen gap of the
    # batch-to-batch spread (measured deviations: <= 0.5% of p). The sampled mask's mean must
    # match the mean pi within 5 binomial standard errors (steps x batch x width draws).
    m = make("adaptive-dropout", {"p": p, "beta_init": beta_init}, width=128,
             in_features=mnist.in_features, n_classes=mnist.n_classes)
    _train_mnist(m, mnist, 150)
    m.on_epoch_end(0)  # discard the transient
    _train_mnist(m, mnist, 100, offset=150)
    s = stats(m)
    tol_mask = 5 * math.sqrt(p * (1 - p) / (100 * 20 * 128))
    for layer in range(3):
        pi, kept = s[(layer, "pi_mean")], s[(layer, "keep_rate")]
        assert abs(pi - p) < 0.05 * p, (layer, pi)
        assert abs(kept - pi) < tol_mask, (layer, kept, pi)


def test_beta_adapts_per_layer_and_is_reported():
    m = make("adaptive-dropout", {"p": 0.1, "beta_init": 2.0}, hidden_layers=2)
    before = m.beta.clone()
    train(m, 20, 8)
    s = stats(m)
    assert all((m.beta < before).tolist())  # pi started near sigmoid(2) = 0.88 > 0.1
    assert [s[(i, "beta")] for i in range(2)] == pytest.approx(m.beta.tolist())
    frozen = make("adaptive-dropout", {"p": 0.1, "beta_init": 2.0, "adapt_beta": False})
    train(frozen, 5, 8)
    assert frozen.beta.tolist() == [2.0] * 3


def test_pi_grad_changes_gradients_not_values():
    grads, losses = [], []
    for pi_grad in (False, True):
        m = make("adaptive-dropout", {"p": 0.4, "adapt_beta": False, "pi_grad": pi_grad})
        x, y = next(batches(1, 8))
        losses.append(float(m.train_step(x, y, NullMarker())))
        grads.append(m.model.hidden[0].weight.grad.clone())
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)  # same draws, same forward value
    assert not torch.allclose(grads[0], grads[1])


@pytest.mark.parametrize("depth,batch", [(1, 1), (20, 1), (1, 7), (20, 7)])
def test_any_depth_and_batch(depth, batch):
    m = make("adaptive-dropout", {"p": 0.5}, hidden_layers=depth, width=10)
    assert all(math.isfinite(v) for v in train(m, 3, batch))
    assert m.evaluate(torch.randn(batch, IN)).shape == (batch, CLASSES)
    assert len(m.on_epoch_end(0)) == 3 * depth


@pytest.mark.parametrize("params,match", [
    ({"p": 0}, r"p must be in \(0, 1\]"),
    ({"p": -0.1}, r"p must be in \(0, 1\]"),
    ({"alpha": float("nan")}, "alpha must be a finite number"),
    ({"beta_init": 1e3}, r"beta_init must be in \[-50, 50\]"),
    ({"beta_gain": 0}, r"beta_gain must be in \(0, 2\]"),
    ({"beta_gain": 3}, r"beta_gain must be in \(0, 2\]"),
    ({"adapt_beta": "yes"}, "adapt_beta must be true or false"),
    ({"pi_grad": 1}, "pi_grad must be true or false"),
    ({"target": 0.05}, r"no parameter\(s\) \['target'\]"),
])
def test_bad_params_raise_config_error(params, match):
    with pytest.raises(ConfigError, match=match):
        RunConfig(method="adaptive-dropout", method_params=params)


def test_run_writes_keep_rate_and_beta(tmp_path):
    cfg = RunConfig(method="adaptive-dropout", max_steps=50, width=128, threads=1,
                    results=str(tmp_path))
    assert run(cfg, progress=False).status == "complete"
    st = load(tmp_path)["method_stats"]
    assert set(st["stat"]) == {"pi_mean", "keep_rate", "beta"}
    assert sorted(st["layer"].unique()) == [0, 1, 2]
    assert st["value"].notna().all() and not st["diagnostic"].any()


def test_learns_on_mnist_5k(tmp_path):
    # Target keep rate 0.5: at the paper's 0.05 only ~13 of 256 units carry signal per sample
    # and 300 steps reach ~30% (measured; ~50% after 2000 steps): slower, not broken.
    cfg = RunConfig(method="adaptive-dropout", width=256, batch_size=20, epochs=2,
                    max_steps=300, flush_denormal=True, threads=1, method_params={"p": 0.5},
                    results=str(tmp_path))
    run(cfg, progress=False)
    assert load(tmp_path)["epochs"]["test_accuracy"].iloc[-1] > 0.5
