"""OccupancyLog: what explains ALSH recall, accumulated over an epoch's hash-table builds.

For every layer and table: how many buckets hold units, the largest bucket's share of the
units, and the mean size of the bucket a unit sits in (a query that lands on a unit reads that
many); for every layer, the share of the transformed weight vectors' squared norm that lies in
the transform's appended coordinates (near 1: those terms, not the weights, decide the codes).
The tables standing at the start of an epoch count as one build, so an epoch without a
rebuild still reports them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from profkit.lsh import HashIndex, query_extra_share


class OccupancyLog:
    """Sums of HashIndex.occupancy over builds, per layer; rows for method_stats/lsh_tables."""

    def __init__(self, indexes: list[HashIndex]):
        self.indexes = indexes
        self.reset()

    def reset(self) -> None:
        n = len(self.indexes)
        self.builds = [0] * n
        self.largest = [np.zeros(ix.L) for ix in self.indexes]  # sums of largest / n
        self.largest_max = [np.zeros(ix.L) for ix in self.indexes]
        self.mean_size = [np.zeros(ix.L) for ix in self.indexes]
        self.nonempty = [np.zeros(ix.L) for ix in self.indexes]
        self.extra = [0.0] * n
        for i in range(n):
            self.add(i)

    def add(self, i: int) -> None:
        """Count layer i's current tables (after a build)."""
        occ = self.indexes[i].occupancy
        if occ is None or occ.n == 0:
            return
        share = occ.largest / occ.n
        self.builds[i] += 1
        self.largest[i] += share
        self.largest_max[i] = np.maximum(self.largest_max[i], share)
        self.mean_size[i] += occ.mean_size
        self.nonempty[i] += occ.nonempty
        self.extra[i] += occ.extra_share

    def stat_rows(self) -> list[dict[str, Any]]:
        """method_stats rows per layer (diagnostic: measured at builds, outside the steps)."""
        rows = []
        for i, ix in enumerate(self.indexes):
            b = self.builds[i]
            vals = {"largest_bucket_share": float(self.largest[i].mean()) / b if b else None,
                    "bucket_size_mean": float(self.mean_size[i].mean()) / b if b else None,
                    "data_extra_share": self.extra[i] / b if b else None,
                    "query_extra_share": query_extra_share(ix.family, ix.m)
                    if ix.dwta is None else 0.0}
            rows += [{"layer": i, "stat": k, "value": v, "diagnostic": True}
                     for k, v in vals.items()]
        return rows

    def table_rows(self, epoch: int) -> dict[str, list]:
        """lsh_tables columns: one row per layer and table, means over the epoch's builds."""
        cols: dict[str, list] = {k: [] for k in (
            "epoch", "layer", "table", "builds", "buckets_nonempty", "largest_share",
            "largest_share_max", "bucket_size_mean")}
        for i, ix in enumerate(self.indexes):
            b = self.builds[i]
            if not b:
                continue
            for t in range(ix.L):
                for k, v in (("epoch", epoch), ("layer", i), ("table", t), ("builds", b),
                             ("buckets_nonempty", self.nonempty[i][t] / b),
                             ("largest_share", self.largest[i][t] / b),
                             ("largest_share_max", self.largest_max[i][t]),
                             ("bucket_size_mean", self.mean_size[i][t] / b)):
                    cols[k].append(v)
        return cols
