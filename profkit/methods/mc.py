"""MC-approx (Adelman et al., NeurIPS 2021; the paper's §6): exact forward, sampled backward.

Every linear layer computes its forward pass exactly. In the backward pass, with upstream
gradient G = dL/dz (batch, out), layer input X (batch, in) and weight W (out, in):

- grad_input = G W is estimated by column-row sampling over the `out` dimension;
- grad_weight = G^T X is estimated by column-row sampling over the batch dimension;
- grad_bias = sum of G over the batch is exact;
- the first layer computes no grad_input (nothing needs it).

Sampling (profkit/sampling.py): pair i is kept with probability p_i from the budget
k = min(max(floor(n * sample_ratio), min_k), n), with p_i proportional to
|A[:, i]| |B[i, :]| (capped at 1), mixed with the uniform distribution by `epsilon`; kept pairs
are gathered, scaled by 1/p_i (broadcast) and multiplied in one small matmul, so the cost is
the algorithm's. The sampled estimates are unbiased; errors of grad_input propagate to the
layers below, as in the published method.

Parameters and the paper. The paper (§8.4) says "batch size 20 and k = 10". The public MLP
driver's defaults are sample_ratio 0.9, min_k 10 (about 900 of 1000 output columns and 18 of
20 batch rows); "k = 10" may be only min_k. `paper_params()` uses the driver's defaults (most
likely what ran). The other reading, k exactly 10 for both products, is
`method_params={"sample_ratio": 0.0, "min_k": 10}` (sample_ratio 0 makes k = min_k).

Where profkit differs from or chooses within the public code (docs/methods.md):
- `capping="iterative"` (default) redistributes the excess of capped probabilities so that
  sum(p) = k before mixing, as Bernoulli sampling with budget k intends; the public code
  clamps at 1 and drops the excess (`capping="clamp"` reproduces it).
- With k == n the product is exact, as in the public code (`exact_at_full_k`). At batch 1,
  grad_weight has n = 1, so k = 1 = n and it is exact whatever the parameters: one row of G
  times one row of X is the whole product. Likewise the output layer's grad_input (n = 10
  classes) is exact with min_k 10.
- `dense_above` (default 1.0: always gather): when more than this fraction of the n pairs is
  kept, the dropped pairs are zeroed and scaled in place and the dense matmul runs instead of
  the gather (the same estimate; cheaper when most pairs are kept, since gathering copies
  the kept rows of W). The driver's 90% sampling keeps about 80% of the pairs after mixing.
- An empty sample gives a zero estimate (unbiased); the public code substitutes the first k
  pairs unscaled. Scaling is a broadcast multiply, not a diagonal matmul.
- The driver's defects are not copied: log-softmax is over classes (not the batch), the
  initialisation is Kaiming (its reset_parameters was a no-op), and there is no dropout.
- `as_published=true` reproduces, for comparison, the two that move its numbers most
  directly (docs/published-variants.md): capping is set to `clamp`, and the training loss
  normalises log-softmax over the batch (dim 0) instead of the classes, as the public driver's
  MLP does. At batch 1 that log-softmax is identically 0, so nothing learns. Evaluation stays
  exact and over classes (the driver's dim-0 test predictions depend on the test batch).

`norm_refresh`: the row norms of W in grad_input's probabilities are recomputed every
norm_refresh steps (0, the default: 1 under implementation=paper, as published, and
profkit.implementation.TUNED_NORM_REFRESH under tuned). Stale norms keep the estimate unbiased
(docs/implementations.md has what they cost in variance).

Phases: forward, backward (including computing probabilities and drawing pairs, which happen
inside autograd's backward), optimizer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from profkit.implementation import norm_refresh
from profkit.methods.base import LayerEstimate, TrainingMethod, stat_row
from profkit.methods.published import published_flag
from profkit.sampling import CAPPINGS, l2_norms, sample_size, sampled_matmul
from profkit.validation import check_bool, check_choice, check_int, check_real

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig

PRODUCTS = ("grad_input", "grad_weight")


@dataclass(frozen=True)
class MCParams:
    """sample_ratio in [0, 1], min_k >= 1, epsilon in [0, 1], capping `iterative`|`clamp`,
    exact_at_full_k, dense_above in [0, 1] (see the module docstring)."""

    sample_ratio: float = 0.9
    min_k: int = 10
    epsilon: float = 0.1
    capping: str = "iterative"
    exact_at_full_k: bool = True
    dense_above: float = 1.0
    # steps between W row-norm refreshes; 0: by implementation. Added after run ids were
    # published: at its default it stays out of the id (profkit.methods.id_params).
    norm_refresh: int = dataclasses.field(default=0, metadata={"id_omits_default": True})
    as_published: bool = published_flag()

    def __post_init__(self) -> None:
        check_bool("as_published", self.as_published)
        if self.as_published:  # the public code's capping, recorded as what ran
            object.__setattr__(self, "capping", "clamp")
        check_real("sample_ratio", self.sample_ratio, 0.0, 1.0,
                   what="k = max(floor(n * sample_ratio), min_k); driver default 0.9")
        check_int("min_k", self.min_k, 1, what="the least number of pairs kept; driver default 10")
        check_real("epsilon", self.epsilon, 0.0, 1.0,
                   what="mixing weight of the uniform distribution; published 0.1")
        check_choice("capping", self.capping, CAPPINGS)
        check_real("dense_above", self.dense_above, 0.0, 1.0, what="kept fraction above which "
                   "the dense zero-scaled matmul replaces the gather; 1 = always gather")
        check_bool("exact_at_full_k", self.exact_at_full_k)
        check_int("norm_refresh", self.norm_refresh, 0, 10**6, what="steps between recomputing "
                  "W\'s row norms; 1 = every step, as published; 0 = the implementation\'s choice")


class LayerSampler:
    """One layer's sampled backward products and the counts of pairs they used."""

    def __init__(self, params: MCParams, gen: torch.Generator, norm_refresh: int = 1):
        self.p, self.gen = params, gen
        self.record = True
        self.refresh = norm_refresh
        self.norms: torch.Tensor | None = None  # W's row norms, from `age` steps ago
        self.age = 0
        self.reset()

    def weight_norms(self, weight: torch.Tensor) -> torch.Tensor | None:
        """W's row norms for grad_input's probabilities, recomputed every `refresh` steps
        (None at refresh 1: sampled_matmul computes them fresh, as published).

        Stale norms keep the estimate unbiased as long as every probability stays positive,
        so they are floored at 1e-6 of their mean (a row that was zero at refresh time but
        moved since must keep a chance even with epsilon 0)."""
        if self.refresh <= 1:
            return None
        if self.norms is None or self.age >= self.refresh:
            n = l2_norms(weight.detach(), 1)  # (out,): one pass over W
            self.norms, self.age = n.clamp_min_(1e-6 * float(n.mean())), 0
        if self.record:
            self.age += 1
        return self.norms

    def reset(self) -> None:
        self.calls = dict.fromkeys(PRODUCTS, 0)
        self.pairs = dict.fromkeys(PRODUCTS, 0)
        self.ks = dict.fromkeys(PRODUCTS, 0)

    def product(self, name: str, a: torch.Tensor, b: torch.Tensor,
                b_norms: torch.Tensor | None = None) -> torch.Tensor:
        """Estimate a @ b (a: (m, n), b: (n, q)) and count the pairs it took."""
        k = sample_size(a.shape[1], self.p.sample_ratio, self.p.min_k)
        est, used = sampled_matmul(a, b, k, self.p.epsilon, self.gen, self.p.capping,
                                   self.p.exact_at_full_k, self.p.dense_above, b_norms)
        if self.record:
            self.calls[name] += 1
            self.pairs[name] += used
            self.ks[name] += k
        return est


