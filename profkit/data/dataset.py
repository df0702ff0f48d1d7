"""Dataset: the split, normalised tensors a run trains and evaluates on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass
class Dataset:
    name: str
    n_classes: int
    X_train: torch.Tensor  # (n_train, features) float32
    y_train: torch.Tensor  # (n_train,) int64
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def in_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


Index = np.ndarray | slice


def from_arrays(name: str, n_classes: int, x: np.ndarray, y: np.ndarray,
                split: tuple[Index, Index, Index], scale: float,
                info: dict[str, Any], x_test: np.ndarray | None = None,
                y_test: np.ndarray | None = None) -> Dataset:
    """Build a Dataset from integer images `x` (n, ...) scaled by 1/`scale` and splits
    (index arrays or slices).

    With `x_test`/`y_test` given, split[2] is ignored and the separate test set is used.
    """
    def feats(a: np.ndarray) -> torch.Tensor:
        flat = a.reshape(len(a), -1)  # (n, features), still integer pixels
        out = np.empty(flat.shape, np.float32)
        np.multiply(flat, np.float32(1.0 / scale), out=out)  # one pass: convert and scale
        return torch.from_numpy(out)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))

    tr, va, te = split
    if x_test is None:
        x_test, y_test = x[te], y[te]
    return Dataset(name, n_classes, feats(x[tr]), labels(y[tr]), feats(x[va]), labels(y[va]),
                   feats(x_test), labels(y_test), info)
