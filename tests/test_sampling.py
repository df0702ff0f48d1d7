"""Column-row sampling: probabilities, unbiasedness, variance, sample counts, oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from profkit.sampling import (
    capped_probabilities,
    clamped_probabilities,
    draw_pairs,
    estimator_variance,
    gathered_product,
    inclusion_probabilities,
    pair_weights,
    sample_size,
    sampled_matmul,
    scattered_product,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _operands(seed: int = 0, m: int = 6, n: int = 40, q: int = 5):
    """a: (m, n), b: (n, q) with pair norms spread over two orders of magnitude."""
    g = torch.Generator().manual_seed(seed)
    scale = torch.logspace(-1, 1, n)[torch.randperm(n, generator=g)]  # (n,)
    a = torch.randn(m, n, generator=g, dtype=torch.float64) * scale
    b = torch.randn(n, q, generator=g, dtype=torch.float64)
    return a, b


def _textbook_capping(w: np.ndarray, k: int) -> np.ndarray:
    """The iterative definition: cap at 1, redistribute the rest, repeat until nothing exceeds 1."""
    capped = np.zeros(w.size, bool)
    while True:
        c = (k - capped.sum()) / w[~capped].sum()
        p = np.where(capped, 1.0, w * c)
        if (p <= 1.0 + 1e-12).all():
            return p
        capped |= p > 1.0


@pytest.mark.parametrize(("n", "ratio", "min_k", "k"), [
    (1000, 0.9, 10, 900), (20, 0.9, 10, 18), (1, 0.9, 10, 1), (10, 0.9, 10, 10),
    (1000, 0.0, 10, 10), (20, 0.0, 10, 10), (5, 0.0, 10, 5), (1000, 1.0, 10, 1000)])
def test_sample_size_follows_the_public_rule(n, ratio, min_k, k):
    assert sample_size(n, ratio, min_k) == k


@pytest.mark.parametrize("k", [1, 5, 20, 35, 39])
def test_iterative_capping_matches_the_textbook_loop_and_sums_to_k(k):
    rng = np.random.default_rng(k)
    w = rng.pareto(1.0, 40) + 1e-3  # heavy tail: several pairs must be capped at large k
    p = capped_probabilities(w, k)
    assert p.sum() == pytest.approx(k, rel=1e-12)
    assert p.max() <= 1.0
    np.testing.assert_allclose(p, _textbook_capping(w, k), rtol=1e-10)
    uncapped = p < 1.0
    ratio = p[uncapped] / w[uncapped]  # proportional to w below the cap
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)


def test_capping_with_fewer_nonzero_weights_than_k_keeps_all_of_them():
    w = np.array([0.0, 2.0, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(capped_probabilities(w, 4), [0, 1, 0, 1, 1])
    # the public clamp: k' = 3 nonzero, 3 w / 6 = [1, 0.5, 1.5 -> 1]: the excess is lost
    np.testing.assert_array_equal(clamped_probabilities(w, 4), [0, 1, 0, 0.5, 1])
    assert not capped_probabilities(np.zeros(4), 2).any()


def test_clamp_loses_the_excess_that_iterative_capping_redistributes():
    w = np.array([10.0, 1.0, 1.0, 1.0, 1.0])
    clamped = clamped_probabilities(w, 3)
    np.testing.assert_allclose(clamped, [1, 3 / 14, 3 / 14, 3 / 14, 3 / 14])
    assert clamped.sum() < 3
    np.testing.assert_allclose(capped_probabilities(w, 3), [1, 0.5, 0.5, 0.5, 0.5])


def test_mixing_gives_every_pair_a_chance_and_the_expected_budget():
    w = torch.tensor([0.0, 0.0, 1.0, 5.0, 2.0, 0.5, 0.0, 3.0])
    p = inclusion_probabilities(w, 3, epsilon=0.1).double()
    assert float(p.min()) == pytest.approx(0.1 / 8)
    assert float(p.sum()) == pytest.approx(0.9 * 3 + 0.1, rel=1e-6)


def test_estimate_is_unbiased_within_five_standard_errors():
    a, b = _operands()
    k, eps, draws = 10, 0.1, 4000
    gen = torch.Generator().manual_seed(1)
    p = inclusion_probabilities(pair_weights(a, b), k, eps).double()
    ests = torch.stack([sampled_matmul(a, b, k, eps, gen)[0] for _ in range(draws)])
    var = estimator_variance(a, b, p)  # (m, q): the exact per-entry variance
    dev = (ests.mean(0) - a @ b) / (var / draws).sqrt()  # (m, q): z-scores of the mean
    assert dev.abs().max() < 5
    # The formula is the variance: the sample variance matches it entry by entry.
    ratio = ests.var(0) / var
    assert ratio.min() > 0.8 and ratio.max() < 1.25
    # And sampling is informative: fewer than n pairs, far less error than a zero guess.
    assert float(var.sum()) < float((a @ b).square().sum()) * 10


def test_expected_number_of_pairs_is_the_sum_of_probabilities():
    a, b = _operands(seed=3)
    k, eps, draws = 12, 0.1, 3000
    gen = torch.Generator().manual_seed(2)
    p = inclusion_probabilities(pair_weights(a, b), k, eps).double()
    assert float(p.sum()) == pytest.approx((1 - eps) * k + eps, rel=1e-6)
    counts = torch.tensor([float(sampled_matmul(a, b, k, eps, gen)[1]) for _ in range(draws)])
    se = float((p * (1 - p)).sum() / draws) ** 0.5
    assert abs(float(counts.mean()) - float(p.sum())) < 5 * se
    assert counts.var().item() == pytest.approx(float((p * (1 - p)).sum()), rel=0.15)


def test_all_pairs_kept_with_probability_one_is_the_exact_product():
    a, b = _operands()
    a[:, 3] = 0  # a zero pair gets p = 0 and is skipped: it adds nothing anyway
    gen = torch.Generator().manual_seed(0)
    est, used = sampled_matmul(a, b, a.shape[1], 0.0, gen, exact_at_full_k=False)
    assert used == a.shape[1] - 1
    torch.testing.assert_close(est, a @ b)


def test_full_k_is_exact_without_drawing():
    a, b = _operands()
    gen = torch.Generator().manual_seed(0)
    state = gen.get_state()
    est, used = sampled_matmul(a, b, a.shape[1], 0.1, gen)
    assert used == a.shape[1] and torch.equal(gen.get_state(), state)
    torch.testing.assert_close(est, a @ b)


def test_gathered_product_is_the_scaled_sum_of_kept_outer_products():
    a, b = _operands(m=3, n=10, q=8)  # m < q: scales a;  transposed below: scales b
    idx = torch.tensor([1, 4, 7])
    inv_p = torch.tensor([2.0, 4.0, 1.5], dtype=torch.float64)
    for x, y in ((a, b), (b.t(), a.t())):
        want = sum(s * torch.outer(x[:, i], y[i]) for i, s in zip(idx.tolist(), inv_p, strict=True))
        torch.testing.assert_close(gathered_product(x, y, idx, inv_p), want)


def test_dense_zero_scaled_product_equals_the_gathered_one():
    a, b = _operands(m=3, n=10, q=8)
    idx = torch.tensor([0, 2, 3, 9])
    inv_p = torch.tensor([1.5, 3.0, 1.1, 8.0], dtype=torch.float64)
    for x, y in ((a, b), (b.t(), a.t())):
        torch.testing.assert_close(scattered_product(x, y, idx, inv_p),
                                   gathered_product(x, y, idx, inv_p))
    one = sampled_matmul(a, b, 6, 0.1, torch.Generator().manual_seed(4), dense_above=0.0)
    two = sampled_matmul(a, b, 6, 0.1, torch.Generator().manual_seed(4), dense_above=1.0)
    assert one[1] == two[1]
    torch.testing.assert_close(one[0], two[0])


def test_empty_sample_is_a_zero_estimate():
    a, b = _operands()
    est = gathered_product(a, b, torch.empty(0, dtype=torch.long),
                           torch.empty(0, dtype=torch.float64))
    assert est.shape == (a.shape[0], b.shape[1]) and not est.any()


def test_scaling_uses_no_diagonal_matrix(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("scaling must be a broadcast multiply, not a diagonal matrix")

    for name in ("diag", "diag_embed", "diagflat"):
        monkeypatch.setattr(torch, name, forbidden)
    a, b = _operands()
    est, used = sampled_matmul(a, b, 10, 0.1, torch.Generator().manual_seed(0))
    assert 0 < used < a.shape[1] and est.shape == (a.shape[0], b.shape[1])


def test_draws_are_reproducible_from_the_generator():
    p = torch.full((50,), 0.3)
    one = draw_pairs(p, torch.Generator().manual_seed(7))
    two = draw_pairs(p, torch.Generator().manual_seed(7))
    assert torch.equal(one, two)
