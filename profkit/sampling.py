"""Column-row sampling: an unbiased Monte-Carlo estimate of a matrix product (Drineas et al.).

For a product A B with inner dimension n, pair i is column i of A and row i of B. Each pair is
kept independently (Bernoulli) with inclusion probability p_i, kept pairs are scaled by 1/p_i
and summed, so E[estimate] = A B exactly, and the number of multiplied pairs is random with
mean sum(p). This is the "Bernoulli sampling" of Adelman et al. (NeurIPS 2021), used by
MC-approx (profkit/methods/mc.py) in the backward pass.

Probabilities, for a budget of k pairs and weights w_i = |A[:, i]| |B[i, :]| (l2 norms, the
paper's Eq. 6):

- `iterative` capping (default): p_i = min(1, c w_i) with c chosen so that sum(p) = k exactly
  (or every non-zero pair has p = 1 when fewer than k weights are non-zero). The pairs too
  heavy for k w_i / sum(w) <= 1 are capped at 1 and their excess probability is redistributed
  over the others, repeatedly; it is computed in one pass with a sort.
- `clamp`: p_i = min(1, k' w_i / sum(w)) with k' = min(k, number of non-zero weights), as the
  public code does; capped pairs lose their excess, so sum(p) < k when any pair is capped.

Then both mix with the uniform distribution, p <- (1 - eps) p + eps / n (Adelman et al.'s
epsilon-optimal sampling, eps = 0.1 published): every pair keeps a chance, and 1/p is bounded
by n/eps. The expected number of pairs becomes (1 - eps) sum(p) + eps.

An empty sample is a valid outcome and its estimate is the zero matrix (the public code falls
back to the first k pairs unscaled there, which biases the estimate; profkit does not).
"""

from __future__ import annotations

import numpy as np
import torch

CAPPINGS = ("iterative", "clamp")


def sample_size(n: int, sample_ratio: float, min_k: int) -> int:
    """k = min(max(floor(n * sample_ratio), min_k), n): the public code's budget of pairs."""
    return min(max(int(n * sample_ratio), min_k), n)


def pair_weights(a: torch.Tensor, b: torch.Tensor, b_norms: torch.Tensor | None = None
                 ) -> torch.Tensor:
    """w_i = |A[:, i]| |B[i, :]| for a: (m, n), b: (n, p); returns (n,).

    b_norms (n,), when given, stands in for |B[i, :]| (e.g. a weight matrix's row norms from a
    few steps ago): the estimate stays unbiased for any positive probabilities, the norms only
    set its variance, and computing them is a full pass over B."""
    nb = l2_norms(b, 1) if b_norms is None else b_norms
    return l2_norms(a, 0) * nb


