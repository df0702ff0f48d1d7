"""Train/validation/test splits: the paper's fixed splits and seeded stratified shuffles."""

from __future__ import annotations

import numpy as np

SPLIT_SEED = 0  # one fixed split for every run of a dataset, whatever the run's seed


def stratified_split(labels: np.ndarray, fractions: tuple[float, float, float],
                     seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train/val/test: each class is shuffled with `seed` and cut by `fractions`."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_tr = int(round(fractions[0] * len(idx)))
        n_va = int(round(fractions[1] * len(idx)))
        cuts = (idx[:n_tr], idx[n_tr:n_tr + n_va], idx[n_tr + n_va:])
        for part, sl in zip(parts, cuts, strict=True):
            part.append(sl)
    # Shuffle across classes too, so no consumer can see label-sorted order.
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)  # type: ignore[return-value]


def head_validation(n_train_official: int, n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's split of an official training set: the first `n_val` are validation."""
    idx = np.arange(n_train_official)
    return idx[n_val:], idx[:n_val]
