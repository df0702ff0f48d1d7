"""ALSH-approx (Spring & Shrivastava 2017, as set up in the paper's §5.2): hashed active sets.

Per hidden layer, an asymmetric-LSH index (profkit.lsh) over the layer's units' incoming weight
vectors (rows of nn.Linear.weight, (out, in); the paper's columns of W) picks an active set of
at most `cap_fraction` of the units for each input: the union of the input's L buckets in table
order up to the cap, padded with uniformly random units to the cap. Only the active units are
computed, back-propagated and updated: their weight rows (and the next layer's matching input
columns) are gathered into small leaf tensors (profkit.methods.subset_grads), so forward and
backward are small matmuls; no dense matmul is masked. The output layer is dense over classes
(on the active columns). Evaluation is exact. Hash projections are random +-1 by default
(docs/methods.md; `projection=gaussian` is the textbook SimHash), drawn once per layer.

Batches (`batch_mode`). Each sample queries its own active set. `union` (default, as SLIDE and
MONGOOSE) computes the whole batch on the union of the samples' sets, so a sample also sees
units found for the others (at batch b up to b * cap units); `union-capped` keeps the `cap`
units retrieved by most samples (random tie-break), so the computed size stays at the cap. At
batch 1 both are the paper's algorithm.

Rebuilds (`lsh_rebuild` phase): every unit is re-hashed with its current weights every
`rebuild_every_early` samples until `rebuild_early_until` samples, then every `rebuild_every`
samples (paper: 100, 10000, 1000), and once at each epoch end; the trainer has no epoch-end
hook inside timed phases, so on_epoch_end() flags it and the next step performs it.

Gradients and optimizer. Backward computes only the active entries' gradients. Default: the
run's torch optimizer on the whole model, as the paper's protocol (Adam): its step writes those
gradients into dense .grad tensors that are zero elsewhere, and Adam then reads and writes
every parameter and both moment buffers, so the optimizer phase costs about what Standard's
does and inactive weights keep moving through their Adam momentum. `sparse_update=true`
instead updates only the touched entries (active rows x active input columns, their biases,
the output layer's active columns) with a lazy Adam/SGD of the same hyperparameters, like
torch.optim.SparseAdam: moments of untouched entries neither decay nor move their weights,
and bias correction uses the global step count. With every unit active both equal Standard.
`implementation=tuned` turns sparse_update on (docs/implementations.md).

`as_published=true` reproduces the published code's cost defect for comparison: a dense matmul
with a zeroed copy of the inactive rows (same numbers, no saving). Its other defects are not
reproduced (double forward, weight normalisation overwriting the init, batch-1 only).

Statistics (on_epoch_end): active_set_mean (units computed per step and layer), bucket_fraction
(share of a sample's active set that came from buckets rather than padding), and on every
`recall_every`-th step, inside the `diagnostic` phase, recall_topk: the share of the exact top-k
units by inner product <a, w_j> (what MIPS retrieves; bias excluded; k = cap) that the computed
set contains, averaged over the batch's samples; recall_random is k/n, random selection's
expectation. Layer -1 carries `rebuilds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from profkit.implementation import lazy_updates
from profkit.lsh import FAMILIES, PROJECTIONS, SELECTIONS, HashIndex, RandomStream, Selection
from profkit.lsh_stats import OccupancyLog
from profkit.methods.base import LayerEstimate, PhaseMarker, TrainingMethod, stat_row
from profkit.methods.subset_grads import DenseStepOptimizer, LazyOptimizer, SubsetGrads
from profkit.validation import check_bool, check_choice, check_int, check_probability, check_real

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig

BATCH_MODES = ("union", "union-capped")


def _later(default: Any) -> Any:
    """A parameter added after run ids were published: it enters the id only when set."""
    return field(default=default, metadata={"id_omits_default": True})


@dataclass(frozen=True)
class AlshParams:
    """Hash family and table shape, active-set cap, rebuild schedule, batch and update modes."""

    family: str = "l2-alsh-sign"
    K: int = 6  # sign bits per table
    L: int = 5  # tables per layer
    m: int = 3  # transform terms (l2-alsh-sign, sign-alsh)
    U: float = 0.83  # largest weight-vector norm after scaling
    bin_size: int = _later(8)  # coordinates per DWTA bin (family dwta; SLIDE's default)
    cap_fraction: float = 0.05
    projection: str = "rademacher"  # random +-1 projections, as docs/methods.md
    selection: str = _later("table-order")  # the paper's; "collisions": by collision count
    rerank: int = _later(0)  # >0: shortlist rerank * cap units by hashing, keep the cap best
    rebuild_every_early: int = 100
    rebuild_early_until: int = 10000
    rebuild_every: int = 1000
    rebuild_at_epoch_end: bool = True
    batch_mode: str = "union"
    sparse_update: bool = False
    as_published: bool = False
    recall_every: int = 200  # 0: never measure recall

    def __post_init__(self) -> None:
        check_choice("family", self.family, FAMILIES)
        check_choice("projection", self.projection, PROJECTIONS)
        check_choice("selection", self.selection, SELECTIONS)
        check_choice("batch_mode", self.batch_mode, BATCH_MODES)
        check_int("K", self.K, 1, 16, "sign bits per hash table; paper: 6")
        check_int("L", self.L, 1, 1024, "hash tables per layer; paper: 5")
        check_int("bin_size", self.bin_size, 2, 64, "coordinates per DWTA bin; SLIDE: 8")
        if self.family == "dwta" and self.bin_size ** self.K > 1 << 16:
            raise ValueError(f"family dwta keys tables by bin_size^K = {self.bin_size}^{self.K}"
                             " values; keep it <= 65536 (lower K or bin_size)")
        check_int("m", self.m, 1, 8, "ALSH transform terms; paper: 3")
        check_real("U", self.U, 0.0, 1.0, lo_open=True, hi_open=True,
                   what="largest scaled weight norm; paper: 0.83")
        check_probability("cap_fraction", self.cap_fraction, "active units; paper: 0.05")
        for name in ("rebuild_every_early", "rebuild_early_until", "rebuild_every"):
            check_int(name, getattr(self, name), 1, 10**12, "samples; paper: 100/10000/1000")
        check_int("recall_every", self.recall_every, 0, 10**12, "steps; 0 = never")
        check_int("rerank", self.rerank, 0, 100, "shortlist size in caps; 0 = no re-ranking")
        for name in ("rebuild_at_epoch_end", "sparse_update", "as_published"):
            check_bool(name, getattr(self, name))
        if self.as_published and self.sparse_update:
            raise ValueError("as_published=true runs the published dense step with the stock "
                             "optimizer; it cannot be combined with sparse_update=true")


def cap_size(fraction: float, n: int) -> int:
    """Active-set cap of a layer of n units: round(fraction * n), at least 1, at most n."""
    return max(1, min(n, round(fraction * n)))


def rebuilds_by(seen: int, early_every: int, early_until: int, every: int) -> int:
    """Scheduled rebuilds once `seen` samples are trained: one per `early_every` samples up to
    `early_until`, then one per `every` samples beyond it."""
    early = min(seen, early_until) // early_every
    return early + max(0, seen - early_until) // every


class AlshApprox(TrainingMethod):
    """ALSH-approx; see the module docstring."""

    name = "alsh-approx"
    Params = AlshParams
    phases = ("lsh_query", "forward", "backward", "optimizer", "lsh_rebuild", "diagnostic")

    def __init__(self, cfg: RunConfig, in_features: int, n_classes: int,
                 generator: torch.Generator):
        super().__init__(cfg, in_features, n_classes, generator)
        p = self.params
        hidden = self.model.hidden
        self.indexes = [HashIndex(lin.in_features, p.L, p.K, p.family, p.m, p.U, p.projection,
                                  generator, p.bin_size) for lin in hidden]
        self.caps = [cap_size(p.cap_fraction, lin.out_features) for lin in hidden]
        self.rand = RandomStream(generator)  # bucket subsets, padding, tie-breaks
        self.rebuilds = 0
        self.occupancy = OccupancyLog(self.indexes)
        self.rebuild()  # the paper fills the tables before training (setup, not counted)
        self.rebuild_log: list[int] = []  # samples seen at each rebuild during training
        if not p.as_published:  # as published: autograd's dense .grad and the stock optimizer
            # implementation=tuned implies lazy updates (profkit/implementation.py)
            opt = LazyOptimizer if lazy_updates(cfg) else DenseStepOptimizer
            self.optimizer = opt(cfg, list(self.model.parameters()))
        self.seen = self.steps = 0
        self.rebuild_pending = False
        self._reset_stats()

    @classmethod
    def paper_params(cls) -> dict[str, Any]:
        # §5.2 and §8.4: K = 6, L = 5, m = 3, U = 0.83, 5% active, the published rebuild
        # schedule, dense torch Adam. as_published stays off: it only reproduces a defect.
        return {"family": "l2-alsh-sign", "K": 6, "L": 5, "m": 3, "U": 0.83,
                "cap_fraction": 0.05, "projection": "rademacher", "selection": "table-order",
                "rebuild_every_early": 100,
                "rebuild_early_until": 10000, "rebuild_every": 1000,
                "rebuild_at_epoch_end": True, "sparse_update": False}

    @classmethod
    def learning_params(cls) -> dict[str, Any]:
        """The configuration that learns (docs/alsh.md): Simple-LSH (whose angle ranks units
        exactly by inner product), 256 one-bit tables whose collision counts rank the units,
        an 8x-cap shortlist re-ranked by exact inner product, the paper's rebuild schedule
        (measured: rebuilding every 1000 samples from the start lost 12 points of accuracy
        after 5000 steps), and lazy sparse updates."""
        return {"family": "simple-lsh", "K": 1, "L": 256, "selection": "collisions",
                "rerank": 8, "sparse_update": True}

    def _reset_stats(self) -> None:
        n = len(self.indexes)
        self.active_sum, self.found_frac_sum, self.probed_sum = [0] * n, [0.0] * n, [0] * n
        self.recall_sum, self.recall_n = [0.0] * n, [0] * n
        self.query_steps, self.query_samples = 0, 0
        self.rebuilds = 0
        self.occupancy.reset()

    @torch.no_grad()
    def rebuild(self) -> None:
        """Re-hash every hidden unit with its current weights."""
        for index, lin in zip(self.indexes, self.model.hidden, strict=True):
            index.build(lin.weight.detach())
        for i in range(len(self.indexes)):
            self.occupancy.add(i)
        self.rebuilds += 1
        self.rebuild_pending = False

    def train_step(self, x: torch.Tensor, y: torch.Tensor, phase: PhaseMarker) -> torch.Tensor:
        if self.rebuild_pending:
            with phase("lsh_rebuild"):
                self._rebuild_at(self.seen)
        diag = self.params.recall_every > 0 and self.steps % self.params.recall_every == 0
        logits = self._forward(x, phase, diag)
        with phase("forward"):
            loss = F.nll_loss(F.log_softmax(logits, dim=1), y)
        with phase("backward"):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        with phase("optimizer"):
            self.optimizer.step()
        self._after_step(len(x), phase)
        return loss.detach()

    def _after_step(self, batch: int, phase: PhaseMarker) -> None:
        p = self.params
        before, self.seen = self.seen, self.seen + batch
        self.steps += 1
        sched = (p.rebuild_every_early, p.rebuild_early_until, p.rebuild_every)
        if rebuilds_by(self.seen, *sched) > rebuilds_by(before, *sched):
            with phase("lsh_rebuild"):
                self._rebuild_at(self.seen)

    def _rebuild_at(self, seen: int) -> None:
        self.rebuild()
        self.rebuild_log.append(seen)

    def _forward(self, x: torch.Tensor, phase: PhaseMarker, diag: bool) -> torch.Tensor:
        """Pre-softmax logits (batch, classes) computing only each layer's active units."""
        if self.params.as_published:
            return self._forward_masked(x, phase, diag)
        a, cols = x, None  # a (batch, |cols|): the active part of the layer input
        for i, lin in enumerate(self.model.hidden):
            with phase("lsh_query"):
                rows = self._query(i, a.detach(), cols)  # (|S_i|,)
            if diag:
                with phase("diagnostic"):
                    self._recall(i, a.detach(), cols, rows)
            with phase("forward"):
                w, b = self._gather(lin, rows, cols)  # (|S_i|, |cols|), (|S_i|,)
                a, cols = F.relu(F.linear(a, w, b)), rows  # (batch, |S_i|)
        with phase("forward"):
            w, b = self._gather(self.model.output, None, cols)  # (classes, |S_last|)
            return F.linear(a, w, b)

    def _gather(self, lin: nn.Linear, rows: torch.Tensor | None, cols: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        opt = self.optimizer  # leaves: (|rows|, |cols|) and (|rows|,)
        assert isinstance(opt, SubsetGrads)  # not as_published: __init__ made it one
        return opt.touch(lin.weight, rows, cols), opt.touch(lin.bias, rows, None)

    def _forward_masked(self, x: torch.Tensor, phase: PhaseMarker, diag: bool) -> torch.Tensor:
        """The published code's cost: dense matmuls on weights with inactive rows zeroed."""
        a = x  # (batch, in) then (batch, width) with zeros at inactive units
        for i, lin in enumerate(self.model.hidden):
            with phase("lsh_query"):
                rows = self._query(i, a.detach(), None)
            if diag:
                with phase("diagnostic"):
                    self._recall(i, a.detach(), None, rows)
            with phase("forward"):
                mask = torch.zeros(lin.out_features).index_fill_(0, rows, 1.0)  # (width,)
                a = F.relu(F.linear(a, lin.weight * mask[:, None], lin.bias * mask))
        with phase("forward"):
            out: torch.Tensor = self.model.output(a)
        return out

    def _query(self, i: int, a: torch.Tensor, cols: torch.Tensor | None) -> torch.Tensor:
        """The layer's active units (|S|,) for the batch a (batch, |cols|), sorted."""
        index, cap, p = self.indexes[i], self.caps[i], self.params
        codes = index.query_codes(a, cols)  # (batch, L)
        short = min(index.n, cap * p.rerank) if p.rerank else cap
        sels = [index.select(c, short, self.rand, p.selection) for c in codes]
        if p.rerank:
            sels = [self._rerank(i, a[s], cols, sel, cap) for s, sel in enumerate(sels)]
        self.found_frac_sum[i] += sum(s.found / max(1, len(s.units)) for s in sels)
        self.probed_sum[i] += sum(s.probed for s in sels)
        if len(sels) == 1:
            units = sels[0].units
        else:
            units = self._combine([s.units for s in sels], index.n, cap)
        self.active_sum[i] += len(units)
        if i == 0:
            self.query_steps += 1
            self.query_samples += len(sels)
        return torch.from_numpy(units)

    def _rerank(self, i: int, a: torch.Tensor, cols: torch.Tensor | None, sel: Selection,
                cap: int) -> Selection:
        """The `cap` units of a hashed shortlist with the largest exact <a, w_j> (a: (|cols|,));
        `found` keeps the shortlist's count of units that came from buckets."""
        if len(sel.units) <= cap:
            return sel
        cand = torch.from_numpy(sel.units)
        w = self.model.hidden[i].weight.detach().index_select(0, cand)  # (|short|, in)
        if cols is not None:
            w = w.index_select(1, cols)  # (|short|, |cols|)
        best = (w @ a).topk(cap).indices  # (cap,)
        units = np.sort(sel.units[best.numpy()])
        return Selection(units, min(cap, sel.found), sel.probed)

    def _combine(self, sets: list[np.ndarray], n: int, cap: int) -> np.ndarray:
        """Batch active set from per-sample sets (see batch_mode)."""
        allu = np.concatenate(sets)
        if self.params.batch_mode == "union":
            return np.unique(allu)
        votes = np.bincount(allu, minlength=n) + 0.5 * self.rand.uniform(n)  # (n,) tie-break
        k = min(cap, int((votes >= 1).sum()))
        return np.sort(np.argpartition(-votes, k - 1)[:k])

    @torch.no_grad()
    def _recall(self, i: int, a: torch.Tensor, cols: torch.Tensor | None,
                rows: torch.Tensor) -> None:
        """Share of each sample's exact top-k units by <a, w_j> present in `rows`."""
        lin = self.model.hidden[i]
        full = a if cols is None else a.new_zeros(len(a), lin.in_features).index_copy_(1, cols, a)
        k = self.caps[i]
        top = (full @ lin.weight.T).topk(k, dim=1).indices  # (batch, k)
        hit = torch.isin(top, rows).double().mean(dim=1)  # (batch,)
        self.recall_sum[i] += float(hit.sum())
        self.recall_n[i] += len(hit)

    @torch.no_grad()
    def layer_estimates(self, x: torch.Tensor, y: torch.Tensor) -> list[LayerEstimate]:
        """Per hidden layer, the ALSH forward (each sample its own active set, as at batch 1;
        inactive units estimated 0; the estimate feeds the next layer) beside the exact dense
        activations, both (batch, width). Draws from a copy of the generator, so training is
        unchanged."""
        copy = torch.Generator().set_state(self.gen.get_state())
        return self._estimates(x, RandomStream(copy))

    def _estimates(self, x: torch.Tensor, rand: RandomStream) -> list[LayerEstimate]:
        exact = est = x
        out = []
        for i, lin in enumerate(self.model.hidden):
            exact = F.relu(lin(exact))  # (batch, width)
            index, cap = self.indexes[i], self.caps[i]
            mask = torch.zeros(len(x), lin.out_features, dtype=torch.bool)
            for s, c in enumerate(index.query_codes(est)):
                sel = index.select(c, cap, rand, self.params.selection)
                mask[s, torch.from_numpy(sel.units)] = True
            est = F.relu(lin(est)) * mask  # dense here: analysis, not training
            out.append(LayerEstimate(i, "activation", exact, est))
        return out

    def extra_tables(self, epoch: int) -> dict[str, dict[str, list[Any]]]:
        """The epoch's per-table bucket occupancy (lsh_tables); call before on_epoch_end."""
        return {"lsh_tables": self.occupancy.table_rows(epoch)}

    def on_epoch_end(self, epoch: int) -> list[dict[str, Any]]:
        """active_set_mean, bucket_fraction, tables_probed per layer; diagnostic recall_topk,
        recall_random and the OccupancyLog's statistics; rebuilds (layer -1). Counts since
        the last call; NA when no step ran."""
        rows: list[dict[str, Any]] = self.occupancy.stat_rows()
        steps, samples = self.query_steps, self.query_samples
        for i, lin in enumerate(self.model.hidden):
            stats = [("active_set_mean", self.active_sum[i] / steps if steps else None, False),
                     ("bucket_fraction", self.found_frac_sum[i] / samples if samples else None,
                      False),
                     ("recall_topk", self.recall_sum[i] / self.recall_n[i]
                      if self.recall_n[i] else None, True),
                     ("tables_probed", self.probed_sum[i] / samples if samples else None,
                      False),
                     ("recall_random", self.caps[i] / lin.out_features, True)]
            rows += [stat_row(i, s, v, d) for s, v, d in stats]
        rows.append(stat_row(-1, "rebuilds", self.rebuilds))
        self._reset_stats()
        self.rebuild_pending = self.params.rebuild_at_epoch_end
        return rows