def l2_norms(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Euclidean norms along `dim`. Across rows (dim 0 of a (batch, n) gradient, a strided
    reduction) sqrt(sum of squares) runs 10-15x faster than torch.linalg.vector_norm here;
    along contiguous rows vector_norm is faster (no squared copy of a whole weight matrix)."""
    if dim == t.dim() - 1 and t.is_contiguous():
        return torch.linalg.vector_norm(t, dim=dim)  # contiguous rows: no squared copy
    return t.square().sum(dim).sqrt_()


def capped_probabilities(w: np.ndarray, k: int) -> np.ndarray:
    """p_i = min(1, c w_i) with sum(p) = min(k, nnz(w)): iterative capping in one sort.

    w: (n,) non-negative float64. With t pairs capped (the t largest), the others get
    c_t = (k - t) / (sum of the n - t smallest weights); the right t is the smallest one whose
    largest uncapped weight fits (c_t w_(t) <= 1). t = k - 1 always fits, so one exists.
    """
    k = min(k, int(np.count_nonzero(w)))
    if k == 0:
        return np.zeros_like(w)
    total = w.sum()
    if w.max() * k <= total:
        return w * (k / total)  # the common case at small k: nothing to cap, no sort
    ws = np.sort(w)[::-1]  # (n,) descending
    tail = np.cumsum(ws[::-1])[::-1][:k]  # (k,): tail[t] = sum_{j >= t} ws[j]
    c = (k - np.arange(k)) / tail  # (k,)
    first = int(np.argmax(c * ws[:k] <= 1.0))
    return np.minimum(w * c[first], 1.0)


def clamped_probabilities(w: np.ndarray, k: int) -> np.ndarray:
    """The public code's p_i = min(1, k' w_i / sum(w)), k' = min(k, nnz(w)); sum(p) <= k'."""
    k = min(k, int(np.count_nonzero(w)))
    if k == 0:
        return np.zeros_like(w)
    return np.minimum(w * (k / w.sum()), 1.0)


def inclusion_probabilities(w: torch.Tensor, k: int, epsilon: float,
                            capping: str = "iterative") -> torch.Tensor:
    """Capped probabilities for budget k, mixed with uniform: (1 - eps) p + eps / n. (n,)

    Computed in float64 NumPy (a sort and a handful of vector operations on n values run
    about twice as fast there as in torch's per-op dispatch), returned in w's dtype.
    """
    wn = w.detach().numpy().astype(np.float64)  # (n,)
    p = capped_probabilities(wn, k) if capping == "iterative" else clamped_probabilities(wn, k)
    if epsilon > 0:
        p = (1.0 - epsilon) * p + epsilon / wn.size
    return torch.from_numpy(p).to(w.dtype)


def draw_pairs(p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Indices of the pairs kept by independent Bernoulli(p_i) draws: (n_kept,) int64."""
    keep = torch.rand(p.shape, generator=gen, dtype=p.dtype) < p  # (n,) bool
    return torch.nonzero(keep).view(-1)


def gathered_product(a: torch.Tensor, b: torch.Tensor, idx: torch.Tensor,
                     inv_p: torch.Tensor) -> torch.Tensor:
    """sum over kept pairs i of A[:, i] B[i, :] / p_i, for a: (m, n), b: (n, q), idx: (s,).

    Only the kept columns and rows are copied (index_select) and multiplied, so the cost is
    O(m s q), not O(m n q). The 1/p scaling is a broadcast multiply on the smaller gathered
    operand (never a diagonal matrix product).
    """
    if a.stride(0) == 1 and a.stride(1) != 1:  # a transposed view (g.t()): gather its rows
        a_s = a.t().index_select(0, idx).t()  # (m, s), contiguous copies of s rows
    else:
        a_s = a.index_select(1, idx)  # (m, s)
    b_s = b.index_select(0, idx)  # (s, q)
    if a_s.shape[0] <= b_s.shape[1]:
        a_s = a_s * inv_p  # (m, s) * (s,)
    else:
        b_s = b_s * inv_p.unsqueeze(1)  # (s, q) * (s, 1)
    return a_s @ b_s  # (m, q)


def scattered_product(a: torch.Tensor, b: torch.Tensor, idx: torch.Tensor,
                      inv_p: torch.Tensor) -> torch.Tensor:
    """The same estimate as `gathered_product`, by zeroing dropped pairs in a dense matmul.

    Costs the dense O(m n q) product but copies no rows of b: cheaper than gathering when
    most pairs are kept (e.g. the public driver's 90% of 1000 columns).
    """
    scale = torch.zeros(a.shape[1], dtype=a.dtype)
    scale[idx] = inv_p  # (n,): 1/p_i on kept pairs, 0 elsewhere
    if a.shape[0] <= b.shape[1]:
        return (a * scale) @ b  # (m, n) * (n,) -> (m, q)
    return a @ (b * scale.unsqueeze(1))  # (n, q) * (n, 1)


def sampled_matmul(a: torch.Tensor, b: torch.Tensor, k: int, epsilon: float,
                   gen: torch.Generator, capping: str = "iterative",
                   exact_at_full_k: bool = True, dense_above: float = 1.0,
                   b_norms: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """Estimate a @ b (a: (m, n), b: (n, q)) with a budget of k of the n column-row pairs.

    Returns (estimate (m, q), number of pairs sampled). With k == n and `exact_at_full_k`
    (the public code's behaviour) the exact product is returned without drawing anything.
    When more than `dense_above` * n pairs are kept the estimate is computed by
    `scattered_product` (same value, dense cost) instead of gathering; 1.0: always gather.
    b_norms: row norms of b to use in the probabilities (see pair_weights); None: computed.
    """
    n = a.shape[1]
    if exact_at_full_k and k >= n:
        return a @ b, n
    p = inclusion_probabilities(pair_weights(a, b, b_norms), k, epsilon, capping)  # (n,)
    idx = draw_pairs(p, gen)
    inv_p = p.index_select(0, idx).reciprocal_()  # (s,)
    product = scattered_product if idx.numel() > dense_above * n else gathered_product
    return product(a, b, idx, inv_p), idx.numel()


def estimator_variance(a: torch.Tensor, b: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Per-entry variance of the estimate: sum_i (1 - p_i) / p_i A[r, i]^2 B[i, c]^2. (m, q)

    Pairs with p_i = 0 must have a zero column or row (else the estimate is biased); they add
    nothing. Summed over entries it is sum_i (1 - p_i) / p_i |A[:, i]|^2 |B[i, :]|^2.
    """
    safe = torch.where(p > 0, p, torch.ones_like(p))
    ratio = torch.where(p > 0, (1 - p) / safe, torch.zeros_like(p))  # (n,)
    return (a.square() * ratio) @ b.square()
