"""Hash families and vectorised hash tables for maximum inner-product search (ALSH-approx).

A family is an asymmetric pair of transforms: P for the stored (data) vectors, Q for queries,
chosen so that a large inner product <a, w> becomes a high collision probability of signed
random projections of P(w) and Q(a). Data vectors are first scaled by ONE scalar so that the
largest norm is U (< 1), which every family below needs.

- `l2-alsh-sign` (Shrivastava & Li 2014, m terms), the paper's and its code's choice:
  P(w) = [w; |w|^2; |w|^4; ...; |w|^(2^m)],  Q(a) = [a/|a|; 1/2; ...; 1/2].
  These transforms were designed for L2 (p-stable) hashing; the paper pairs them with sign
  projections, for which they carry no guarantee. Kept as default for fidelity.
- `sign-alsh` (Shrivastava & Li 2015, "Improved ALSH", designed for sign projections):
  P(w) = [w; 1/2 - |w|^2; ...; 1/2 - |w|^(2^m)],  Q(a) = [a/|a|; 0; ...; 0].
- `simple-lsh` (Neyshabur & Srebro 2015; m unused):
  P(w) = [w; sqrt(1 - |w|^2)],  Q(a) = [a/|a|; 0].

Tables. L tables of K sign bits; the projections (dim + extra, L*K) are drawn once. Hashing all
n units is ONE matmul; the L tables live in one sorted array: unit j of table l has key
l * 2^K + code, `units` lists the units sorted by key and `offsets[key]:offsets[key + 1]` is a
bucket. A query is a matmul of the (possibly sparse) input with the projection rows of its
nonzero columns, plus a constant for Q's padding terms: Q(a)'s padding does not depend on a.
Code extraction and bucket selection run in numpy on small arrays (lower per-call overhead
than torch at batch 1); random draws come from the caller's torch generator, fetched in
chunks (RandomStream).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from profkit.dwta import MISS, DwtaHasher

SIGN_FAMILIES = ("l2-alsh-sign", "sign-alsh", "simple-lsh")  # signed random projections
FAMILIES = (*SIGN_FAMILIES, "dwta")
PROJECTIONS = ("gaussian", "rademacher")


def extra_dims(family: str, m: int) -> int:
    """Number of coordinates P and Q append to a vector (DWTA appends none)."""
    return {"simple-lsh": 1, "dwta": 0}.get(family, m)


def transform_data(family: str, w: torch.Tensor, m: int) -> torch.Tensor:
    """P(w) for rows w (n, dim) already scaled to norms <= U < 1; returns (n, dim + extra)."""
    sq = (w * w).sum(dim=1, keepdim=True)  # (n, 1) |w|^2
    if family == "simple-lsh":
        return torch.cat([w, (1.0 - sq).clamp_min(0.0).sqrt()], dim=1)
    powers = [sq]
    for _ in range(m - 1):
        powers.append(powers[-1] * powers[-1])  # |w|^(2^(i+1))
    extra = torch.cat(powers, dim=1)  # (n, m)
    if family == "sign-alsh":
        extra = 0.5 - extra
    return torch.cat([w, extra], dim=1)


def query_padding(family: str, m: int) -> torch.Tensor:
    """Q's appended coordinates (extra,): they do not depend on the query."""
    value = 0.5 if family == "l2-alsh-sign" else 0.0
    return torch.full((extra_dims(family, m),), value)


def scale_to_max_norm(w: torch.Tensor, U: float) -> torch.Tensor:
    """w (n, dim) times one scalar so that its largest row norm is U (unchanged if all zero)."""
    top = float(w.norm(dim=1).max())
    return w * (U / top) if top > 0 else w


SELECTIONS = ("table-order", "collisions")


@dataclass(frozen=True)
class Selection:
    """One query's active set: `units` (size <= cap, sorted) of which `found` came from
    buckets; `probed` tables were read before the cap filled (all L when it never did)."""

    units: np.ndarray
    found: int
    probed: int


@dataclass(frozen=True)
class Occupancy:
    """How the last build spread the n units over each table's 2^K buckets, per table (L,):
    non-empty buckets, the largest bucket's size, and the mean size of the bucket a unit
    sits in (sum of squared sizes / n: what a query landing on a unit's bucket reads).
    `extra_share`: mean over units of the share of |P(w)|^2 in the appended coordinates
    (near 1: the transform's terms, not w, decide the sign bits)."""

    nonempty: np.ndarray
    largest: np.ndarray
    mean_size: np.ndarray
    extra_share: float
    n: int


