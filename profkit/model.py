"""The MLP every method trains: ReLU hidden layers, Kaiming init, log-softmax over classes.

`activation` and `init` exist for the published variants (docs/published-variants.md): the
authors' committed Standard used sigmoid and N(0, 1) weights, their Dropout network torch's own
nn.Linear initialisation. The defaults are profkit's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu, "sigmoid": torch.sigmoid}
INITS = ("kaiming", "normal", "torch")


class MLP(nn.Module):
    """input -> `hidden_layers` x Linear(width)+act -> Linear(n_classes) -> log_softmax(dim=1).

    activation: `relu` (default) or `sigmoid`; init: `kaiming` (default: Kaiming-uniform for
    ReLU, zero biases), `normal` (N(0, 1), zero biases: the authors' committed Standard) or
    `torch` (nn.Linear's own uniform +-1/sqrt(fan_in) for weights and biases: the authors'
    Dropout and Adaptive-Dropout network).
    """

    def __init__(self, in_features: int, width: int, hidden_layers: int, n_classes: int,
                 activation: str = "relu", init: str = "kaiming"):
        super().__init__()
        if activation not in ACTIVATIONS or init not in INITS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} and init one of "
                             f"{INITS}; got {activation!r}, {init!r}")
        sizes = [in_features] + [width] * hidden_layers + [n_classes]
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        self.act = ACTIVATIONS[activation]
        self.init = init
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Kaiming (He) init for ReLU, zero bias: the authors' README says so; their committed
        # Standard used sigmoid and N(0, 1) instead (docs/methods.md).
        for lin in self.layers:
            if self.init == "torch":  # nn.Linear's own: the authors' Dropout Net never re-inits
                lin.reset_parameters()
                continue
            if self.init == "normal":
                nn.init.normal_(lin.weight, mean=0.0, std=1.0)
            else:
                nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)

    @property
    def hidden(self) -> list[nn.Linear]:
        return list(self.layers[:-1])

    @property
    def output(self) -> nn.Linear:
        return self.layers[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, in) -> (batch, classes)
        for lin in self.layers[:-1]:
            x = self.act(lin(x))
        return F.log_softmax(self.layers[-1](x), dim=1)


def make_optimizer(cfg, params) -> torch.optim.Optimizer:
    """Adam or SGD from a RunConfig, with its implementation (default/foreach/fused) explicit."""
    impls = {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    impl = impls[cfg.optimizer_impl]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, eps=cfg.adam_eps, **impl)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, **impl)


def subnormal_fraction(optimizer: Any) -> float | None:
    # Any object with torch's `state` layout: torch optimizers and profkit's lazy ones.
    """Fraction of floating-point optimizer-state values that are subnormal (0 < |x| < tiny)."""
    n = sub = 0
    for state in optimizer.state.values():
        for v in state.values():
            if isinstance(v, torch.Tensor) and v.is_floating_point() and v.numel() > 1:
                a = v.abs()
                sub += int(((a > 0) & (a < torch.finfo(v.dtype).tiny)).sum())
                n += v.numel()
    return sub / n if n else None
