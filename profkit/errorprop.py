"""Error-propagation measurement (§7): per-layer estimation errors of approximate methods.

On a real network (fresh, or trained for a few steps) and a real batch, it compares what an
approximate method estimates with the exact values, layer by layer:

- methods: whatever `TrainingMethod.layer_estimates` returns (ALSH-approx: hidden activations;
  MC-approx: grad_input / grad_weight).
- oracles (ORACLES, run on the same weights): `topk-terms` keeps, at every hidden node, the
  exact top `fraction` of its input terms |ā_i W_ij| (Lemma 7.1's setting, no retrieval error);
  `topk-units` computes the exact top `fraction` of each layer's units by inner product W_j · ā
  and zeroes the rest (ALSH with perfect maximum-inner-product retrieval). Comparing ALSH with
  `topk-units` separates LSH retrieval error from the error of keeping 5% of the units.

Each estimate is propagated: layer k is computed from the estimates of layer k-1. The ratio c
(analyses.errorprop) is measured per (sample, node) on the exact previous-layer activations,
split by the active set: per node for `topk-terms`; for `topk-units` the selected units of the
previous layer; for a method, its previous layer's units with a nonzero estimate (a unit the
method computed whose ReLU output is 0 counts as inactive; it adds nothing to the estimate
either way). The first hidden layer reads the whole input, so its c is inf there. Oracles work
in float64 so that keeping every term reproduces the exact values to rounding.

Rows are tidy (analyses.errorprop.STUDY_COLUMNS); analyses.errorprop summarises them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from profkit.config import RunConfig
from profkit.data import Dataset, load_dataset
from profkit.methods import METHODS, get_method
from profkit.methods.base import LayerEstimate, TrainingMethod
from profkit.model import MLP
from profkit.phases import NullMarker
from profkit.schema import STUDY_TABLES, study_file
from profkit.store import write_study
from profkit.train import torch_settings

APPROXIMATE = ("alsh-approx", "mc-approx")
ACTIVATION = "activation"
STUDY_FILE = study_file("errorprop")
CHUNK = 4  # samples per (batch, out, in) term tensor in topk-terms: bounds its memory

Estimates = tuple[list[LayerEstimate], list[torch.Tensor | None]]  # estimates, c per layer


def exact_hidden(model: MLP, x: torch.Tensor) -> list[torch.Tensor]:
    """Exact post-ReLU activations of every hidden layer, float64: each (batch, width)."""
    out, a = [], x.double()
    for lin in model.hidden:
        a = F.relu(F.linear(a, lin.weight.double(), lin.bias.double()))
        out.append(a)
    return out


def _topk_terms_layer(a_est: torch.Tensor, a_exact: torch.Tensor, w: torch.Tensor, k: int
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Kept-term sums (batch, out) of the top-k |ā_i W_ij| per node, and c per (sample, node)."""
    kept, act = [], []
    for s in range(0, len(a_est), CHUNK):
        terms = a_est[s:s + CHUNK, None, :] * w  # (b, out, in)
        idx = terms.abs().topk(k, dim=2).indices  # (b, out, k)
        kept.append(terms.gather(2, idx).sum(2))  # (b, out)
        act.append((a_exact[s:s + CHUNK, None, :] * w).gather(2, idx).sum(2))
    act_t = torch.cat(act)
    return torch.cat(kept), act_t / (a_exact @ w.T - act_t)


@torch.no_grad()
def topk_terms(model: MLP, x: torch.Tensor, fraction: float) -> Estimates:
    """Oracle: every hidden node sums only its top `fraction` of input terms by |ā_i W_ij|."""
    exact, ests, cs = exact_hidden(model, x), [], []
    a_est = a_prev = x.double()
    for lin, a_ex in zip(model.hidden, exact, strict=True):
        w, b = lin.weight.double(), lin.bias.double()  # (out, in), (out,)
        k = max(1, math.ceil(fraction * w.shape[1]))
        kept, c = _topk_terms_layer(a_est, a_prev, w, k)
        a_est = F.relu(kept + b)
        ests.append(LayerEstimate(len(ests), ACTIVATION, a_ex, a_est))
        cs.append(c)
        a_prev = a_ex
    return ests, cs


