"""StepRecorder: per-step phase times kept in lists during an epoch, written as tidy tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from profkit.phases import OTHER

Columns = dict[str, np.ndarray[Any, Any]]  # a table's columns by name


class StepRecorder:
    """Holds one epoch's raw step observations until they are flushed to the run directory."""

    def __init__(self, names: tuple[str, ...], warmup_steps: int, worker: int = 0,
                 stride: int = 1):
        self.names = names
        self.warmup_steps = warmup_steps
        # with P workers (profkit.hogwild) worker w numbers its steps first, first + P, ...
        # so that step ids stay unique within a run; warm-up counts each worker's own steps
        self.worker, self.stride = worker, stride
        self.clear(epoch=0, first_step=0)

    def clear(self, epoch: int, first_step: int) -> None:
        self.epoch, self.first_step = epoch, first_step
        self.walls: list[int] = []
        self.accs: list[list[int]] = []
        self.losses: list[float] = []
        self.sizes: list[int] = []

    def __len__(self) -> int:
        return len(self.walls)

    def add(self, wall_ns: int, acc: list[int], loss: float, batch_size: int) -> None:
        self.walls.append(wall_ns)
        self.accs.append(acc)
        self.losses.append(loss)
        self.sizes.append(batch_size)

    def tables(self) -> dict[str, Columns]:
        """{'steps': ..., 'phases': ...} column dicts; `other` = step wall - named phases."""
        n, k = len(self.walls), len(self.names)
        step = self.first_step + self.stride * np.arange(n, dtype=np.int64)
        warm = step // self.stride < self.warmup_steps
        worker = np.full(n, self.worker, np.int32)
        wall = np.asarray(self.walls, dtype=np.int64)
        acc = np.asarray(self.accs, dtype=np.int64).reshape(n, k)
        other = wall - acc.sum(axis=1)  # (n,): never negative: phases are inside the step
        mat = np.concatenate([acc, other[:, None]], axis=1)  # (n, k + 1)
        names = np.asarray([*self.names, OTHER], dtype=object)
        steps: Columns = {"epoch": np.full(n, self.epoch, np.int32), "step": step, "worker": worker,
                 "batch_size": np.asarray(self.sizes, np.int32), "wall_ns": wall,
                 "loss": np.asarray(self.losses, np.float64), "warmup": warm}
        phases: Columns = {"epoch": np.full(n * (k + 1), self.epoch, np.int32),
                  "step": np.repeat(step, k + 1), "worker": np.repeat(worker, k + 1),
                  "phase": np.tile(names, n),
                  "wall_ns": mat.reshape(-1), "warmup": np.repeat(warm, k + 1)}
        return {"steps": steps, "phases": phases}