class SampledLinear(torch.autograd.Function):
    """z = x W^T + b exactly; backward estimates grad_input and grad_weight by sampling."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                sampler: LayerSampler) -> torch.Tensor:  # (batch, in) -> (batch, out)
        ctx.save_for_backward(x, weight)
        ctx.sampler = sampler
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # (batch, out)
        x, weight = ctx.saved_tensors
        s: LayerSampler = ctx.sampler
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = s.product("grad_input", g, weight, s.weight_norms(weight)) if need_x else None
        gw = s.product("grad_weight", g.t(), x) if need_w else None  # (out, in), over batch
        gb = g.sum(0) if need_b else None  # (out,): exact
        return gx, gw, gb, None


def sampled_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                   sampler: LayerSampler) -> torch.Tensor:
    """SampledLinear with its types: torch leaves Function.apply untyped."""
    out: torch.Tensor = SampledLinear.apply(x, weight, bias, sampler)  # type: ignore[no-untyped-call]
    return out


class MCApprox(TrainingMethod):
    """Exact forward, column-row-sampled backward products (see the module docstring)."""

    name = "mc-approx"
    Params = MCParams

    def __init__(self, cfg: RunConfig, in_features: int, n_classes: int,
                 generator: torch.Generator):
        super().__init__(cfg, in_features, n_classes, generator)
        refresh = norm_refresh(cfg)
        self.samplers = [LayerSampler(self.params, self.gen, refresh) for _ in self.model.layers]

    @classmethod
    def paper_params(cls) -> dict[str, Any]:
        """The public driver's defaults: sample_ratio 0.9, min_k 10, epsilon 0.1."""
        return dataclasses.asdict(MCParams(sample_ratio=0.9, min_k=10, epsilon=0.1))

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:  # (batch, in) -> (batch, classes)
        for lin, s in zip(self.model.hidden, self.samplers[:-1], strict=True):
            x = F.relu(sampled_linear(x, lin.weight, lin.bias, s))
        out = self.model.output
        z = sampled_linear(x, out.weight, out.bias, self.samplers[-1])
        return self.log_probs(z)

    def log_probs(self, z: torch.Tensor) -> torch.Tensor:
        """Training log-probabilities of logits z (batch, classes): over the classes, or as
        published over the batch (dim 0), which is not a distribution over classes."""
        return F.log_softmax(z, dim=0 if self.params.as_published else 1)

    def on_epoch_end(self, epoch: int) -> list[dict[str, Any]]:
        """Per layer and product: mean sampled pairs and mean k per backward call; then reset."""
        rows = []
        for layer, s in enumerate(self.samplers):
            for name in PRODUCTS:
                c = s.calls[name]
                if c:
                    rows.append(stat_row(layer, f"sampled_pairs_{name}", s.pairs[name] / c))
                    rows.append(stat_row(layer, f"k_{name}", s.ks[name] / c))
            s.reset()
        return rows

    def layer_estimates(self, x: torch.Tensor, y: torch.Tensor) -> list[LayerEstimate]:
        """Sampled grad_input/grad_weight per layer beside the exact ones, on the current weights.

        The sampled backward runs as in training, so each layer's estimate carries the errors
        propagated from the layers above (error by depth). Draws come from the method's own
        generator (so they shift later training draws) and are not counted in on_epoch_end.
        """
        with self._not_recording():
            est_w, est_x = self._gradients(x, y, sampled=True)
        ex_w, ex_x = self._gradients(x, y, sampled=False)
        out = [LayerEstimate(i, "grad_weight", ex_w[i], est_w[i]) for i in range(len(ex_w))]
        out += [LayerEstimate(i + 1, "grad_input", ex_x[i], est_x[i]) for i in range(len(ex_x))]
        return out

    def _gradients(self, x: torch.Tensor, y: torch.Tensor, sampled: bool
                   ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(grad of each layer's weight, grad of each non-first layer's input) for one batch."""
        layers = [*self.model.hidden, self.model.output]
        inputs: list[torch.Tensor] = []
        h = x
        for i, (lin, s) in enumerate(zip(layers, self.samplers, strict=True)):
            if i > 0:
                inputs.append(h)
            z = (sampled_linear(h, lin.weight, lin.bias, s) if sampled
                 else F.linear(h, lin.weight, lin.bias))
            h = F.relu(z) if i < len(layers) - 1 else z
        loss = F.nll_loss(self.log_probs(h), y)
        weights = [lin.weight for lin in layers]
        grads = torch.autograd.grad(loss, weights + inputs)
        n = len(weights)
        return [g.detach() for g in grads[:n]], [g.detach() for g in grads[n:]]

    @contextmanager
    def _not_recording(self) -> Iterator[None]:
        for s in self.samplers:
            s.record = False
        try:
            yield
        finally:
            for s in self.samplers:
                s.record = True