@torch.no_grad()
def topk_units(model: MLP, x: torch.Tensor, fraction: float) -> Estimates:
    """Oracle: each layer computes its exact top `fraction` of units by W_j · ā (per sample)."""
    exact, ests, cs = exact_hidden(model, x), [], []
    a_est = a_prev = x.double()
    mask_prev = None
    for lin, a_ex in zip(model.hidden, exact, strict=True):
        w, b = lin.weight.double(), lin.bias.double()
        scores = a_est @ w.T  # (batch, out): the inner products MIPS ranks
        idx = scores.topk(max(1, math.ceil(fraction * w.shape[0])), dim=1).indices
        mask = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, idx, True)
        a_est = F.relu(scores + b) * mask
        ests.append(LayerEstimate(len(ests), ACTIVATION, a_ex, a_est))
        cs.append(shared_set_c(a_prev, mask_prev, w))
        a_prev, mask_prev = a_ex, mask
    return ests, cs


def shared_set_c(a_prev: torch.Tensor, active_prev: torch.Tensor | None, w: torch.Tensor
                 ) -> torch.Tensor:
    """c per (sample, node) when all nodes of a layer share their active inputs `active_prev`
    (batch, in); None means every input is active (c = inf)."""
    total = a_prev @ w.T  # (batch, out)
    if active_prev is None:
        return torch.full_like(total, math.inf)
    act = (a_prev * active_prev) @ w.T
    return act / (total - act)


ORACLES: dict[str, Callable[[MLP, torch.Tensor, float], Estimates]] = {
    "topk-terms": topk_terms,
    "topk-units": topk_units,
}


def method_estimates(method: TrainingMethod, x: torch.Tensor, y: torch.Tensor) -> Estimates:
    """A method's own layer estimates, with c inferred for its activation estimates."""
    ests = method.layer_estimates(x, y)
    exact = exact_hidden(method.model, x)
    acts = {e.layer: e for e in ests if e.quantity == ACTIVATION}
    cs: list[torch.Tensor | None] = []
    for e in ests:
        prev = acts.get(e.layer - 1)
        if e.quantity != ACTIVATION or (e.layer > 0 and prev is None):
            cs.append(None)
            continue
        w = method.model.layers[e.layer].weight.detach().double()
        a_prev = exact[e.layer - 1] if e.layer > 0 else x.double()
        cs.append(shared_set_c(a_prev, None if e.layer == 0 else prev.estimate != 0, w))
    return ests, cs


def error_metrics(exact: torch.Tensor, estimate: torch.Tensor) -> dict[str, float]:
    """rel_error, node_rel_error_median, error_to_estimate_median (absent when undefined)."""
    a, a_hat = exact.detach().double(), estimate.detach().double()
    e = (a_hat - a).abs()
    out: dict[str, float] = {}
    norm = float(a.norm())
    if norm > 0:
        out["rel_error"] = float(e.norm()) / norm
    nz, computed = a != 0, a_hat != 0
    if nz.any():
        out["node_rel_error_median"] = float((e[nz] / a[nz].abs()).median())
    if computed.any():
        out["error_to_estimate_median"] = float((e[computed] / a_hat[computed].abs()).median())
    return out


def c_metrics(c: torch.Tensor) -> dict[str, float]:
    """Median and quartiles of c over (sample, node), NaN (0/0) left out; no interpolation."""
    v = c.detach().double().flatten().numpy()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return {}
    q = np.quantile(v, [0.25, 0.5, 0.75], method="inverted_cdf")
    return {"c_q25": float(q[0]), "c_median": float(q[1]), "c_q75": float(q[2])}


def estimate_rows(name: str, estimates: Estimates) -> list[dict]:
    rows = []
    for est, c in zip(*estimates, strict=True):
        metrics = error_metrics(est.exact, est.estimate)
        if c is not None:
            metrics.update(c_metrics(c))
        rows += [{"method": name, "layer": est.layer, "quantity": est.quantity, "metric": m,
                  "value": v} for m, v in metrics.items()]
    return rows


