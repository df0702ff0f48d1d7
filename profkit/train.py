"""The training loop: epochs, steps, phase timing, exact evaluation, what a stop leaves behind."""

from __future__ import annotations

import math
import shutil
import signal
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter_ns
from typing import Any, NoReturn

import numpy as np
import psutil
import torch

from profkit import attempts, hogwild, schema
from profkit import env as envmod
from profkit.config import RunConfig
from profkit.data import Dataset, load_dataset
from profkit.evaluate import confusion_rows, evaluate
from profkit.implementation import choices
from profkit.locks import FileLock
from profkit.methods import get_method
from profkit.model import subnormal_fraction
from profkit.phases import DATA, PhaseTimer
from profkit.probes.base import Probe, RunContext
from profkit.recorder import StepRecorder
from profkit.store import RUN_FILE, RunDir, check_writable
from profkit.summary import summarise
from profkit.validation import ConfigError


class RunInterrupted(Exception):
    """SIGTERM (or SIGINT) arrived during training."""


# The divergence rule (README "Honest ends"): a run has diverged when a step's loss is not
# finite, when the model's parameters are not finite (checked at every epoch's end), or when a
# step's loss exceeds DIVERGE_FACTOR x the mean loss of the run's first REFERENCE_STEPS steps.
# Training from scratch starts near chance (ln 10 = 2.3 nats for ten classes) and only goes
# down from there when it works; a thousandfold rise is a blow-up, not noise. The reference is
# floored at 1 nat so that a run whose first steps are already near zero loss cannot flag
# ordinary fluctuation as divergence.
DIVERGE_FACTOR = 1e3
REFERENCE_STEPS = 10
REFERENCE_FLOOR = 1.0


@contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM while the final run.json is written (yields the ones that came):
    a second Ctrl-C then cannot leave a run that says `running` with a traceback."""
    got: list[int] = []

    def hold(signum: int, frame: object) -> None:
        got.append(signum)

    try:
        old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: no handlers to swap
        yield got
        return
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@dataclass
class RunResult:
    run_id: str
    path: Path
    status: str
    summary: dict[str, Any] = field(default_factory=dict)
    reused: bool = False  # an earlier finished attempt, returned as it is (not re-run)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM into RunInterrupted (SIGINT already raises KeyboardInterrupt)."""
    def handler(signum: int, frame: object) -> NoReturn:
        raise RunInterrupted(signal.Signals(signum).name)

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. a Dask worker thread): no handler
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _flushing_denormals() -> bool:
    """Whether torch flushes subnormal floats now (torch has a setter but no getter)."""
    tiny = torch.full((1,), 1e-39, dtype=torch.float32)  # a float32 subnormal
    return bool((tiny * 1.0).item() == 0.0)


@contextmanager
def torch_settings(threads: int | None, flush_denormal: bool) -> Iterator[int]:
    """Set torch's process-wide intra-op threads and subnormal flushing for a run, and restore
    them afterwards (as torch.utils.benchmark's set_torch_threads); yields the thread count."""
    old_threads, old_flush = torch.get_num_threads(), _flushing_denormals()
    if threads is not None:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(flush_denormal)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(old_threads)
        torch.set_flush_denormal(old_flush)


