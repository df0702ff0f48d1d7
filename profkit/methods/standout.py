"""Adaptive-Dropout (Standout, Ba & Frey 2013): keep probabilities from the layer's own input.

Per hidden layer with pre-activation z = x W^T + b (batch, width), computed once and reused:

    pi = sigmoid(alpha * z + beta)      keep probability of each unit for each sample
    m  ~ Bernoulli(pi)                  drawn from the method's generator
    training output   relu(z) * m
    evaluation output relu(z) * pi      the expectation over m; evaluate() never samples

This is Ba & Frey's tied-weights standout (the standout network shares W with the layer and
only adds the scalars alpha and beta). There is no 1/p rescaling: evaluation uses the
expectation instead.

Target keep rate. The paper's "p = 0.05" is read as a target MEAN keep rate (docs/methods.md):
beta (one scalar per hidden layer) is adapted during training so that mean(pi) over the batch
and the layer's units tracks p. After each layer's forward, under no_grad, with m_obs the
observed mean(pi) of this step:

    beta <- clamp(beta + beta_gain * (logit(p) - logit(m_obs)), -BETA_MAX, BETA_MAX)

a feedback step in logit space. d logit(mean pi) / d beta = mean(pi (1 - pi)) / (m (1 - m))
<= 1 (the variance of pi can only lower it), so with beta_gain <= 1 a step never overshoots the
target for a fixed input distribution; gain < 1 also averages out batch-to-batch noise. It costs
one mean over pi per layer and step (inside the forward phase) and no matmul. beta starts at
logit(p) (exact when z = 0) unless beta_init is given; adapt_beta=false freezes it.

Backprop through pi. With pi_grad false (default) pi is a constant in backprop, Ba & Frey's
approximation (the standout network's own gradient is ignored), so the gradient is that of
relu(z) * m with m fixed. With pi_grad true the mask passes a straight-through gradient as if
it were its expectation pi (m + pi - stop_grad(pi)), i.e. the gradient of E[relu(z) * m].

Published-code defects avoided (docs/methods.md): the authors' version computed pi with a
ReLU instead of a sigmoid (so ~98% of active units were kept: almost no dropout), sampled masks
at test time, and recomputed the full matmul for pi. Here pi uses the sigmoid, evaluation uses
the expectation, and pi reuses z.

`as_published=true` reproduces the public keep probability for comparison (DropOut/layers.py,
class Standout, built with alpha 0.5 and beta 1 in DropOut/main.py): pi = relu(0.5 x W^T + 1),
recomputed from the layer input and weight (a second matmul, without the bias), no gradient
through pi, beta fixed (not adapted), mask m ~ Bernoulli(min(pi, 1)). Where the layer is active
(x W^T + b > 0, b small) pi > 1, so nearly every active unit is kept. It also takes the public
Net's two training defects (profkit.methods.published): hidden layers after the first are never
trained and the optimizer is re-created every epoch. Evaluation stays exact: the expectation
relu(z) * min(pi, 1) (the public code sampled masks at test time too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from profkit.methods.base import stat_row
from profkit.methods.public_net import PublicNet
from profkit.methods.published import published_flag
from profkit.validation import check_bool, check_probability, check_real

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig

BETA_MAX = 50.0  # |beta| cap: sigmoid(50) is 1.0 in float32, so larger values change nothing
LOGIT_EPS = 1e-6  # mean keep rates are clamped to [eps, 1 - eps] before the logit
PUBLISHED_ALPHA, PUBLISHED_BETA = 0.5, 1.0  # DropOut/main.py: Standout(self.fc1, 0.5, 1)


@dataclass(frozen=True)
class StandoutParams:
    """p: target mean keep rate in (0, 1]; alpha: slope in pi = sigmoid(alpha z + beta);
    beta_init: starting beta (None: logit(p)); adapt_beta: track p by adapting beta;
    beta_gain: feedback gain in (0, 2]; pi_grad: straight-through gradient through pi;
    as_published: the public ReLU keep probability (see the module docstring)."""

    p: float = 0.05
    alpha: float = 1.0
    beta_init: float | None = None
    adapt_beta: bool = True
    beta_gain: float = 0.5
    pi_grad: bool = False
    as_published: bool = published_flag()

    def __post_init__(self) -> None:
        check_bool("as_published", self.as_published)
        if self.as_published and (self.alpha != 1.0 or self.beta_init is not None
                                  or self.pi_grad):
            raise ValueError("as_published=true uses the public code's alpha 0.5, beta 1 and "
                             "no gradient through pi; leave alpha, beta_init and pi_grad unset")
        check_probability("p", self.p, "target mean keep rate; paper: 0.05")
        check_real("alpha", self.alpha, -1e6, 1e6, what="slope of the keep probability")
        if self.beta_init is not None:
            check_real("beta_init", self.beta_init, -BETA_MAX, BETA_MAX,
                       what="starting beta; null: logit(p)")
        check_bool("adapt_beta", self.adapt_beta)
        check_real("beta_gain", self.beta_gain, 0.0, 2.0, lo_open=True,
                   what="feedback gain on beta")
        check_bool("pi_grad", self.pi_grad)


def _logit(p: float) -> float:
    q = min(max(p, LOGIT_EPS), 1.0 - LOGIT_EPS)
    return math.log(q / (1.0 - q))


class Standout(PublicNet):
    """Adaptive-Dropout (Standout) with a per-layer adapted beta; see the module docstring."""

    name = "adaptive-dropout"
    Params = StandoutParams

    def __init__(self, cfg: RunConfig, in_features: int, n_classes: int,
                 generator: torch.Generator):
        super().__init__(cfg, in_features, n_classes, generator)
        prm = self.params
        n_hidden = len(self.model.hidden)
        self.alpha = float(prm.alpha)
        self.target_logit = _logit(prm.p)
        start = prm.beta_init if prm.beta_init is not None else self.target_logit
        if prm.as_published:  # recorded as the `beta` stat: the public constant
            self.alpha, start = PUBLISHED_ALPHA, PUBLISHED_BETA
        self.beta = torch.full((n_hidden,), float(start))  # (hidden layers,)
        self.pi_sum = torch.zeros(n_hidden, dtype=torch.float64)  # sum over steps of mean pi
        self.mask_sum = torch.zeros(n_hidden, dtype=torch.float64)  # ... of mean mask
        self.steps = 0

    @classmethod
    def paper_params(cls) -> dict[str, Any]:
        # §8.4: p = 0.05 for Adaptive-Dropout, read as the target mean keep rate.
        return {"p": 0.05}

    def keep_prob(self, z: torch.Tensor, layer: int) -> torch.Tensor:
        """pi = sigmoid(alpha z + beta) (batch, width) from pre-activation z (batch, width)."""
        return torch.sigmoid(torch.add(self.beta[layer], z, alpha=self.alpha))


    @staticmethod
    @torch.no_grad()
    def published_keep_prob(x: torch.Tensor, lin: nn.Linear) -> torch.Tensor:
        """The public pi = relu(0.5 x W^T + 1) (batch, width) from the layer input x
        (batch, in), clamped to 1 (a Bernoulli probability; the public comparison
        uniform < pi keeps every unit with pi >= 1). Its own matmul, as published."""
        z = x.matmul(lin.weight.t())  # (batch, width), no bias: as DropOut/layers.py
        return F.relu(z.mul_(PUBLISHED_ALPHA).add_(PUBLISHED_BETA)).clamp_(max=1.0)

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:
        if self.params.as_published:
            return self._published_forward(x)
        for i, lin in enumerate(self.model.hidden):
            z = lin(x)  # (batch, width): the only matmul; pi reuses it
            if self.params.pi_grad:
                pi = self.keep_prob(z, i)
            else:
                with torch.no_grad():
                    pi = self.keep_prob(z, i)
            m = torch.bernoulli(pi.detach(), generator=self.gen)  # (batch, width) in {0, 1}
            if self.params.pi_grad:
                m = m + (pi - pi.detach())  # value m, gradient that of pi
            x = F.relu(z) * m
            self._observe(i, pi, m)
        self.steps += 1
        return F.log_softmax(self.model.output(x), dim=1)  # (batch, classes)

    def _published_forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, lin in enumerate(self.model.hidden):
            z = lin(x)  # (batch, width)
            pi = self.published_keep_prob(x, lin)  # the second matmul, as published
            m = torch.bernoulli(pi, generator=self.gen)  # (batch, width) in {0, 1}
            x = F.relu(z) * m
            self._observe(i, pi, m)
        self.steps += 1
        return F.log_softmax(self.model.output(x), dim=1)  # (batch, classes)

    @torch.no_grad()
    def _observe(self, layer: int, pi: torch.Tensor, m: torch.Tensor) -> None:
        """Accumulate keep rates and move beta toward the target mean keep rate."""
        mean_pi = pi.mean()
        self.pi_sum[layer] += mean_pi
        self.mask_sum[layer] += m.mean()
        if self.params.adapt_beta and not self.params.as_published:  # published: beta fixed
            err = self.target_logit - torch.logit(mean_pi, eps=LOGIT_EPS)
            self.beta[layer] = (self.beta[layer] + self.params.beta_gain * err).clamp(
                -BETA_MAX, BETA_MAX)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """Exact expectation: relu(z) * pi at every hidden layer, no sampling."""
        for i, lin in enumerate(self.model.hidden):
            z = lin(x)  # (batch, width)
            pi = (self.published_keep_prob(x, lin) if self.params.as_published
                  else self.keep_prob(z, i))
            x = F.relu(z) * pi
        return F.log_softmax(self.model.output(x), dim=1)

    def on_epoch_end(self, epoch: int) -> list[dict[str, Any]]:
        """Per hidden layer, averaged over the steps since the last call (then reset):
        pi_mean (mean keep probability), keep_rate (mean of the sampled masks), and beta at
        the time of the call."""
        rows: list[dict[str, Any]] = []
        n = self.steps
        for i in range(len(self.beta)):
            pi = float(self.pi_sum[i]) / n if n else None  # NA: no step ran
            kept = float(self.mask_sum[i]) / n if n else None
            for stat, value in (("pi_mean", pi), ("keep_rate", kept),
                                ("beta", float(self.beta[i]))):
                rows.append(stat_row(i, stat, value))
        self.pi_sum.zero_()
        self.mask_sum.zero_()
        self.steps = 0
        return rows
