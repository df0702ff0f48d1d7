"""Densified winner-take-all hashing (DWTA; Chen & Shrivastava 2018), as SLIDE hashes layers.

Each of the L*K hashes looks at one "bin" of `bin_size` input coordinates (bins come from
concatenated random permutations of the coordinates, so every coordinate is used before any
repeats) and returns the position of the bin's largest value. A table's key joins its K hash
values (base bin_size). A weight vector is dense, so each of its bins has a winner. A query's
zero coordinates (ReLU outputs, the inactive units of the previous layer, black pixels) never
win: a bin holding no nonzero query coordinate is empty. SLIDE densifies empty bins by
borrowing another bin's winner; borrowed winners match the weight's winner of a different bin
only by chance, so here an empty hash makes its table miss (key -1, an empty bucket) instead.
With K = 1 a table is one bin and collisions count how many bins agree on their winner: a
rank-correlation between the query and each unit's weights on the query's own coordinates.
No norm scaling or transform: the winner of a bin does not change under positive scaling.
"""

from __future__ import annotations

import numpy as np
import torch

MISS = -1  # key of a table whose hashes include an empty bin: no bucket


def draw_bins(dim: int, n_hashes: int, bin_size: int, generator: torch.Generator
              ) -> np.ndarray:
    """Coordinate indices (n_hashes, bin_size): consecutive slices of random permutations."""
    need = n_hashes * bin_size
    perms = [torch.randperm(dim, generator=generator) for _ in range(-(-need // dim))]
    return torch.cat(perms)[:need].numpy().reshape(n_hashes, bin_size).astype(np.int64)


class DwtaHasher:
    """L tables of K winner-take-all hashes over bins of `bin_size` coordinates."""

    def __init__(self, dim: int, n_tables: int, n_hashes: int, bin_size: int,
                 generator: torch.Generator):
        self.dim, self.L, self.K, self.bin_size = dim, n_tables, n_hashes, bin_size
        self.bins = draw_bins(dim, n_tables * n_hashes, bin_size, generator)  # (L*K, bin)
        self.place = bin_size ** np.arange(n_hashes, dtype=np.int64)  # (K,) digit weights
        self.n_codes = bin_size ** n_hashes  # keys per table

    def data_codes(self, w: torch.Tensor) -> np.ndarray:
        """Keys (n, L) of dense rows w (n, dim): each bin's winner, joined per table."""
        win = w.numpy()[:, self.bins].argmax(axis=2)  # (n, L*K)
        return self._join(win, np.zeros(win.shape, dtype=bool))

    def query_codes(self, a: torch.Tensor, cols: torch.Tensor | None = None) -> np.ndarray:
        """Keys (b, L) of queries a (b, |cols|) holding columns `cols` (None: all) of the full
        input; zero and absent coordinates never win; a table with an empty bin is MISS."""
        full = np.full((len(a), self.dim + 1), -np.inf)  # column dim: absent (-inf)
        an = a.numpy()
        vals = np.where(an > 0, an, -np.inf)  # only positive coordinates can win
        if cols is None:
            full[:, :self.dim] = vals
        else:
            full[:, cols.numpy()] = vals
        x = full[:, self.bins]  # (b, L*K, bin)
        empty = ~np.isfinite(x.max(axis=2))  # (b, L*K)
        return self._join(x.argmax(axis=2), empty)

    def _join(self, win: np.ndarray, empty: np.ndarray) -> np.ndarray:
        """Winners (b, L*K) -> keys (b, L); MISS where any of a table's K bins is empty."""
        b = len(win)
        keys = win.reshape(b, self.L, self.K) @ self.place  # (b, L)
        miss = empty.reshape(b, self.L, self.K).any(axis=2)
        return np.where(miss, MISS, keys)
