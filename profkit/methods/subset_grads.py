"""Gradients and optimizer steps restricted to the entries a training step touches.

A method that computes only some units (ALSH-approx) gathers their weights as small leaf
tensors with SubsetGrads.touch, so backward computes only those gradients. Two ways to apply
them: DenseStepOptimizer writes them into dense .grad tensors and runs the run's stock torch
optimizer on every parameter (the paper's protocol); LazyOptimizer updates only the touched
entries and their moments (like torch.optim.SparseAdam). With every entry touched both equal
the stock optimizer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from profkit.model import make_optimizer

if TYPE_CHECKING:  # annotations only: a method is handed a config, never builds one
    from profkit.config import RunConfig


class Entries:
    """The entries t[rows][:, cols] (None: all) of any tensor shaped like one parameter:
    gathered and scattered by rows when all columns are taken (contiguous, cheap), else
    through flat row-major indices."""

    def __init__(self, p: torch.Tensor, rows: torch.Tensor | None, cols: torch.Tensor | None):
        self.rows = rows
        self.flat = None if cols is None else _flat_index(p, rows, cols)

    def get(self, t: torch.Tensor) -> torch.Tensor:
        if self.flat is not None:
            return t.view(-1).index_select(0, self.flat)  # (|rows| * |cols|,)
        return t.clone() if self.rows is None else t.index_select(0, self.rows)

    def put(self, t: torch.Tensor, src: torch.Tensor) -> None:
        if self.flat is not None:
            t.view(-1).index_copy_(0, self.flat, src.reshape(-1))
        elif self.rows is None:
            t.copy_(src)
        else:
            t.index_copy_(0, self.rows, src)

    def zero(self, t: torch.Tensor) -> None:
        if self.flat is not None:
            t.view(-1).index_fill_(0, self.flat, 0.0)
        elif self.rows is None:
            t.zero_()
        else:
            t.index_fill_(0, self.rows, 0.0)

    def shape(self, g: torch.Tensor) -> torch.Tensor:
        """A leaf's gradient in the layout get() returns."""
        return g.reshape(-1) if self.flat is not None else g


def _flat_index(p: torch.Tensor, rows: torch.Tensor | None, cols: torch.Tensor) -> torch.Tensor:
    """Indices into p.view(-1) of p[rows][:, cols] (row-major), rows None meaning all."""
    r = torch.arange(p.shape[0]) if rows is None else rows
    return (r[:, None] * p.shape[1] + cols[None, :]).reshape(-1)


class SubsetGrads:
    """Gradients of only the entries a step touches, on small leaves instead of dense .grad.

    `touch(param, rows, cols)` returns a leaf holding param[rows][:, cols] (None: all) for the
    forward, so backward computes exactly the active units' gradients and nothing else.
    Subclasses apply them in step(), which the optimizer phase times.
    """

    def __init__(self) -> None:
        self.touched: list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None,
                                 torch.Tensor]] = []

    def touch(self, p: torch.Tensor, rows: torch.Tensor | None, cols: torch.Tensor | None
              ) -> torch.Tensor:
        w = p.detach()  # (out, in) or (out,); whole: an alias, updated only after backward
        if rows is not None:
            w = w.index_select(0, rows)  # contiguous rows first
        if cols is not None:
            w = w.index_select(1, cols)  # then columns of the small copy
        leaf = w.requires_grad_()
        self.touched.append((p, rows, cols, leaf))
        return leaf

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Gradients live on each step's own leaves; nothing to clear."""

    def step(self) -> None:
        """Apply this step's gradients (the optimizer phase)."""
        raise NotImplementedError

    def _take(self) -> list[tuple[torch.Tensor, Entries, torch.Tensor]]:
        """This step's (param, Entries, gradient) with a gradient; clears the list."""
        out: list[tuple[torch.Tensor, Entries, torch.Tensor]] = []
        for p, rows, cols, leaf in self.touched:
            if leaf.grad is not None:
                e = Entries(p, rows, cols)
                out.append((p, e, e.shape(leaf.grad)))
        self.touched = []
        return out


def _grad(p: torch.Tensor) -> torch.Tensor:
    """p's persistent dense gradient (DenseStepOptimizer creates it for every parameter)."""
    assert p.grad is not None
    return p.grad


class DenseStepOptimizer(SubsetGrads):
    """The run's torch optimizer (Adam/SGD) stepping every parameter, as the paper's protocol.

    Its step first writes the touched gradients into persistent dense .grad tensors (zeroing
    the entries the previous step wrote), then runs the stock step, which reads and writes
    every parameter and moment: that dense cost lands in the optimizer phase.
    """

    def __init__(self, cfg: RunConfig, params: list[nn.Parameter]):
        super().__init__()
        self.inner = make_optimizer(cfg, params)
        for p in params:
            p.grad = torch.zeros_like(p)
        self.written: list[tuple[torch.Tensor, Entries]] = []

    @property
    def state(self) -> dict[torch.Tensor, dict[str, torch.Tensor]]:
        return self.inner.state

    @torch.no_grad()
    def step(self) -> None:
        for p, e in self.written:
            e.zero(_grad(p))
        taken = self._take()
        for p, e, g in taken:
            e.put(_grad(p), g)
        self.written = [(p, e) for p, e, _ in taken]
        self.inner.step()


class LazyOptimizer(SubsetGrads):
    """Adam or SGD (momentum) on the touched entries only, like torch.optim.SparseAdam.

    step() applies each leaf's gradient to its entries and their moments; untouched entries
    and moments stay as they are. `state` mirrors torch's layout so the trainer can measure
    its subnormal fraction.
    """

    def __init__(self, cfg: RunConfig, params: list[nn.Parameter]):
        super().__init__()
        self.cfg, self.t = cfg, 0
        keys = ("exp_avg", "exp_avg_sq") if cfg.optimizer == "adam" else ("momentum_buffer",)
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {
            p: {k: torch.zeros_like(p) for k in keys} for p in params}

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        update = self._adam if self.cfg.optimizer == "adam" else self._sgd
        for p, e, g in self._take():
            update(p.data, self.state[p], e, g)

    def _adam(self, p: torch.Tensor, st: dict[str, torch.Tensor], e: Entries,
              g: torch.Tensor) -> None:
        b1, b2 = 0.9, 0.999  # torch.optim.Adam's defaults, as make_optimizer uses
        m = e.get(st["exp_avg"]).mul_(b1).add_(g, alpha=1 - b1)
        v = e.get(st["exp_avg_sq"]).mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (v.sqrt() / math.sqrt(1 - b2 ** self.t)).add_(self.cfg.adam_eps)
        x = e.get(p).addcdiv_(m, denom, value=-self.cfg.lr / (1 - b1 ** self.t))
        for dst, src in ((st["exp_avg"], m), (st["exp_avg_sq"], v), (p, x)):
            e.put(dst, src)

    def _sgd(self, p: torch.Tensor, st: dict[str, torch.Tensor], e: Entries,
             g: torch.Tensor) -> None:
        d = e.get(st["momentum_buffer"]).mul_(self.cfg.momentum).add_(g)  # t=1: d = g, as torch
        e.put(st["momentum_buffer"], d)
        e.put(p, e.get(p).add_(d, alpha=-self.cfg.lr))
