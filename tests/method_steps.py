"""Shared helpers for method tests: seeded random batches and marker-free training steps."""

from __future__ import annotations

import torch

from profkit.phases import NullMarker

IN, CLASSES = 12, 5


def batches(n_steps: int, batch: int, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_steps):
        yield torch.randn(batch, IN, generator=g), torch.randint(0, CLASSES, (batch,), generator=g)


def train(method, n_steps: int, batch: int) -> list[float]:
    return [float(method.train_step(x, y, NullMarker())) for x, y in batches(n_steps, batch)]