def measure(method: TrainingMethod, x: torch.Tensor, y: torch.Tensor,
            oracles: Iterable[str] = tuple(ORACLES), fraction: float = 0.05) -> pd.DataFrame:
    """Per-layer error metrics of `method` and of the oracles on its current weights for one
    batch (x: (batch, in), y: (batch,)). Columns: method, trained_with, layer, quantity,
    metric, value. An exact method (layer_estimates == []) contributes only oracle rows."""
    oracles = check_oracles(oracles)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1] (share of terms/units kept), got {fraction}")
    rows = estimate_rows(method.name, method_estimates(method, x, y))
    for o in oracles:
        rows += estimate_rows(o, ORACLES[o](method.model, x, fraction))
    df = pd.DataFrame(rows, columns=["method", "layer", "quantity", "metric", "value"])
    df.insert(1, "trained_with", method.name)
    return df


def check_oracles(oracles: Iterable[str]) -> tuple[str, ...]:
    oracles = tuple(oracles)
    unknown = [o for o in oracles if o not in ORACLES]
    if unknown:
        raise ValueError(f"unknown oracle(s) {unknown}; valid oracles: {', '.join(ORACLES)}")
    return oracles


def train_fresh(cfg: RunConfig, ds: Dataset, steps: int) -> TrainingMethod:
    """A fresh method from `cfg` (seeded as the trainer seeds it), trained `steps` steps."""
    torch.manual_seed(cfg.seed)
    method = get_method(cfg.method)(cfg, ds.in_features, ds.n_classes,
                                    torch.Generator().manual_seed(cfg.seed + 1))
    gen, marker = torch.Generator().manual_seed(cfg.seed), NullMarker()
    n = len(ds.y_train)
    for _ in range(steps):
        idx = torch.randint(n, (cfg.batch_size,), generator=gen)
        method.train_step(ds.X_train[idx], ds.y_train[idx], marker)
    return method


def measurement_batch(ds: Dataset, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` validation samples (test samples if there is no validation split)."""
    x, y = (ds.X_val, ds.y_val) if len(ds.y_val) else (ds.X_test, ds.y_test)
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(10_000 + seed))[:size]
    return x[idx], y[idx]


def default_methods() -> tuple[str, ...]:
    """The registered approximate methods, or Standard (oracles only) when none is."""
    return tuple(m for m in APPROXIMATE if m in METHODS) or ("standard",)


def run_study(cfg: RunConfig, depths: Iterable[int] = range(1, 8), seeds: Iterable[int] = (0, 1, 2),
              steps: int = 100, batch: int = 20, methods: Iterable[str] | None = None,
              oracles: Iterable[str] = tuple(ORACLES), fraction: float = 0.05,
              results: str | Path | None = None, dataset: Dataset | None = None) -> pd.DataFrame:
    """For every method, depth and seed: train a fresh network `steps` steps with that method
    (cfg's other fields), then measure it and the oracles on a `batch`-sample validation batch.
    Returns the tidy study frame; with `results`, also writes <results>/errorprop.parquet
    (replacing an earlier study there). `profkit errorprop` is this function's command."""
    methods = tuple(methods) if methods is not None else default_methods()
    for m in methods:
        get_method(m)  # unknown names fail before any training
    check_oracles(oracles)
    ds = dataset if dataset is not None else load_dataset(cfg.dataset, cfg.data_dir)
    parts = []
    with torch_settings(cfg.threads, cfg.flush_denormal):  # cfg's threads, as for a run
        for m in methods:
            params = cfg.method_params if m == cfg.method else {}
            for depth in depths:
                for seed in seeds:
                    c = cfg.replace(method=m, hidden_layers=depth, seed=seed,
                                    method_params=params)
                    x, y = measurement_batch(ds, batch, seed)
                    df = measure(train_fresh(c, ds, steps), x, y, oracles, fraction)
                    parts.append(df.assign(dataset=ds.name, depth=depth, width=c.width,
                                           batch_size=len(y), steps=steps, seed=seed))
    study = pd.concat(parts, ignore_index=True)[list(STUDY_TABLES["errorprop"].column_names)]
    if results is not None:
        save_study(study, results)
    return study


def save_study(study: pd.DataFrame, results: str | Path) -> Path:
    """Write the study atomically to <results>/errorprop.parquet in its declared schema."""
    return write_study("errorprop", study, results)