class HashIndex:
    """L tables of K-bit signed-random-projection codes over the transformed rows of a matrix,
    or (family `dwta`) of K winner-take-all hashes over bins of `bin_size` coordinates."""

    def __init__(self, dim: int, n_tables: int, n_bits: int, family: str, m: int, U: float,
                 projection: str, generator: torch.Generator, bin_size: int = 8):
        self.dim, self.L, self.K, self.family, self.m, self.U = dim, n_tables, n_bits, family, m, U
        self.dwta = (DwtaHasher(dim, n_tables, n_bits, bin_size, generator)
                     if family == "dwta" else None)
        n_codes = self.dwta.n_codes if self.dwta else 1 << n_bits  # keys per table
        shape = (dim + extra_dims(family, m), n_tables * n_bits)
        proj = torch.randn(shape, generator=generator)  # (dim + extra, L*K)
        if projection == "rademacher":
            proj = proj.sign()  # a fair +-1 draw (0 has probability zero)
        self.proj = proj
        self.proj_data = proj[:dim]  # (dim, L*K) rows seen by the vector itself
        const = query_padding(family, m) @ proj[dim:]  # (L*K,)
        self.query_const = const.numpy()
        self.has_const = bool(const.abs().sum() > 0)  # only l2-alsh-sign pads with nonzeros
        self.pow2_np = 2 ** np.arange(n_bits, dtype=np.int64)  # (K,)
        self.base = np.arange(n_tables, dtype=np.int64) * n_codes  # (L,) key offsets
        self.n_keys = n_tables * n_codes
        self.n = 0
        self.units = np.zeros(0, dtype=np.int64)
        self.offsets = np.zeros(1, dtype=np.int64)
        self.codes_t = np.zeros((n_tables, 0), dtype=np.int64)
        self.occupancy: Occupancy | None = None

    def data_codes(self, w: torch.Tensor) -> np.ndarray:
        """Codes (n, L) of rows w (n, dim) after scaling to max norm U and the transform P
        (DWTA: each table's joined bin winners)."""
        if self.dwta is not None:
            return self.dwta.data_codes(w)
        return self._np_codes((self._transformed(w) @ self.proj).numpy())

    def _transformed(self, w: torch.Tensor) -> torch.Tensor:
        return transform_data(self.family, scale_to_max_norm(w, self.U), self.m)  # (n, dim+e)

    def build(self, w: torch.Tensor) -> None:
        """(Re)hash all rows of w (n, dim) into the L tables; records their occupancy."""
        if self.dwta is not None:
            p, codes = w, self.dwta.data_codes(w)  # (n, L)
        else:
            p = self._transformed(w)
            codes = self._np_codes((p @ self.proj).numpy())  # (n, L)
        self.n = n = codes.shape[0]
        self.codes_t = np.ascontiguousarray(codes.T)  # (L, n) for collision counts
        keys = (codes + self.base).T.reshape(-1)  # (L*n,) table-major: entry l*n + j is unit j
        order = np.argsort(keys, kind="stable")
        self.units = order % n  # (L*n,) unit ids sorted by (table, code)
        counts = np.bincount(keys, minlength=self.n_keys)  # (L * keys per table,)
        self.offsets = np.concatenate(([0], np.cumsum(counts)))  # (L * keys per table + 1,)
        self.occupancy = _occupancy(counts.reshape(self.L, -1), p, self.dim)

    def query_codes(self, a: torch.Tensor, cols: torch.Tensor | None = None) -> np.ndarray:
        """Codes (b, L) of Q(a) for a (b, |cols|) holding columns `cols` (None: all) of the
        full input; the other columns are zero, so only their projection rows are needed."""
        if self.dwta is not None:
            return self.dwta.query_codes(a, cols)
        proj = self.proj_data if cols is None else self.proj_data.index_select(0, cols)
        h = (a @ proj).numpy()  # (b, L*K); the small rest runs in numpy (cheaper calls)
        if self.has_const:  # Q's padding term matters only relative to the normalised a
            an = a.numpy()
            norm = np.sqrt((an * an).sum(axis=1, keepdims=True)).clip(min=1e-30)  # (b, 1)
            h = h / norm + self.query_const
        return self._np_codes(h)

    def _np_codes(self, h: np.ndarray) -> np.ndarray:
        """Projections h (b, L*K) -> codes (b, L): table l's K sign bits, bit k worth 2^k."""
        bits = (h > 0).reshape(len(h), self.L, self.K)  # (b, L, K)
        return bits.astype(np.int64) @ self.pow2_np  # (b, L)

    def buckets(self, codes: np.ndarray) -> list[np.ndarray]:
        """The L buckets (views of unit ids) that one query's codes (L,) fall in (a MISS code:
        an empty bucket)."""
        keys = codes + self.base
        starts, ends = self.offsets[keys], self.offsets[keys + 1]
        if self.dwta is not None:
            hit = codes != MISS
            starts, ends = np.where(hit, starts, 0), np.where(hit, ends, 0)
        return [self.units[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]

    def select(self, codes: np.ndarray, cap: int, rand: RandomStream,
               rule: str = "table-order") -> Selection:
        """Active set of one query by `rule` (SELECTIONS): select_in_order or select_ranked."""
        if rule == "collisions":
            return self.select_ranked(codes, cap, rand)
        return self.select_in_order(codes, cap, rand)

    def collisions(self, codes: np.ndarray) -> np.ndarray:
        """Per unit (n,), in how many of the L tables it shares one query's bucket. Equal to
        counting the units of the query's L buckets, computed by comparing the stored codes
        (no Python loop over tables)."""
        return (self.codes_t == codes[:, None]).sum(axis=0)  # stored codes are never MISS

    def select_ranked(self, codes: np.ndarray, cap: int, rand: RandomStream) -> Selection:
        """Active set of one query ranked by collisions: every unit's count of the L tables in
        which it shares the query's bucket; the `cap` units with the most collisions (at least
        one; ties broken uniformly at random), padded with uniformly random units to exactly
        min(cap, n). All L tables are probed."""
        counts = self.collisions(codes).astype(np.float64)  # (n,)
        room = min(cap, self.n)
        found = min(room, int((counts > 0).sum()))
        if found:
            score = counts + 0.5 * rand.uniform(self.n)  # tie-break below one collision
            chosen = np.argpartition(-score, found - 1)[:found]
        else:
            chosen = np.zeros(0, dtype=np.int64)
        if found < room:
            taken = np.zeros(self.n, dtype=bool)
            taken[chosen] = True
            chosen = np.concatenate([chosen, rand.pick_untaken(taken, room - found)])
        return Selection(np.sort(chosen), found, self.L)

    def select_in_order(self, codes: np.ndarray, cap: int, rand: RandomStream) -> Selection:
        """Active set of one query: the union of its buckets in table order up to `cap`
        (the bucket that crosses the cap gives a uniformly random subset of its new units),
        padded with uniformly random other units to exactly min(cap, n)."""
        taken = np.zeros(self.n, dtype=bool)
        chosen: list[np.ndarray] = []
        room, probed = min(cap, self.n), 0
        for bucket in self.buckets(codes):
            probed += 1
            new = bucket[~taken[bucket]]  # a unit appears at most once per table
            if len(new) > room:
                new = new[rand.subset(len(new), room)]
            taken[new] = True
            chosen.append(new)
            room -= len(new)
            if room == 0:
                break
        found = min(cap, self.n) - room  # units taken from buckets
        if room:
            chosen.append(rand.pick_untaken(taken, room))
        units = np.sort(np.concatenate(chosen))  # sorted rows gather with better locality
        return Selection(units, found, probed)


def _occupancy(counts: np.ndarray, p: torch.Tensor, dim: int) -> Occupancy:
    """Occupancy of bucket counts (L, 2^K) over transformed rows p (n, dim + extra)."""
    n = int(counts[0].sum())
    sq = (p * p).sum(dim=1).clamp_min(1e-30)  # (n,)
    extra = float(((p[:, dim:] ** 2).sum(dim=1) / sq).mean()) if n else float("nan")
    return Occupancy(np.count_nonzero(counts, axis=1), counts.max(axis=1),
                     (counts.astype(np.float64) ** 2).sum(axis=1) / max(n, 1), extra, n)


def query_extra_share(family: str, m: int) -> float:
    """Share of |Q(a)|^2 in Q's appended coordinates (|a/|a|| = 1); the same for every a."""
    pad = float((query_padding(family, m) ** 2).sum())
    return pad / (1.0 + pad)


class RandomStream:
    """Uniform draws from a torch generator, fetched in chunks for numpy-side sampling.

    One torch call per `chunk` numbers instead of one per query; the draws are still a
    deterministic function of the generator's seed.
    """

    def __init__(self, generator: torch.Generator, chunk: int = 1 << 16):
        self.gen, self.chunk = generator, chunk
        self.buf, self.pos = np.zeros(0), 0

    def uniform(self, k: int) -> np.ndarray:
        """k floats uniform in [0, 1)."""
        if self.pos + k > len(self.buf):
            fresh = torch.rand(max(k, self.chunk), generator=self.gen, dtype=torch.float64)
            self.buf, self.pos = fresh.numpy(), 0
        self.pos += k
        return self.buf[self.pos - k:self.pos]

    def subset(self, n: int, k: int) -> np.ndarray:
        """k distinct positions in range(n), uniformly (k < n)."""
        return np.argpartition(self.uniform(n), k - 1)[:k]

    def pick_untaken(self, taken: np.ndarray, k: int) -> np.ndarray:
        """k distinct indices i with taken[i] false, uniformly; marks them taken."""
        n = len(taken)
        free = n - int(taken.sum())
        if 4 * k <= free:  # rejection: cheap when most units are free
            draw = (self.uniform(4 * k + 16) * n).astype(np.int64)
            draw = draw[~taken[draw]]
            _, first = np.unique(draw, return_index=True)
            if len(first) >= k:
                out = draw[np.sort(first)[:k]]  # the first k distinct draws: uniform
                taken[out] = True
                return out
        pool = np.flatnonzero(~taken)
        out = pool[self.subset(len(pool), k)] if k < len(pool) else pool
        taken[out] = True
        return out
