"""Exact evaluation: accuracy, mean NLL and confusion counts of a method's dense model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class EvalResult:
    accuracy: float
    loss: float
    confusion: np.ndarray  # (classes, classes): rows true label, columns predicted label


def evaluate(method, x: torch.Tensor, y: torch.Tensor, n_classes: int,
             batch_size: int = 1000) -> EvalResult:
    preds, loss_sum = [], 0.0
    for i in range(0, len(y), batch_size):
        logp = method.evaluate(x[i:i + batch_size])  # (batch, classes)
        loss_sum += float(F.nll_loss(logp, y[i:i + batch_size], reduction="sum"))
        preds.append(logp.argmax(dim=1))
    pred = torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)
    conf = torch.bincount(y * n_classes + pred, minlength=n_classes * n_classes)
    n = max(len(y), 1)
    return EvalResult(float((pred == y).sum()) / n, loss_sum / n,
                      conf.reshape(n_classes, n_classes).numpy())


def confusion_rows(epoch: int, split: str, conf: np.ndarray) -> dict[str, list]:
    """Long-format rows of the `confusion` table (zero cells included: a zero is observed)."""
    k = conf.shape[0]
    t, p = np.divmod(np.arange(k * k), k)
    return {"epoch": [epoch] * (k * k), "split": [split] * (k * k), "true_label": t.tolist(),
            "pred_label": p.tolist(), "count": conf.reshape(-1).tolist()}
