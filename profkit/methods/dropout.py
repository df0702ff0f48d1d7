"""Dropout (Srivastava et al. 2014): train on a random subset of hidden units, as the paper's §5.1.

Each hidden unit is kept with probability `p` (paper: 0.05) and kept activations are scaled by
1/p (inverted dropout), so evaluation is the plain dense network with no mask and no scaling.
The input and output layers are never dropped.

Two implementations (`impl`):

- `mask`: the usual full matmul, then a Bernoulli mask, as nn.Dropout does. Every sample of a
  batch draws its own mask. It saves no compute: every unit is computed and then most are
  zeroed.
- `gather` (default): the paper's "sampling from the current layer" view. The kept set S of
  each hidden layer is drawn first, ONCE PER STEP AND SHARED BY ALL SAMPLES OF THE BATCH
  (sharing is what lets the rows be gathered: per-sample sets would each need their own rows),
  and only rows S of the layer's weight (nn.Linear weight is (out, in)) and bias are computed;
  the next layer reads only columns S of its weight. It is the only implementation that can save
  time. At batch 1 both implementations draw the same random numbers, so they train
  identically; at batch > 1 they sample different (equally valid) dropout distributions.

Gradients: the gathers are `index_select` on the parameters inside autograd, so backward
scatters into dense `.grad` tensors that are zero outside the kept rows/columns, and the
optimizer (Adam or SGD, from the run config) stays exactly the stock one. The cost tradeoff:
the forward and backward matmuls shrink to |S| units, but backward still allocates and
scatters into a dense zero gradient, and a dense Adam step still reads and writes every
parameter and its two moment buffers (Adam also keeps moving dropped weights through its
momentum, exactly as it does under nn.Dropout). So the optimizer phase costs what Standard's
does; only forward and backward can get cheaper.

With `implementation=tuned` (and impl=gather) the gathered weights are instead small leaf
tensors (profkit.methods.subset_grads) and a lazy Adam/SGD updates only the kept rows and
columns and their moments: the optimizer phase then shrinks with the kept set too, and dropped
weights stop drifting (docs/implementations.md says how lazy Adam differs from dense Adam).

Published-code defects avoided (docs/methods.md): the authors' Dropout kept extra hidden
layers in a plain Python list, so they were never registered or trained (here every layer is
in the MLP's ModuleList); it also re-created Adam every epoch, discarding its moments (here one
optimizer lives for the whole run). `as_published=true` reproduces both for comparison
(profkit.methods.published: every hidden layer after the first keeps its initial weights, and
the optimizer is re-created at each epoch start); docs/published-variants.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from profkit.implementation import lazy_updates
from profkit.methods.base import stat_row
from profkit.methods.public_net import PublicNet
from profkit.methods.published import published_flag, unregistered_layers
from profkit.methods.subset_grads import LazyOptimizer, SubsetGrads
from profkit.validation import check_bool, check_choice, check_probability

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig

IMPLS = ("mask", "gather")


@dataclass(frozen=True)
class DropoutParams:
    """p: keep probability of a hidden unit, in (0, 1]; impl: `gather` (default) or `mask`;
    as_published: hidden layers after the first untrained, optimizer re-created every epoch."""

    p: float = 0.05
    impl: str = "gather"
    as_published: bool = published_flag()

    def __post_init__(self) -> None:
        check_probability("p", self.p, "keep probability of a hidden unit; paper: 0.05")
        check_choice("impl", self.impl, IMPLS)
        check_bool("as_published", self.as_published)


def gathered(lin: nn.Linear, rows: torch.Tensor | None, cols: torch.Tensor | None
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight rows `rows`, columns `cols` (None: all) and bias rows of `lin`, inside autograd.

    Returns weight (|rows|, |cols|) and bias (|rows|,). Rows are gathered first: they are
    contiguous in memory, and the column gather then runs on the small (|rows|, in) copy.
    """
    w: torch.Tensor = lin.weight  # (out, in)
    b: torch.Tensor = lin.bias  # (out,)
    if rows is not None:
        w, b = w.index_select(0, rows), b.index_select(0, rows)
    if cols is not None:
        w = w.index_select(1, cols)
    return w, b


