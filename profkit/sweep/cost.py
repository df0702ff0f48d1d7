"""The cost model behind `profkit reproduce --dry-run`: estimated seconds of runs and studies.

A training step at 3 x 1000 costs step_ms[kernel][method] = [S, M] (batch 1 and 20;
another batch size linearly between and beyond them); at another depth or width it costs in
proportion to the network's parameter count (every phase of a step, optimizer included, is a
pass over the weights). A run adds its start-up (`run_overhead_s`) and exact evaluation of the
validation and test sets after every epoch. The table is in profkit/sweep/reproduce.toml;
`python -m profkit.sweep.calibrate DIR` reads it back off the finished runs of a results
directory (profkit/sweep/calibrate.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from profkit.config import RunConfig, paper_config
from profkit.data.registry import get_spec

REF_LAYERS, REF_WIDTH, REF_IN, REF_OUT = 3, 1000, 784, 10
S, M = 1, 20


def n_params(hidden_layers: int, width: int, n_in: int = REF_IN, n_out: int = REF_OUT) -> int:
    return n_in * width + (hidden_layers - 1) * width * width + width * n_out


def _size_ratio(hidden_layers: int, width: int) -> float:
    return n_params(hidden_layers, width) / n_params(REF_LAYERS, REF_WIDTH)


@dataclass
class CostModel:
    step_ms: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    run_overhead_s: float = 4.0
    eval_ms_per_sample: float = 0.03
    errorprop_measure_s: float = 0.6

    @classmethod
    def from_table(cls, t: dict[str, Any]) -> CostModel:
        return cls({k: {m: [float(x) for x in v] for m, v in d.items()}
                    for k, d in t.get("step_ms", {}).items()},
                   float(t.get("run_overhead_s", 4.0)), float(t.get("eval_ms_per_sample", 0.03)),
                   float(t.get("errorprop_measure_s", 0.6)))

    def step_s(self, method: str, batch_size: int, kernel: str, hidden_layers: int,
               width: int) -> float:
        """Seconds per training step; `kernel` is cost_key(cfg). A kernel without its own table
        uses `default`'s (the slowest: an estimate errs long); an unknown method costs as much
        as Standard."""
        table = self.step_ms.get(kernel) or self.step_ms.get("default") or {}
        s_ms, m_ms = table.get(method) or table.get("standard") or [20.0, 20.0]
        ms = max(s_ms + (m_ms - s_ms) * (batch_size - S) / (M - S), 0.1 * min(s_ms, m_ms))
        return ms / 1000 * _size_ratio(hidden_layers, width)


def cost_key(cfg: RunConfig) -> str:
    """The step_ms table of a run: `tuned`, or the optimizer kernel of a paper run."""
    return "tuned" if cfg.implementation == "tuned" else cfg.optimizer_impl


def split_sizes(dataset: str) -> tuple[int, int, int]:
    train, val, test = get_spec(dataset).split
    return train, val, test


def run_steps(cfg: RunConfig) -> tuple[int, int]:
    """(training steps, epochs evaluated) of a run: capped by max_steps, else every epoch."""
    train, _, _ = split_sizes(cfg.dataset)
    per_epoch = math.ceil(train / cfg.batch_size)
    steps = cfg.epochs * per_epoch
    if cfg.max_steps is not None and cfg.max_steps < steps:
        return cfg.max_steps, math.ceil(cfg.max_steps / per_epoch)
    return steps, cfg.epochs


def run_seconds(cfg: RunConfig, cost: CostModel) -> float:
    steps, evals = run_steps(cfg)
    _, val, test = split_sizes(cfg.dataset)
    step = cost.step_s(cfg.method, cfg.batch_size, cost_key(cfg), cfg.hidden_layers, cfg.width)
    ev = evals * (val + test) * cost.eval_ms_per_sample / 1000 * _size_ratio(cfg.hidden_layers,
                                                                            cfg.width)
    return cost.run_overhead_s + steps * step + ev


def errorprop_config(options: dict[str, Any], dataset: str, method: str, depth: int, seed: int,
                     sets: dict[str, Any]) -> RunConfig:
    """The network an error-propagation unit trains: the paper preset for `method` (its batch
    size and lr), at the study's width and depth; RunConfig --set values beat both."""
    fields = {"width": int(options.get("width", REF_WIDTH)),
              "threads": options.get("threads"), **sets}
    fields = {k: v for k, v in fields.items() if not isinstance(v, list)}
    fields.pop("dataset", None)
    batch = fields.pop("batch_size", None)
    return paper_config(method, dataset, batch, **{**fields, "hidden_layers": depth,
                                                   "seed": seed, "epochs": 1})


def errorprop_units(options: dict[str, Any], datasets: list[str], sets: dict[str, Any],
                    cost: CostModel) -> list[dict[str, Any]]:
    """One unit per (dataset, method, depth, seed): the resumable pieces of the §7 study."""
    units = []
    steps = int(options.get("steps", 100))
    for ds in datasets:
        for m in options.get("methods", ("alsh-approx", "mc-approx")):
            for depth in options.get("depths", range(1, 8)):
                for seed in options.get("seeds", (0, 1, 2)):
                    cfg = errorprop_config(options, ds, m, depth, seed, sets)
                    train_s = steps * cost.step_s(m, cfg.batch_size, cost_key(cfg), depth,
                                                  cfg.width)
                    measure_s = depth * cost.errorprop_measure_s * (cfg.width / REF_WIDTH) ** 2
                    units.append({"dataset": ds, "method": m, "depth": depth, "seed": seed,
                                  "config": cfg, "seconds": train_s + measure_s})
    return units
