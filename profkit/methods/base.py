"""TrainingMethod: the dense training step every method starts from, and its phase contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch
import torch.nn.functional as F

from profkit.methods.published import published_flag
from profkit.methods.subset_grads import SubsetGrads
from profkit.model import MLP, make_optimizer
from profkit.validation import check_bool

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig


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


def stat_row(layer: int, stat: str, value: float | None, diagnostic: bool = False
             ) -> dict[str, Any]:
    """One `method_stats` row (schema.py declares its columns; the trainer adds `epoch`).

    layer: hidden layer from 0, -1 for the whole network; value None is NA (no step ran);
    diagnostic: measured only to describe the step, inside the `diagnostic` phase.
    """
    return {"layer": layer, "stat": stat, "value": None if value is None else float(value),
            "diagnostic": diagnostic}


@dataclass(frozen=True)
class StandardParams:
    """as_published: the authors' committed Standard (sigmoid hidden units, N(0, 1) weights).

    Also the Params of TrainingMethod itself, so that a subclass run under the `standard`
    config (tests' fakes, a user's experiment) accepts the recorded parameters; only Standard
    acts on as_published."""

    as_published: bool = published_flag()

    def __post_init__(self) -> None:
        check_bool("as_published", self.as_published)


class TrainingMethod:
    """Standard dense training. Subclasses override the pieces their algorithm changes.

    A method marks phases; it never reads a clock. `phases` lists every phase name its step
    may mark, besides `data` (marked by the trainer); the trainer adds `other` for the rest.
    `diagnostic` is reserved for measurements taken inside a step only to describe it (e.g.
    ALSH recall); analyses leave it out of training time.
    """

    name = "standard"
    Params: type = StandardParams
    phases: tuple[str, ...] = ("forward", "backward", "optimizer")

    def __init__(self, cfg: RunConfig, in_features: int, n_classes: int,
                 generator: torch.Generator):
        self.cfg = cfg
        self.params = self.Params(**cfg.method_params)
        self.gen = generator
        self.model = self.build_model(in_features, n_classes)
        self.optimizer: torch.optim.Optimizer | SubsetGrads = make_optimizer(
            cfg, self.trained_parameters())

    def build_model(self, in_features: int, n_classes: int) -> MLP:
        """The network this method trains (self.params is set): profkit's MLP by default."""
        return MLP(in_features, self.cfg.width, self.cfg.hidden_layers, n_classes)

    def trained_parameters(self) -> list[torch.nn.Parameter]:
        """The parameters the optimizer updates: all of the model's by default."""
        return list(self.model.parameters())

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
        out: torch.Tensor = self.model(x)
        return out

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-probabilities (no sampling, no mask): evaluation is always exact."""
        out: torch.Tensor = self.model(x)
        return out

    def layer_estimates(self, x: torch.Tensor, y: torch.Tensor) -> list[LayerEstimate]:
        """Run this method's approximation on the current weights for batch (x, y) and return
        per-layer estimates beside the exact values, without training. Exact methods: []."""
        return []

    def on_epoch_start(self, epoch: int) -> None:
        """The trainer's epoch-start hook, before the epoch's first step and outside the timed
        phases (the published Dropout re-creates its optimizer here). Default: nothing."""

    def on_epoch_end(self, epoch: int) -> list[dict[str, Any]]:
        """The trainer's epoch-end hook, outside the timed phases. Returns the epoch's rows for
        the `method_stats` table (each from stat_row(); the trainer adds the epoch), then resets
        the counters behind them and schedules epoch-end work (ALSH-approx: a rebuild that the
        next step performs). Side effects are the point: call it once per epoch."""
        return []

    def extra_tables(self, epoch: int) -> dict[str, dict[str, list[Any]]]:
        """Other schema tables this method fills once per epoch (name -> columns); called
        before on_epoch_end. Default: none."""
        return {}


class Standard(TrainingMethod):
    """Plain dense training of the MLP: the reference for every comparison.

    as_published=true trains the authors' committed Standard (Regular_NN/model.py: MLP with
    nn.Sigmoid after every hidden layer, reset_parameters drawing weights from N(0, 1), zero
    biases) instead of profkit's ReLU and Kaiming network; docs/published-variants.md.
    """

    def build_model(self, in_features: int, n_classes: int) -> MLP:
        if not self.params.as_published:
            return super().build_model(in_features, n_classes)
        return MLP(in_features, self.cfg.width, self.cfg.hidden_layers, n_classes,
                   activation="sigmoid", init="normal")