class Dropout(PublicNet):
    """Dropout with keep probability p on hidden units; see the module docstring."""

    name = "dropout"
    Params = DropoutParams

    def __init__(self, cfg: RunConfig, in_features: int, n_classes: int,
                 generator: torch.Generator):
        super().__init__(cfg, in_features, n_classes, generator)
        self.p = float(self.params.p)
        self.inv_p = 1.0 / self.p
        n_hidden = len(self.model.hidden)
        self.kept = [0] * n_hidden  # kept unit-samples per layer since the last on_epoch_end
        self.offered = [0] * n_hidden  # unit-samples that could have been kept
        self.kept_t = torch.zeros(n_hidden, dtype=torch.float64)  # mask impl: tensor counts
        self.last_kept: list[torch.Tensor] = []  # gather: kept index sets of the last step
        self.lazy = lazy_updates(cfg)
        # as published, these layers' weights never change: they are gathered by plain
        # autograd (never as the lazy optimizer's leaves) and left out of every optimizer
        self.frozen = {id(lin) for lin in unregistered_layers(self.model)} \
            if self.params.as_published else set()
        if self.lazy:  # tuned: only the kept entries are gathered as leaves and updated
            self.optimizer = self._new_optimizer()

    def _new_optimizer(self) -> torch.optim.Optimizer | SubsetGrads:
        if self.lazy:
            return LazyOptimizer(self.cfg, self.trained_parameters())
        return super()._new_optimizer()

    @classmethod
    def paper_params(cls) -> dict[str, Any]:
        # §8.4: "the probability of picking nodes for Dropout ... p = 0.05".
        return {"p": 0.05, "impl": "gather"}

    def forward_train(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.train_logits(x)
        return F.log_softmax(logits, dim=1)  # (batch, classes)

    def train_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-softmax output of one dropout sample (batch, classes); draws from self.gen."""
        if self.params.impl == "gather":
            return self._gather_logits(x)
        return self._mask_logits(x)

    def _mask_logits(self, x: torch.Tensor) -> torch.Tensor:
        for i, lin in enumerate(self.model.hidden):
            h = F.relu(lin(x))  # (batch, width): every unit computed
            u = torch.rand(h.shape, generator=self.gen)  # (batch, width)
            keep = u < self.p
            x = h * (keep * self.inv_p)  # inverted dropout
            self.kept_t[i] += keep.sum()
            self.offered[i] += keep.numel()
        out: torch.Tensor = self.model.output(x)
        return out

    def _gather_logits(self, x: torch.Tensor) -> torch.Tensor:
        cols = None
        kept: list[torch.Tensor] = []
        for i, lin in enumerate(self.model.hidden):
            u = torch.rand(lin.out_features, generator=self.gen)  # (width,)
            rows = torch.nonzero(u < self.p).squeeze(1)  # (|S|,) one set for the whole batch
            w, b = self._gathered(lin, rows, cols)  # (|S|, |S_prev| or in), (|S|,)
            x = F.relu(F.linear(x, w, b)) * self.inv_p  # (batch, |S|)
            kept.append(rows)
            self.kept[i] += rows.numel()
            self.offered[i] += lin.out_features
            cols = rows
        self.last_kept = kept
        w, b = self._gathered(self.model.output, None, cols)  # (classes, |S_last|)
        return F.linear(x, w, b)

    def _gathered(self, lin: nn.Linear, rows: torch.Tensor | None, cols: torch.Tensor | None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.lazy or id(lin) in self.frozen:
            return gathered(lin, rows, cols)
        opt = self.optimizer  # leaves the lazy step scatters back: (|rows|, |cols|), (|rows|,)
        assert isinstance(opt, SubsetGrads)  # self.lazy: __init__ made it a LazyOptimizer
        return opt.touch(lin.weight, rows, cols), opt.touch(lin.bias, rows, None)

    def on_epoch_end(self, epoch: int) -> list[dict[str, Any]]:
        """keep_rate per hidden layer: kept / offered unit-samples since the last call (then
        reset). For `gather` a unit-sample is a unit in one step (the set is shared by the
        batch), for `mask` a unit of one sample. kept_units_mean: mean kept units per draw."""
        rows: list[dict[str, Any]] = []
        for i in range(len(self.kept)):
            kept = self.kept[i] + float(self.kept_t[i])
            offered, width = self.offered[i], self.model.hidden[i].out_features
            rate = kept / offered if offered else None  # NA: no step ran
            rows.append(stat_row(i, "keep_rate", rate))
            rows.append(stat_row(i, "kept_units_mean", rate * width if rate is not None else None))
        self.kept = [0] * len(self.kept)
        self.offered = [0] * len(self.offered)
        self.kept_t.zero_()
        return rows