class Trainer:
    """Runs one RunConfig into one run directory."""

    def __init__(self, cfg: RunConfig, probes: tuple[Probe, ...] = (), progress: bool = True,
                 dataset: Dataset | None = None, meta_extra: dict[str, Any] | None = None):
        self.cfg, self.probes, self.progress = cfg, probes, progress
        results = Path(cfg.results)
        check_writable(results)  # before any data loading or training
        self.rd = RunDir(results / cfg.run_id)
        self.ds = dataset if dataset is not None else load_dataset(cfg.dataset, cfg.data_dir)
        torch.manual_seed(cfg.seed)  # model initialisation
        self.threads = torch.get_num_threads()  # as torch_settings set them (run())
        method_cls = get_method(cfg.method)
        gen = torch.Generator().manual_seed(cfg.seed + 1)  # the method's own sampling
        self.method = method_cls(cfg, self.ds.in_features, self.ds.n_classes, gen)
        self.data_gen = torch.Generator().manual_seed(cfg.seed)  # data order
        if cfg.workers > 1 and probes:
            raise ConfigError(f"probes ({', '.join(p.name for p in probes)}) measure one "
                              "process; run them with --workers 1")
        listeners = tuple(lis for p in probes if (lis := p.listener) is not None)
        self.timer = PhaseTimer((DATA, *method_cls.phases), listeners)
        self.rec = StepRecorder(self.timer.names, cfg.warmup_steps)
        self.ctx = RunContext(self.rd, self.timer)
        self.meta = self._initial_meta(meta_extra or {})
        self.epoch_rows: list[dict[str, Any]] = []
        self.step = 0
        self.first_losses: list[float] = []
        self.loss_limit = math.inf  # DIVERGE_FACTOR x the reference, once it is known
        self.status_reason: str | None = None

    def _initial_meta(self, extra: dict[str, Any]) -> dict[str, Any]:
        environment = envmod.capture()
        meta = {
            "schema_version": schema.SCHEMA_VERSION, "run_id": self.cfg.run_id,
            "config": self.cfg.to_dict(), "implementation": choices(self.cfg).to_dict(),
            "environment": environment, "status": "running",
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "repeat": self.cfg.repeat,
            "phases": list(self.timer.names) + ["other"],
            "dataset": {"name": self.ds.name, "sizes": self.ds.sizes, **self.ds.info},
            "instruments": ["clock", *(p.name for p in self.probes)],
            "clean_timing": all(p.clean for p in self.probes), "warnings": [], "notes": [],
        }
        meta.update(extra)
        return meta

    def run(self) -> RunResult:
        self.rd.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.rd.path / attempts.RUN_LOCK)
        if not lock.acquire():  # held while training: a later attempt tells live from dead
            raise attempts.RunInProgressError(
                f"{self.rd.path} is being trained by another process now; wait for it")
        try:
            return self._run_locked()
        finally:
            lock.release()
            if not (self.rd.path / RUN_FILE).exists():  # not even run.json could be written
                shutil.rmtree(self.rd.path, ignore_errors=True)  # (disk full): leave no husk

    def _run_locked(self) -> RunResult:
        self.rd.write_meta(self.meta)
        status, error = "complete", None
        for p in self.probes:
            p.start(self.ctx)
        try:
            with _stop_on_signals():
                status = self._train()
        except (KeyboardInterrupt, RunInterrupted) as e:
            status, error = "interrupted", f"interrupted by {type(e).__name__} {e}".strip()
        except Exception:
            status, error = "failed", traceback.format_exc()
            raise
        finally:
            with _signals_deferred() as held:
                self._finish(status, error)
            if held and status not in ("interrupted", "failed"):
                raise KeyboardInterrupt  # the run's record is whole; now stop as asked
        return RunResult(self.cfg.run_id, self.rd.path, status, self.meta.get("summary", {}))

    def _train(self) -> str:
        if self.cfg.workers > 1:
            return hogwild.train(self)
        steps, epochs = self._planned()
        # one bar for the whole run, so its ETA is the run's (evaluation time excluded)
        self.bar = _progress(self.progress, steps, f"epoch 1/{epochs}")
        try:
            for epoch in range(self.cfg.epochs):
                self.ctx.epoch = epoch
                if self.bar is not None:
                    self.bar.set_description(f"epoch {epoch + 1}/{epochs}")
                status = self._epoch(epoch)
                if status != "running":
                    return status
            return "complete"
        finally:
            if self.bar is not None:
                self.bar.close()

    def _planned(self) -> tuple[int, int]:
        """Training steps and epochs this run will do unless stopped early (max_steps caps)."""
        per_epoch = math.ceil(len(self.ds.y_train) / self.cfg.batch_size)
        steps = per_epoch * self.cfg.epochs
        if self.cfg.max_steps is not None:
            steps = min(steps, self.cfg.max_steps)
        return steps, max(1, math.ceil(steps / per_epoch))

    def _epoch(self, epoch: int) -> str:
        """Train one epoch, then evaluate; returns 'running', 'diverged' or 'capped'."""
        n = len(self.ds.y_train)
        bs = self.cfg.batch_size
        n_steps = math.ceil(n / bs)
        if self.cfg.max_steps is not None:
            n_steps = min(n_steps, self.cfg.max_steps - self.step)
        perm = torch.randperm(n, generator=self.data_gen)
        self.method.on_epoch_start(epoch)  # outside the timed steps, as on_epoch_end
        self.rec.clear(epoch, self.step)
        t_start = perf_counter_ns()
        diverged = self._steps(perm, n_steps, epoch)
        train_wall = perf_counter_ns() - t_start
        diverged = diverged or not self._parameters_finite()
        complete = len(self.rec) == math.ceil(n / bs)
        done = {"n_steps": len(self.rec), "steps_wall_ns": int(sum(self.rec.walls)),
                "train_loss": float(np.mean(self.rec.losses)) if len(self.rec) else None,
                "complete": complete and not diverged, "train_wall_ns": train_wall}
        self._flush_steps()
        self._end_epoch(epoch, done, diverged)
        if diverged:
            return "diverged"
        capped = self.cfg.max_steps is not None and self.step >= self.cfg.max_steps
        return "complete" if capped else "running"

    def _steps(self, perm: torch.Tensor, n_steps: int, epoch: int) -> bool:
        """The hot loop. Returns True when the run diverged (the rule at the top)."""
        X, Y, bs = self.ds.X_train, self.ds.y_train, self.cfg.batch_size
        timer, rec, method, data = self.timer, self.rec, self.method, self.timer(DATA)
        bar, stride = self.bar, self.rec.stride
        every = max(1, n_steps // 100)
        for s in range(n_steps):
            self.ctx.step = self.step  # probes label what happens during this step with it
            t0 = perf_counter_ns()
            with data:
                idx = perm[s * bs:(s + 1) * bs]
                xb, yb = X.index_select(0, idx), Y.index_select(0, idx)
            loss = method.train_step(xb, yb, timer).item()
            t1 = perf_counter_ns()
            rec.add(t1 - t0, timer.take(), loss, len(idx))
            self.step += stride
            if not math.isfinite(loss) or loss > self.loss_limit:
                self._diverged_at(loss)
                return True
            if len(self.first_losses) < REFERENCE_STEPS:
                self._reference(loss)
            if bar is not None and s % every == every - 1:
                bar.update(every)
        if bar is not None:
            bar.update(n_steps % every)  # the remainder, so the bar ends at the epoch's steps
        return False

    def _reference(self, loss: float) -> None:
        self.first_losses.append(loss)
        if len(self.first_losses) == REFERENCE_STEPS:
            ref = max(float(np.mean(self.first_losses)), REFERENCE_FLOOR)
            self.loss_limit = DIVERGE_FACTOR * ref

    def _diverged_at(self, loss: float) -> None:
        if math.isfinite(loss):
            self.status_reason = (
                f"training loss {loss:.3g} at step {self.step - 1} exceeds {DIVERGE_FACTOR:g} x "
                f"the first {REFERENCE_STEPS} steps' mean loss (limit {self.loss_limit:.3g})")
        else:
            self.status_reason = f"training loss {loss} at step {self.step - 1}"

    def _parameters_finite(self) -> bool:
        """All model parameters finite; else records why the run diverged."""
        for name, p in self.method.model.named_parameters():
            if not bool(torch.isfinite(p).all()):
                self.status_reason = (f"parameter {name} holds NaN/inf at the end of epoch "
                                      f"{self.ctx.epoch} (step {self.step})")
                return False
        return True

    def _flush_steps(self) -> None:
        if len(self.rec):
            for name, cols in self.rec.tables().items():
                self.rd.append(name, cols)
        self.rec.clear(self.rec.epoch, self.step)

    def _end_epoch(self, epoch: int, done: dict[str, Any], diverged: bool,
                   workers: dict[str, Any] | None = None) -> None:
        """Evaluate and write the epoch's rows. `workers` (profkit.hogwild): worker 0's
        subnormal fraction and RSS; the workers have written the method's tables."""
        row = {"epoch": epoch, **done,
               "subnormal_fraction": subnormal_fraction(self.method.optimizer),
               "rss_bytes": psutil.Process().memory_info().rss}
        row.update(workers or {})
        row.update(self._evaluate(epoch, skip=diverged))
        self.rd.append("epochs", {k: [v] for k, v in row.items()})
        self.epoch_rows.append(row)
        if workers is None:
            self.method_epoch_end(epoch)
        for p in self.probes:
            self._append_frames(p.epoch_end(epoch))
        self.meta["epochs_done"] = epoch + 1
        self.rd.write_meta(self.meta)

    def method_epoch_end(self, epoch: int) -> None:
        """The method's own tables for the epoch (extra tables, then method_stats)."""
        self._append_frames(self.method.extra_tables(epoch))
        stats = self.method.on_epoch_end(epoch)
        if stats:
            self.rd.append("method_stats", {k: [{**r, "epoch": epoch}[k] for r in stats]
                                            for k in schema.table("method_stats").column_names})

    def _evaluate(self, epoch: int, skip: bool) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(("val_accuracy", "test_accuracy", "val_loss",
                                             "test_loss"))
        t0 = perf_counter_ns()
        if not skip:
            for split, x, y in (("val", self.ds.X_val, self.ds.y_val),
                                ("test", self.ds.X_test, self.ds.y_test)):
                r = evaluate(self.method, x, y, self.ds.n_classes, self.cfg.eval_batch_size)
                out[f"{split}_accuracy"], out[f"{split}_loss"] = r.accuracy, r.loss
                self.rd.append("confusion", confusion_rows(epoch, split, r.confusion))
        out["eval_wall_ns"] = perf_counter_ns() - t0
        return out

    def _append_frames(self, frames: dict[str, Any]) -> None:
        for name, df in frames.items():
            self.rd.append(name, df)

    def _finish(self, status: str, error: str | None) -> None:
        if status == "interrupted":
            self._flush_steps()  # keep the partial epoch's steps
        for p in self.probes:
            try:
                self._append_frames(p.stop())
            except Exception as e:  # a probe must not lose the run's results
                self.meta["warnings"].append(f"probe {p.name} failed at stop: {e}")
            self.meta["warnings"].extend(p.notes())
            self.meta["notes"].extend(p.info())
        self.meta.update(status=status, ended_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                         steps_done=self.step, error=error)
        if status == "diverged":
            self.meta["status_reason"] = self.status_reason
        self.meta["summary"] = summarise(self.rd, self.meta, self.epoch_rows)
        self.meta["warnings"].extend(self.meta["summary"].pop("warnings", []))
        self.rd.write_meta(self.meta)


def _progress(enabled: bool, total: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, mininterval=0.5,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps "
                           "[{elapsed}<{remaining} run ETA, {rate_fmt}]")


def run(cfg: RunConfig, probes: tuple[Probe, ...] = (), progress: bool = True,
        dataset: Dataset | None = None, meta_extra: dict[str, Any] | None = None,
        force: bool = False, prepared: bool = False) -> RunResult:
    """Train `cfg` and write its run directory under cfg.results; returns where and how it ended.

    A finished run already there (complete or diverged) is returned as it is, with `reused`
    True, unless `force`; any other earlier attempt is retired to <results>/.stale/ first
    (profkit/attempts.py). `prepared`: the caller did that already (a relaunched child).
    torch's threads and subnormal flushing are the config's for the run and restored after it.
    """
    if not prepared:
        existing = attempts.prepare(Path(cfg.results), cfg.run_id, force)
        if existing is not None:
            return RunResult(cfg.run_id, Path(cfg.results) / cfg.run_id, existing["status"],
                             existing.get("summary") or {}, reused=True)
    with torch_settings(cfg.threads, cfg.flush_denormal):
        return Trainer(cfg, probes, progress, dataset, meta_extra).run()
