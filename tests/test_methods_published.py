"""`as_published` variants (docs/published-variants.md): each published behaviour observed
directly, and the default (profkit's) behaviour and run ids unchanged."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from method_steps import CLASSES, IN, batches, train
from torch import nn

from profkit.config import ConfigError, RunConfig, paper_config
from profkit.methods import METHODS, get_method
from profkit.methods.published import unregistered_layers
from profkit.methods.standout import PUBLISHED_ALPHA, PUBLISHED_BETA
from profkit.phases import NullMarker
from profkit.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

PUBLISHED = {"as_published": True}

# Computed from main before as_published existed (git archive of main, same code path): the
# default config of every method and its paper preset must keep these ids, both at today's
# default of one thread and with threads=None (the ids runs had before that default).
PINNED = {
    "standard": ("standard-mnist-5k-h3-w1000-b20-fe21147b6b-r0",
                 "standard-fashion-mnist-h3-w1000-b1-cf0ecdb5e2-r0",
                 "standard-mnist-5k-h3-w1000-b20-25b8590ace-r0",
                 "standard-fashion-mnist-h3-w1000-b1-eda3ffaaf2-r0"),
    "dropout": ("dropout-mnist-5k-h3-w1000-b20-1edd1b998b-r0",
                "dropout-fashion-mnist-h3-w1000-b1-b504d81ae1-r0",
                "dropout-mnist-5k-h3-w1000-b20-4f7f1f9555-r0",
                "dropout-fashion-mnist-h3-w1000-b1-2b87cae02b-r0"),
    "adaptive-dropout": ("adaptive-dropout-mnist-5k-h3-w1000-b20-e9302e74e6-r0",
                         "adaptive-dropout-fashion-mnist-h3-w1000-b1-b97cf71054-r0",
                         "adaptive-dropout-mnist-5k-h3-w1000-b20-710c8b1e76-r0",
                         "adaptive-dropout-fashion-mnist-h3-w1000-b1-8ace579cfa-r0"),
    "mc-approx": ("mc-approx-mnist-5k-h3-w1000-b20-2401e28c2e-r0",
                  "mc-approx-fashion-mnist-h3-w1000-b20-78f71faa3e-r0",
                  "mc-approx-mnist-5k-h3-w1000-b20-de5ab28392-r0",
                  "mc-approx-fashion-mnist-h3-w1000-b20-1091cbc2eb-r0"),
    "alsh-approx": ("alsh-approx-mnist-5k-h3-w1000-b20-ffb240f16e-r0",
                    "alsh-approx-fashion-mnist-h3-w1000-b1-aa6fdb009b-r0",
                    "alsh-approx-mnist-5k-h3-w1000-b20-73e5825818-r0",
                    "alsh-approx-fashion-mnist-h3-w1000-b1-02e7ecd5e6-r0"),
}


def make(method: str, params: dict | None = None, hidden_layers: int = 3, width: int = 16,
         in_features: int = IN, seed: int = 0, **cfg_kw):
    """A method instance initialised as the trainer does (torch seed, then the generator)."""
    cfg = RunConfig(method=method, hidden_layers=hidden_layers, width=width,
                    method_params=params or {}, **cfg_kw)
    torch.manual_seed(seed)
    return get_method(method)(cfg, in_features, CLASSES, torch.Generator().manual_seed(seed + 1))


def snapshot(layers) -> list[torch.Tensor]:
    return [p.detach().clone() for lin in layers for p in lin.parameters()]


def adam_steps(opt) -> set[int]:
    """Steps Adam has taken: torch keeps one `step` per parameter, the lazy optimizer a global t."""
    if hasattr(opt, "t"):
        return {opt.t}
    return {int(st["step"]) for st in opt.state.values()}


def moments_are_zero(opt) -> bool:
    return all(torch.count_nonzero(v) == 0 for st in opt.state.values()
               for k, v in st.items() if k != "step")


# --- the default is unchanged ------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(PINNED))
def test_default_and_paper_run_ids_are_unchanged(method):
    default_id, paper_id, unthreaded_id, unthreaded_paper_id = PINNED[method]
    assert RunConfig(method=method).run_id == default_id
    assert paper_config(method, dataset="fashion-mnist").run_id == paper_id
    assert RunConfig(method=method, threads=None).run_id == unthreaded_id
    assert paper_config(method, dataset="fashion-mnist", threads=None).run_id == \
        unthreaded_paper_id
    explicit = RunConfig(method=method, method_params={"as_published": False})
    assert explicit.run_id == default_id
    assert RunConfig(method=method, method_params=PUBLISHED).run_id != default_id


@pytest.mark.parametrize("method", sorted(METHODS))
def test_default_methods_train_every_parameter_with_one_optimizer(method):
    m = make(method, batch_size=4)
    assert m.params.as_published is False
    opt = m.optimizer
    for epoch in range(3):
        m.on_epoch_start(epoch)
    assert m.optimizer is opt  # no epoch-start work unless as published
    assert [id(p) for p in m.trained_parameters()] == [id(p) for p in m.model.parameters()]


def test_default_standard_is_a_plain_relu_kaiming_mlp_bit_for_bit():
    # An independent reference: nn.Linear layers initialised in the same order with Kaiming
    # uniform for ReLU and zero biases, ReLU, log-softmax over classes, torch Adam.
    std = make("standard", width=24)
    torch.manual_seed(0)
    sizes = [IN, 24, 24, 24, CLASSES]
    ref = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    for lin in ref:
        nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
    opt = torch.optim.Adam([p for lin in ref for p in lin.parameters()], lr=1e-3, eps=1e-8)
    ref_losses = []
    for x, y in batches(15, 5):
        h = x
        for lin in ref[:-1]:
            h = F.relu(lin(h))
        loss = F.nll_loss(F.log_softmax(ref[-1](h), dim=1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ref_losses.append(loss.item())
    assert train(std, 15, 5) == ref_losses
    for a, b in zip(std.model.parameters(), (p for lin in ref for p in lin.parameters()),
                    strict=True):
        assert torch.equal(a, b)


# --- Standard: sigmoid and N(0, 1) --------------------------------------------------------

def _layer_inputs(method, x: torch.Tensor) -> list[torch.Tensor]:
    """The input each layer received in one evaluation (hidden activations from layer 1 on)."""
    seen: list[torch.Tensor] = []
    hooks = [lin.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
             for lin in method.model.layers]
    method.evaluate(x)
    for h in hooks:
        h.remove()
    return seen


def test_published_standard_uses_sigmoid_hidden_units():
    x = torch.randn(64, IN, generator=torch.Generator().manual_seed(5))
    pub, default = make("standard", PUBLISHED), make("standard")
    for method, act in ((pub, torch.sigmoid), (default, F.relu)):
        inputs = _layer_inputs(method, x)
        for lin, a, nxt in zip(method.model.layers, inputs, inputs[1:], strict=False):
            torch.testing.assert_close(nxt, act(lin(a)))
    acts = torch.cat([a.flatten() for a in _layer_inputs(pub, x)[1:]])
    assert acts.min() >= 0 and acts.max() <= 1  # sigmoid range (float32 can reach 0 or 1)
    assert ((acts > 0) & (acts < 1)).float().mean() > 0.5  # mostly strictly inside
    relu_acts = torch.cat([a.flatten() for a in _layer_inputs(default, x)[1:]])
    assert (relu_acts == 0).any()  # ReLU zeroes units; a sigmoid never does for finite z


def test_published_standard_initialises_weights_from_standard_normal():
    # A 400 x 400 hidden-to-hidden weight: n = 160000 draws. The sample mean's standard error
    # is 1/sqrt(n) = 0.0025 and the sample std's is about 1/sqrt(2n) = 0.0018; 5 of each.
    n_in = 300
    pub = make("standard", PUBLISHED, width=400, in_features=n_in)
    default = make("standard", width=400, in_features=n_in)
    w = pub.model.hidden[1].weight.detach().double()
    n = w.numel()
    assert abs(float(w.mean())) < 5 / math.sqrt(n)
    assert abs(float(w.std()) - 1.0) < 5 / math.sqrt(2 * n)
    for lin in pub.model.layers:
        assert torch.count_nonzero(lin.bias) == 0
    # profkit's Kaiming uniform for ReLU: std sqrt(2 / fan_in) = 0.0707 for fan_in 400. For a
    # uniform distribution (kurtosis 1.8) the sample std's relative error is sqrt(0.8 / 4n).
    wd = default.model.hidden[1].weight.detach().double()
    assert abs(float(wd.std()) / math.sqrt(2 / 400) - 1) < 5 * math.sqrt(0.8 / (4 * n))


# --- Dropout and Adaptive-Dropout: untrained layers, optimizer per epoch ------------------

# p = 0.5: with 16 units a step almost always keeps some unit in every layer, so gradients
# reach the first layer (the behaviour tested does not depend on p)
PUBLIC_NET = [("dropout", {"impl": "gather", "p": 0.5}, {}),
              ("dropout", {"impl": "mask", "p": 0.5}, {}),
              ("dropout", {"impl": "gather", "p": 0.5}, {"implementation": "tuned"}),
              ("adaptive-dropout", {}, {})]


@pytest.mark.parametrize("method,params,cfg_kw", PUBLIC_NET)
def test_published_leaves_hidden_to_hidden_layers_untrained(method, params, cfg_kw):
    pub = make(method, {**params, **PUBLISHED}, hidden_layers=4, batch_size=3, **cfg_kw)
    frozen = unregistered_layers(pub.model)
    assert frozen == pub.model.hidden[1:]  # every hidden layer after the first
    trained = [pub.model.hidden[0], pub.model.output]
    before_frozen, before_trained = snapshot(frozen), snapshot(trained)
    train(pub, 30, 3)
    for a, b in zip(snapshot(frozen), before_frozen, strict=True):
        assert torch.equal(a, b)  # bit-identical: no optimizer ever touches them
    for a, b in zip(snapshot(trained), before_trained, strict=True):
        assert not torch.equal(a, b)
    trained_ids = {id(p) for p in pub.trained_parameters()}
    assert trained_ids == {id(p) for lin in trained for p in lin.parameters()}
    # the default trains every layer
    default = make(method, params, hidden_layers=4, batch_size=3, **cfg_kw)
    before = snapshot(default.model.hidden[1:])
    train(default, 30, 3)
    assert all(not torch.equal(a, b) for a, b in zip(snapshot(default.model.hidden[1:]),
                                                    before, strict=True))


@pytest.mark.parametrize("method", ["dropout", "adaptive-dropout"])
def test_published_public_net_keeps_torchs_own_linear_initialisation(method):
    # The public Net never re-initialises: nn.Linear's weights and biases are uniform on
    # +-1/sqrt(fan_in), variance 1 / (3 fan_in), a sixth of Kaiming's 2 / fan_in. A 400 x 400
    # weight: n = 160000 draws; the sample std's relative error is sqrt(0.8 / 4n) (uniform
    # kurtosis 1.8): 0.11%, bounded at 5 of them.
    pub = make(method, PUBLISHED, width=400, in_features=300)
    default = make(method, {}, width=400, in_features=300)
    w, wd = (m.model.hidden[1].weight.detach().double() for m in (pub, default))
    tol = 5 * math.sqrt(0.8 / (4 * w.numel()))
    assert abs(float(w.std()) / math.sqrt(1 / (3 * 400)) - 1) < tol
    assert float(w.abs().max()) <= 1 / math.sqrt(400)
    assert abs(float(wd.std()) / math.sqrt(2 / 400) - 1) < tol  # the default: Kaiming
    bias = pub.model.hidden[1].bias.detach()
    assert torch.count_nonzero(bias) == bias.numel() and float(bias.abs().max()) <= 0.05
    assert torch.count_nonzero(default.model.hidden[1].bias) == 0


@pytest.mark.parametrize("method,params,cfg_kw", PUBLIC_NET)
def test_published_recreates_the_optimizer_at_each_epoch_start(method, params, cfg_kw):
    pub = make(method, {**params, **PUBLISHED}, batch_size=3, **cfg_kw)
    train(pub, 5, 3)
    old = pub.optimizer
    assert adam_steps(old) == {5} and not moments_are_zero(old)
    pub.on_epoch_start(1)
    assert pub.optimizer is not old and moments_are_zero(pub.optimizer)
    assert adam_steps(pub.optimizer) <= {0}  # torch Adam: no state yet; lazy: t = 0
    train(pub, 2, 3)
    assert adam_steps(pub.optimizer) == {2}  # bias correction restarted with the moments


def test_trainer_calls_the_epoch_start_hook_so_adam_restarts_every_epoch(tmp_path):
    # mnist-5k: 4000 training images, batch 100 = 40 steps per epoch, 3 epochs.
    kw = dict(method="dropout", dataset="mnist-5k", hidden_layers=2, width=32, batch_size=100,
              epochs=3, results=str(tmp_path))
    counts = {}
    for published in (False, True):
        cfg = RunConfig(method_params={"as_published": published}, **kw)
        t = Trainer(cfg, progress=False)
        assert t.run().status == "complete"
        counts[published] = adam_steps(t.method.optimizer)
    assert counts == {False: {120}, True: {40}}


# --- Adaptive-Dropout: the ReLU keep probability ------------------------------------------

def test_published_keep_probability_is_the_public_relu_formula():
    pub = make("adaptive-dropout", PUBLISHED, width=64)
    x = torch.randn(50, IN, generator=torch.Generator().manual_seed(2))
    lin = pub.model.hidden[0]
    pi = pub.published_keep_prob(x, lin)
    raw = F.relu(PUBLISHED_ALPHA * (x @ lin.weight.t()) + PUBLISHED_BETA)  # no bias, as public
    torch.testing.assert_close(pi, raw.clamp(max=1.0))
    assert torch.all(pi[(x @ lin.weight.t()) >= 0] == 1.0)  # every active unit is kept


def test_published_keep_rate_is_about_98_percent_for_small_pre_activations():
    # Fixed input: x = identity, so x W^T = W^T, and W holds n pre-activations z = s * q_j
    # with q_j the standard normal quantiles. pi = 1 for z >= 0 and 1 + z / 2 for -2 < z < 0,
    # so E[pi] = 1 + (1/2) E[z; z < 0] = 1 - s phi(0) / 2: 0.980 for s = 0.1.
    n, s = 4000, 0.1
    q = torch.distributions.Normal(0.0, 1.0).icdf((torch.arange(n) + 0.5) / n)
    pub = make("adaptive-dropout", PUBLISHED, hidden_layers=1, width=n, in_features=1)
    lin = pub.model.hidden[0]
    with torch.no_grad():
        lin.weight.copy_((s * q).unsqueeze(1))  # (width, 1)
        lin.bias.zero_()
    x = torch.ones(1, 1)
    pi = pub.published_keep_prob(x, lin)
    expected = 1 - s / (2 * math.sqrt(2 * math.pi))
    assert abs(expected - 0.980) < 5e-4
    assert abs(float(pi.mean()) - expected) < 1e-3  # quantile grid: deterministic error
    # sampled masks: 200 draws of n units, mean within 5 binomial standard errors of mean(pi)
    x = torch.ones(200, 1)
    pub.forward_train(x)
    rows = {r["stat"]: r["value"] for r in pub.on_epoch_end(0)}
    var = float((pi * (1 - pi)).mean()) / (200 * n)
    assert abs(rows["keep_rate"] - float(pi.mean())) < 5 * math.sqrt(var) + 1e-9
    assert rows["beta"] == PUBLISHED_BETA  # fixed, not adapted


def test_published_adaptive_dropout_evaluates_the_expectation_of_its_mask():
    pub = make("adaptive-dropout", PUBLISHED)
    x = torch.randn(20, IN, generator=torch.Generator().manual_seed(4))
    h = x
    for lin in pub.model.hidden:
        h = F.relu(lin(h)) * pub.published_keep_prob(h, lin)
    expected = F.log_softmax(pub.model.output(h), dim=1)
    torch.testing.assert_close(pub.evaluate(x), expected)
    assert torch.equal(pub.evaluate(x), pub.evaluate(x))  # no sampling at evaluation


def test_published_adaptive_dropout_refuses_its_own_slope_and_beta():
    for extra in ({"alpha": 2.0}, {"beta_init": 0.0}, {"pi_grad": True}):
        with pytest.raises(ConfigError, match="as_published=true uses the public"):
            RunConfig(method="adaptive-dropout", method_params={**PUBLISHED, **extra})


# --- MC-approx: clamp capping and log-softmax over the batch ------------------------------

def test_published_mc_uses_clamp_capping_and_records_it():
    cfg = RunConfig(method="mc-approx", method_params=PUBLISHED)
    assert cfg.method_params["capping"] == "clamp"
    assert RunConfig(method="mc-approx").method_params["capping"] == "iterative"


def test_published_mc_normalises_log_softmax_over_the_batch():
    pub, default = make("mc-approx", PUBLISHED), make("mc-approx")
    x, y = next(batches(1, 20))
    for method, dim in ((pub, 0), (default, 1)):
        logp = method.forward_train(x)  # (batch, classes)
        # normalised over `dim`: exp sums to 1 along it, and not along the other one
        torch.testing.assert_close(logp.exp().sum(dim), torch.ones(logp.shape[1 - dim]))
        assert not torch.allclose(logp.exp().sum(1 - dim), torch.ones(logp.shape[dim]))
        loss = method.train_step(x, y, NullMarker())  # forward is exact: same logits as eval
    # evaluation stays a distribution over classes
    torch.testing.assert_close(pub.evaluate(x).exp().sum(1), torch.ones(20))
    assert float(loss) > 0


def test_published_mc_at_batch_one_learns_nothing():
    # log-softmax over a batch of one is identically 0: zero loss, zero gradients, and Adam
    # with zero moments moves nothing.
    pub = make("mc-approx", PUBLISHED)
    before = snapshot(pub.model.layers)
    losses = train(pub, 10, 1)
    assert losses == [0.0] * 10
    assert all(torch.equal(a, b) for a, b in zip(snapshot(pub.model.layers), before,
                                                strict=True))

