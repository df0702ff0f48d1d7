"""TrainingMethod: the dense training step every method starts from, and its phase contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from profkit.model import MLP, make_optimizer


class PhaseMarker(Protocol):
    """`with phase("forward"): ...` marks a phase; the trainer decides what that measures.

    Invariant I1 of docs/architecture.md: algorithm code names phases, never measures them.
    """

    def __call__(self, name: str) -> Any: ...


@dataclass(frozen=True)
class LayerEstimate:
    """One layer's approximated quantity next to its exact value (for Theorem 7.2 analyses).

    quantity: `activation` (forward, e.g. ALSH-approx), `grad_input` or `grad_weight`
    (backward, e.g. MC-approx). layer: hidden-layer index from 0 (the output layer is
    index hidden_layers). Tensors have the same shape.
    """

    layer: int
    quantity: str
    exact: torch.Tensor
    estimate: torch.Tensor


@dataclass(frozen=True)
class NoParams:
    """A method without parameters of its own."""


class TrainingMethod:
    """Standard dense training. Subclasses override the pieces their algorithm changes.

    A method marks phases; it never reads a clock. `phases` lists every phase name its step
    may mark, besides `data` (marked by the trainer); the trainer adds `other` for the rest.
    `diagnostic` is reserved for measurements taken inside a step only to describe it (e.g.
    ALSH recall); analyses leave it out of training time.
    """

    name = "standard"
    Params: type = NoParams
    phases: tuple[str, ...] = ("forward", "backward", "optimizer")

    def __init__(self, cfg, in_features: int, n_classes: int, generator: torch.Generator):
        self.cfg = cfg
        self.params = self.Params(**cfg.method_params)
        self.gen = generator
        self.model = MLP(in_features, cfg.width, cfg.hidden_layers, n_classes)
        self.optimizer = make_optimizer(cfg, self.model.parameters())

    @classmethod
    def paper_params(cls) -> dict[str, Any]:
        """This method's parameters as the paper set them (default: the Params defaults)."""
        return {}

    def train_step(self, x: torch.Tensor, y: torch.Tensor, phase: PhaseMarker) -> torch.Tensor:
        """One step on batch (x: (batch, in), y: (batch,)); returns the detached loss."""
        with phase("forward"):
            loss = F.nll_loss(self.forward_train(x), y)
        with phase("backward"):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        with phase("optimizer"):
            self.optimizer.step()
        return loss.detach()

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-probabilities (no sampling, no mask): evaluation is always exact."""
        return self.model(x)

    def layer_estimates(self, x: torch.Tensor, y: torch.Tensor) -> list[LayerEstimate]:
        """Run this method's approximation on the current weights for batch (x, y) and return
        per-layer estimates beside the exact values, without training. Exact methods: []."""
        return []

    def epoch_stats(self, epoch: int) -> list[dict[str, Any]]:
        """Rows for the `method_stats` table: dicts with layer, stat, value, diagnostic."""
        return []

    def extra_tables(self, epoch: int) -> dict[str, dict[str, list]]:
        """Other schema tables this method fills once per epoch (name -> columns); called
        before epoch_stats. Default: none."""
        return {}


class Standard(TrainingMethod):
    """Plain dense training of the MLP: the reference for every comparison."""
