"""Implementation: what `paper` and `tuned` mean for a run, resolved into individual choices.

`paper` (the default) is the paper's protocol as profkit ran it before this axis existed: the
run's own optimizer_impl (torch's default unless asked), no denormal flushing unless asked, and
dense optimizer steps (except ALSH-approx with its own `sparse_update=true`).

`tuned` is the best CPU implementation of the same algorithms:
- the fused torch Adam/SGD kernel (TUNED_OPTIMIZER_IMPL) when optimizer_impl is left at
  `default` (an explicit foreach/fused choice stands);
- flush_denormal on (subnormal floats in Adam's state slow x86 several-fold);
- MC-approx's W row norms (for its sampling probabilities) refreshed every TUNED_NORM_REFRESH
  steps instead of every step;
- row-sparse lazy updates of only what a step touched, for the methods that touch a subset:
  ALSH-approx's active rows (and the next layer's matching columns) and Dropout's kept rows and
  columns with impl=gather. Lazy Adam is not dense Adam: see docs/implementations.md.
RunConfig resolves optimizer_impl and flush_denormal on construction (so the recorded config
says what ran); `choices(cfg)` gives every implied choice for run.json and the runs table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

IMPLEMENTATIONS = ("paper", "tuned")

# fused, measured against foreach and default here (benchmarks/optimizers.py: 2-core VM under
# load, 1 thread, 3x1000 Fashion-MNIST parameter shapes, flush-denormal on, 6 interleaved rounds
# of 40 steps, median ms per step): Adam fused 6.3, foreach 36.7, default 43.4; SGD with
# momentum fused 3.0, foreach 5.7, default 5.9. One kernel per parameter that reads and writes
# each value once beats foreach's several passes over every buffer.
TUNED_OPTIMIZER_IMPL = "fused"

# MC-approx's grad_input probabilities need W's row norms, a full pass over W per layer and
# step. tuned recomputes them every TUNED_NORM_REFRESH steps (paper: every step). Measured by
# benchmarks/mc_staleness.py (Fashion-MNIST 3 x 1000, k = 10, batch 20, steps 100-450): the
# estimate's relative error is 3.840 with fresh norms and 3.840 at R = 2..100 (ratio 1.000):
# Adam at lr 1e-3 barely moves a row's norm in 100 steps. 20 keeps a wide margin for faster
# moving weights (larger lr, SGD) while leaving 5% of the norm cost.
TUNED_NORM_REFRESH = 20


@dataclass(frozen=True)
class Choices:
    """Every choice an implementation implies for one run (recorded individually)."""

    implementation: str
    optimizer_impl: str
    flush_denormal: bool
    lazy_updates: bool  # row-sparse lazy optimizer steps of only the touched entries
    lazy_what: str | None  # which entries, in words; None when updates are dense
    norm_refresh: int | None  # MC-approx: steps between W row-norm refreshes; None: other methods

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve(implementation: str, optimizer_impl: str, flush_denormal: bool) -> tuple[str, bool]:
    """(optimizer_impl, flush_denormal) a run uses under `implementation`."""
    if implementation != "tuned":
        return optimizer_impl, flush_denormal
    return (TUNED_OPTIMIZER_IMPL if optimizer_impl == "default" else optimizer_impl), True


def lazy_what(method: str, implementation: str, params: dict[str, Any]) -> str | None:
    """The entries a lazy optimizer updates for this method, or None for dense updates."""
    if method == "alsh-approx" and not params.get("as_published", False):
        if implementation == "tuned" or params.get("sparse_update", False):
            return "active rows of each hidden layer x active input columns, their biases, " \
                   "the output layer's active columns"
    if method == "dropout" and implementation == "tuned" and params.get("impl") == "gather":
        if params.get("as_published", False):  # its later hidden layers are never trained
            return "kept rows of the first hidden layer, their biases, the output layer's " \
                   "kept columns"
        return "kept rows of each hidden layer x kept input columns, their biases, the " \
               "output layer's kept columns"
    return None


def choices(cfg) -> Choices:
    """The choices RunConfig `cfg` (already resolved) implies."""
    what = lazy_what(cfg.method, cfg.implementation, cfg.method_params)
    return Choices(cfg.implementation, cfg.optimizer_impl, cfg.flush_denormal, what is not None,
                   what, norm_refresh(cfg) if cfg.method == "mc-approx" else None)


def norm_refresh(cfg) -> int:
    """Steps between MC-approx's W row-norm refreshes: its norm_refresh param, else 1 (paper)
    or TUNED_NORM_REFRESH (tuned)."""
    given = cfg.method_params.get("norm_refresh", 0)
    if given:
        return given
    return TUNED_NORM_REFRESH if cfg.implementation == "tuned" else 1


def lazy_updates(cfg) -> bool:
    return lazy_what(cfg.method, cfg.implementation, cfg.method_params) is not None
