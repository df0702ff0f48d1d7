"""The MLP every method trains: ReLU hidden layers, Kaiming init, log-softmax over classes."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """input -> `hidden_layers` x Linear(width)+ReLU -> Linear(n_classes) -> log_softmax(dim=1)."""

    def __init__(self, in_features: int, width: int, hidden_layers: int, n_classes: int):
        super().__init__()
        sizes = [in_features] + [width] * hidden_layers + [n_classes]
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Kaiming (He) init for ReLU, zero bias: the authors' README says so; their committed
        # Standard used sigmoid and N(0, 1) instead (docs/methods.md).
        for lin in self.layers:
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
            x = F.relu(lin(x))
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
