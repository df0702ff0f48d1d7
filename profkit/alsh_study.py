"""Recall of ALSH active sets against K, L, m, U, family and selection rule, on real weights.

A network is trained briefly (errorprop.train_fresh), then for each hash configuration in a
grid, every hidden layer's units are hashed with that configuration and each measurement
sample queries them with the layer's exact input, sparsified to what a perfect active set
passes on (the previous layer's exact top-cap units; layer 0 sees the raw input). Per layer
and configuration: recall of the exact top-cap units by <a, w_j>, random choice's k/n, the
share of the set found in buckets, tables probed, the largest bucket's share and the share of
the transformed norm in appended terms. Written to <results>/alsh_study.parquet
(schema.STUDY_TABLES["alsh_study"]).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from profkit.config import RunConfig
from profkit.data import Dataset, load_dataset
from profkit.errorprop import measurement_batch, train_fresh
from profkit.lsh import HashIndex, RandomStream
from profkit.methods.alsh import AlshParams, cap_size
from profkit.schema import STUDY_TABLES, study_file
from profkit.store import read_study as store_read_study
from profkit.store import write_study

STUDY_FILE = study_file("alsh_study")
GRID_KEYS = ("family", "selection", "K", "L", "m", "U", "bin_size", "rerank")
DEFAULT_GRID: dict[str, tuple] = {"family": ("l2-alsh-sign", "simple-lsh"),
                                  "selection": ("table-order", "collisions"),
                                  "K": (2, 4, 6, 8), "L": (5, 20), "m": (3,), "U": (0.83,),
                                  "bin_size": (8,), "rerank": (0,)}


def grid_points(grid: dict[str, tuple]) -> list[dict[str, Any]]:
    """Every combination of the grid's values (keys GRID_KEYS; missing ones: AlshParams')."""
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ValueError(f"unknown grid key(s) {unknown}; valid: {', '.join(GRID_KEYS)}")
    base = AlshParams()
    axes = {k: tuple(grid.get(k, (getattr(base, k),))) for k in GRID_KEYS}
    points = [dict(zip(axes, vals, strict=True)) for vals in itertools.product(*axes.values())]
    for p in points:
        AlshParams(**p)  # invalid combinations fail before any hashing
    return points


@torch.no_grad()
def layer_inputs(model, x: torch.Tensor, fraction: float) -> list[torch.Tensor]:
    """Per hidden layer, its input (batch, in): x, then the exact top-cap part of each
    previous layer's output (zeros elsewhere), as a perfect active set passes it on."""
    out, a = [], x
    for lin in model.hidden:
        out.append(a)
        z = F.relu(lin(a))
        top = z.topk(cap_size(fraction, lin.out_features), dim=1).indices
        a = torch.zeros_like(z).scatter_(1, top, z.gather(1, top))
    return out


@torch.no_grad()
def measure_point(model, inputs: list[torch.Tensor], point: dict[str, Any], fraction: float,
                  seed: int) -> list[dict[str, Any]]:
    """Rows (one per layer) for one hash configuration."""
    gen = torch.Generator().manual_seed(seed)
    rand, rows = RandomStream(gen), []
    for i, (lin, a) in enumerate(zip(model.hidden, inputs, strict=True)):
        w, cap = lin.weight.detach(), cap_size(fraction, lin.out_features)
        ix = HashIndex(lin.in_features, point["L"], point["K"], point["family"], point["m"],
                       point["U"], "rademacher", gen, point["bin_size"])
        ix.build(w)
        exact = (a @ w.T).topk(cap, dim=1).indices  # (batch, cap)
        short = min(ix.n, cap * point["rerank"]) if point["rerank"] else cap
        rec, found, probed = [], [], []
        for s in range(len(a)):
            cols = a[s].nonzero().squeeze(1)
            sel = ix.select(ix.query_codes(a[s:s + 1, cols], cols)[0], short, rand,
                            point["selection"])
            units = _rerank(sel.units, w, a[s], cap)
            rec.append(float(np.isin(exact[s].numpy(), units).mean()))
            found.append(sel.found / max(1, len(sel.units)))
            probed.append(sel.probed)
        occ = ix.occupancy
        rows.append({**point, "layer": i, "recall": float(np.mean(rec)),
                     "recall_random": cap / lin.out_features,
                     "bucket_fraction": float(np.mean(found)),
                     "tables_probed": float(np.mean(probed)),
                     "largest_bucket_share": float((occ.largest / occ.n).mean()),
                     "data_extra_share": occ.extra_share})
    return rows


def _rerank(units: np.ndarray, w: torch.Tensor, a: torch.Tensor, cap: int) -> np.ndarray:
    if len(units) <= cap:
        return units
    best = (w.index_select(0, torch.from_numpy(units)) @ a).topk(cap).indices
    return units[best.numpy()]


def run_study(cfg: RunConfig, grid: dict[str, tuple] | None = None, steps: int = 500,
              batch: int = 100, seed: int = 0, results: str | Path | None = None,
              dataset: Dataset | None = None) -> pd.DataFrame:
    """Train cfg (e.g. alsh-approx at batch 1) `steps` steps, then measure every grid point on
    a `batch`-sample validation batch. With `results`, writes <results>/alsh_study.parquet."""
    points = grid_points(grid if grid is not None else DEFAULT_GRID)
    ds = dataset if dataset is not None else load_dataset(cfg.dataset, cfg.data_dir)
    method = train_fresh(cfg.replace(seed=seed), ds, steps)
    fraction = cfg.method_params.get("cap_fraction", AlshParams().cap_fraction)
    x, _ = measurement_batch(ds, batch, seed)
    inputs = layer_inputs(method.model, x, fraction)
    rows = [r for p in points for r in measure_point(method.model, inputs, p, fraction, seed)]
    study = pd.DataFrame(rows).assign(method=cfg.method, dataset=ds.name,
                                      depth=cfg.hidden_layers, width=cfg.width, steps=steps,
                                      seed=seed, batch_size=len(x))
    study = study[STUDY_TABLES["alsh_study"].column_names]
    if results is not None:
        save_study(study, results)
    return study


def save_study(study: pd.DataFrame, results: str | Path) -> Path:
    """Write the study atomically to <results>/alsh_study.parquet in its declared schema."""
    return write_study("alsh_study", study, results)


def read_study(results: str | Path) -> pd.DataFrame:
    """The study saved in `results`, or an empty frame with its columns."""
    return store_read_study("alsh_study", results)
