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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from profkit.methods.base import TrainingMethod, stat_row
from profkit.validation import check_bool, check_probability, check_real

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig

BETA_MAX = 50.0  # |beta| cap: sigmoid(50) is 1.0 in float32, so larger values change nothing
LOGIT_EPS = 1e-6  # mean keep rates are clamped to [eps, 1 - eps] before the logit


@dataclass(frozen=True)
class StandoutParams:
    """p: target mean keep rate in (0, 1]; alpha: slope in pi = sigmoid(alpha z + beta);
    beta_init: starting beta (None: logit(p)); adapt_beta: track p by adapting beta;
    beta_gain: feedback gain in (0, 2]; pi_grad: straight-through gradient through pi."""

    p: float = 0.05
    alpha: float = 1.0
    beta_init: float | None = None
    adapt_beta: bool = True
    beta_gain: float = 0.5
    pi_grad: bool = False

    def __post_init__(self) -> None:
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


class Standout(TrainingMethod):
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

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:
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

    @torch.no_grad()
    def _observe(self, layer: int, pi: torch.Tensor, m: torch.Tensor) -> None:
        """Accumulate keep rates and move beta toward the target mean keep rate."""
        mean_pi = pi.mean()
        self.pi_sum[layer] += mean_pi
        self.mask_sum[layer] += m.mean()
        if self.params.adapt_beta:
            err = self.target_logit - torch.logit(mean_pi, eps=LOGIT_EPS)
            self.beta[layer] = (self.beta[layer] + self.params.beta_gain * err).clamp(
                -BETA_MAX, BETA_MAX)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """Exact expectation: relu(z) * pi at every hidden layer, no sampling."""
        for i, lin in enumerate(self.model.hidden):
            z = lin(x)  # (batch, width)
            x = F.relu(z) * self.keep_prob(z, i)
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
