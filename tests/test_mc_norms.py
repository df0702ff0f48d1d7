"""MC-approx's amortised W row norms: stale probabilities stay unbiased; refresh schedule."""

from __future__ import annotations

import pytest
import torch

from profkit.config import ConfigError, RunConfig, paper_config
from profkit.implementation import TUNED_NORM_REFRESH, choices, norm_refresh
from profkit.methods.mc import LayerSampler, MCParams
from profkit.sampling import (
    estimator_variance,
    gathered_product,
    inclusion_probabilities,
    pair_weights,
    sampled_matmul,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _operands(seed=0, m=6, n=40, q=5):
    g = torch.Generator().manual_seed(seed)
    scale = torch.logspace(-1, 1, n)[torch.randperm(n, generator=g)]  # (n,)
    a = torch.randn(m, n, generator=g, dtype=torch.float64) * scale
    b = torch.randn(n, q, generator=g, dtype=torch.float64)
    return a, b


def test_stale_norms_keep_the_estimate_unbiased_within_five_standard_errors():
    """Probabilities from norms of an older b (here a quite different one) still give mean =
    exact product; the variance formula, evaluated at those probabilities, is the variance."""
    a, b = _operands()
    g = torch.Generator().manual_seed(7)
    old = b * torch.rand(b.shape[0], 1, generator=g, dtype=torch.float64) * 3  # stale rows
    stale = torch.linalg.vector_norm(old, dim=1)  # (n,)
    k, eps, draws = 10, 0.1, 4000
    gen = torch.Generator().manual_seed(1)
    ests = torch.stack([sampled_matmul(a, b, k, eps, gen, b_norms=stale)[0]
                        for _ in range(draws)])
    p = inclusion_probabilities(pair_weights(a, b, stale), k, eps).double()
    var = estimator_variance(a, b, p)  # (m, q)
    z = (ests.mean(0) - a @ b) / (var / draws).sqrt()
    assert z.abs().max() < 5  # 30 entries: P(any |z| > 5) < 2e-5 under the null
    ratio = ests.var(0) / var
    assert ratio.min() > 0.8 and ratio.max() < 1.25
    # staleness only costs variance: fresh norms give no more total variance here
    fresh = inclusion_probabilities(pair_weights(a, b), k, eps).double()
    assert float(estimator_variance(a, b, fresh).sum()) <= float(var.sum())


def test_transposed_operand_gathers_the_same_product():
    a, b = _operands(m=30, n=8, q=4)
    idx, inv_p = torch.tensor([1, 4, 6]), torch.tensor([2.0, 3.0, 1.5], dtype=torch.float64)
    at = a.t().contiguous().t()  # same values, column-major: a transposed view
    assert at.stride(0) == 1
    want = a[:, idx] * inv_p @ b[idx]
    assert torch.allclose(gathered_product(at, b, idx, inv_p), want)
    assert torch.allclose(gathered_product(a.contiguous(), b, idx, inv_p), want)


def test_sampler_refreshes_norms_every_r_steps_and_floors_zero_rows():
    s = LayerSampler(MCParams(), torch.Generator().manual_seed(0), norm_refresh=3)
    w = torch.ones(4, 2)
    w[3] = 0.0  # a zero row: floored, so it keeps a positive probability once it moves
    seen = []
    for _ in range(7):
        seen.append(s.weight_norms(w).clone())
        w = w * 2  # the optimizer moves W every step
    for step, n in enumerate(seen):
        at_refresh = (step // 3) * 3  # steps 0, 3, 6 recompute
        assert torch.allclose(n[:3], torch.full((3,), 2.0 ** at_refresh * 2 ** 0.5))
        assert n[3] > 0
    assert LayerSampler(MCParams(), torch.Generator(), norm_refresh=1).weight_norms(w) is None


def test_refresh_interval_by_implementation_and_param():
    mc = dict(method="mc-approx", results="unused")
    assert norm_refresh(RunConfig(**mc)) == 1
    assert norm_refresh(RunConfig(**mc, implementation="tuned")) == TUNED_NORM_REFRESH
    given = RunConfig(**mc, implementation="tuned", method_params={"norm_refresh": 4})
    assert norm_refresh(given) == 4 and choices(given).norm_refresh == 4
    assert choices(RunConfig()).norm_refresh is None
    with pytest.raises(ConfigError, match="norm_refresh must be in \\[0, 1000000\\]"):
        RunConfig(**mc, method_params={"norm_refresh": -1})


def test_new_param_at_its_default_keeps_mc_run_ids():
    # computed before norm_refresh existed
    assert paper_config("mc-approx", dataset="mnist-5k", threads=None).run_id == \
        "mc-approx-mnist-5k-h3-w1000-b20-798d75ea74-r0"
    cfg = RunConfig(method="mc-approx", method_params={"norm_refresh": 5})
    assert cfg.run_id != RunConfig(method="mc-approx").run_id


def test_tuned_mc_trains_with_stale_norms(tiny_cfg):
    from profkit import load
    from profkit.train import run

    cfg = tiny_cfg(method="mc-approx", implementation="tuned", max_steps=30, width=64,
                   method_params={"sample_ratio": 0.0, "min_k": 10})
    r = run(cfg, progress=False)
    ep = load(r.path, tables=["epochs"])["epochs"]
    assert r.status == "complete" and ep.val_accuracy.iloc[0] > 0.3  # 10 classes: chance 0.1
