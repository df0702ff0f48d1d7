"""HOGWILD-style asynchronous data-parallel training over P worker processes (--workers P).

The paper's decision tree (§10.4) answers "ALSH-approx with parallel computing" for SGD on
shallow networks, citing SLIDE, which updates one network from many threads without locks.
Here (as Recht et al.'s HOGWILD! and PyTorch's mnist_hogwild example) the trainer moves the
model's parameters into shared memory (`share_memory_()`) and forks P worker processes
(torch.multiprocessing, `fork`: each worker inherits the built method, so nothing is pickled).
Every worker trains on its own shard of each epoch's permutation (perm[w::P], the same
permutation in every worker) and writes its updates straight into the shared parameters,
without locks: an update may overwrite another's concurrent update to the same entries (the
conflicting updates HOGWILD accepts). Everything else is per worker: the optimizer's state
(Adam's moments and step count), the method's sampling generator (seeded per worker), and
ALSH-approx's hash tables (each worker rebuilds its own from the shared weights on its own
schedule, so the run does as many rebuilds per sample as one process would).

Recording. Worker w numbers its steps done + w, done + w + P, ... (unique in the run) and
writes its own steps and phases parts (`worker` column, part names prefixed `w<w>-`), so the
phases of each worker's steps cover that step exactly, as in one process (invariant I2).
Worker 0 writes the method's tables (method_stats, lsh_tables: its own view; the other
workers' statistics are reset and dropped). At each epoch's end every worker reports to the
parent and waits at a barrier; the parent, which holds no optimizer, evaluates the shared
parameters exactly, writes the epoch row (train_wall_ns is the epoch's wall time across the
workers: throughput is its samples over it) and releases the next epoch.

Failure. A worker that dies (killed, or an exception) makes the parent stop the others
(SIGTERM: each writes the steps of its partial epoch and exits) and end the run `failed`,
with every finished part kept: parts are written atomically, one file per worker and epoch.
Ctrl-C stops every worker the same way and ends the run `interrupted`.

workers = 1 never comes here: Trainer trains in its own process exactly as before.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import threading
import traceback
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, NoReturn

import psutil
import torch
import torch.multiprocessing as mp

from profkit.model import subnormal_fraction
from profkit.store import RunDir

if TYPE_CHECKING:  # annotations only: train imports this module
    from profkit.train import Trainer

POLL_S = 0.2  # how often the parent checks for dead workers while it waits
BARRIER_S = 120.0  # a live worker reaches the epoch barrier within this (it only waits there)
STOP_S = 30.0  # how long stopped workers get to write their partial epoch before SIGKILL
_SEED_STRIDE = 0x9E3779B97F4A7C15  # per-worker seed offset (odd: worker seeds differ)


class WorkerFailed(RuntimeError):
    """A worker process died or raised; the run ends `failed`."""


def worker_seed(seed: int, worker: int) -> int:
    """The seed of worker w's sampling generator; worker 0 keeps the one-process seed + 1."""
    return (seed + 1 + worker * _SEED_STRIDE) % (1 << 63)


def epoch_counts(n: int, batch: int, workers: int, done: int, max_steps: int | None
                 ) -> list[int]:
    """Steps of each worker in an epoch: its shard perm[w::P] in batches, the run's step cap
    (counted over all workers) shared out round-robin after `done` earlier steps."""
    counts = [math.ceil(len(range(w, n, workers)) / batch) for w in range(workers)]
    if max_steps is not None:
        left = max(0, max_steps - done)
        counts = [min(c, max(0, math.ceil((left - w) / workers))) for w, c in enumerate(counts)]
    return counts


def worker_threads(threads: int | None, workers: int) -> int:
    """torch threads per worker: the run's --threads, else the cores shared out (>= 1)."""
    return threads if threads is not None else max(1, (os.cpu_count() or 1) // workers)


def train(tr: Trainer) -> str:
    """Train tr's config over tr.cfg.workers processes; returns the run's status."""
    P = tr.cfg.workers
    ctx = mp.get_context("fork")
    tr.method.model.share_memory()
    tr.bar = None  # no progress bar: the workers run the steps
    reports: Any = ctx.Queue()
    barrier, stop = ctx.Barrier(P + 1), ctx.Value("b", 0)
    procs = [ctx.Process(target=_work, args=(tr, w, reports, barrier, stop),
                         name=f"profkit-worker-{w}", daemon=True) for w in range(P)]
    for p in procs:
        p.start()
    try:
        status = _epochs(tr, procs, reports, barrier)
        stop.value = 1
        barrier.wait(BARRIER_S)  # releases the workers, which now exit
        for p in procs:
            p.join(STOP_S)
        return status
    finally:
        _shutdown(procs, barrier)


def _epochs(tr: Trainer, procs: list[Any], reports: Any, barrier: Any) -> str:
    cfg, n = tr.cfg, len(tr.ds.y_train)
    done = 0
    for epoch in range(cfg.epochs):
        tr.ctx.epoch = epoch
        counts = epoch_counts(n, cfg.batch_size, cfg.workers, done, cfg.max_steps)
        _wait(barrier, procs)
        t0 = perf_counter_ns()
        got = _collect(reports, procs)
        wall = perf_counter_ns() - t0
        n_steps = sum(r["n_steps"] for r in got)
        losses = sum(r["loss_sum"] for r in got)
        diverged = any(r["diverged"] for r in got)
        full = sum(epoch_counts(n, cfg.batch_size, cfg.workers, 0, None))
        row = {"n_steps": n_steps, "steps_wall_ns": sum(r["steps_wall_ns"] for r in got),
               "train_loss": losses / n_steps if n_steps else None,
               "complete": n_steps == full and not diverged, "train_wall_ns": wall}
        done += sum(counts)
        tr.step = done
        tr._end_epoch(epoch, row, diverged, {k: got[0][k] for k in ("subnormal_fraction",
                                                                   "rss_bytes")})
        if diverged:
            return "diverged"
        if cfg.max_steps is not None and done >= cfg.max_steps:
            return "complete"
    return "complete"


def _wait(barrier: Any, procs: list[Any]) -> None:
    try:
        barrier.wait(BARRIER_S)
    except threading.BrokenBarrierError:
        _check_alive(procs)
        raise WorkerFailed(f"the workers did not reach the epoch barrier within {BARRIER_S:g} s"
                           ) from None


def _collect(reports: Any, procs: list[Any]) -> list[dict[str, Any]]:
    """Every worker's end-of-epoch report, in worker order; raises when a worker dies."""
    got: dict[int, dict[str, Any]] = {}
    while len(got) < len(procs):
        try:
            r = reports.get(timeout=POLL_S)
        except queue.Empty:
            _check_alive(procs)
            continue
        if "error" in r:
            raise WorkerFailed(f"worker {r['worker']} failed:\n{r['error']}")
        got[r["worker"]] = r
    return [got[w] for w in range(len(procs))]


def _check_alive(procs: list[Any]) -> None:
    for w, p in enumerate(procs):
        code = p.exitcode
        if code is not None:  # workers exit only when released: any exit here is a failure
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            raise WorkerFailed(f"worker {w} (pid {p.pid}) {how} during training; the steps "
                               "of finished epochs are kept")


def _shutdown(procs: list[Any], barrier: Any) -> None:
    """Stop workers still running: SIGTERM (they write their partial epoch), then SIGKILL."""
    barrier.abort()  # a worker waiting at the barrier gets BrokenBarrierError and exits
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(STOP_S)
        if p.is_alive():
            p.kill()
            p.join()


def _interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _work(tr: Trainer, w: int, reports: Any, barrier: Any, stop: Any) -> None:
    """One worker: epochs of steps on its shard, until the parent sets `stop`."""
    signal.signal(signal.SIGTERM, _interrupt)
    P, cfg = tr.cfg.workers, tr.cfg
    torch.set_num_threads(worker_threads(cfg.threads, P))
    tr.method.gen.manual_seed(worker_seed(cfg.seed, w))
    tr.rd = RunDir(tr.rd.path, part_prefix=f"w{w}-")
    tr.rec.worker, tr.rec.stride = w, P
    n, done, code, epoch = len(tr.ds.y_train), 0, 0, 0
    try:
        while True:  # the parent releases each epoch, and sets `stop` after its last
            barrier.wait()
            if stop.value:
                break
            counts = epoch_counts(n, cfg.batch_size, P, done, cfg.max_steps)
            perm = torch.randperm(n, generator=tr.data_gen)  # (n,) the same in every worker
            tr.step = done + w
            tr.rec.clear(epoch, tr.step)
            diverged = tr._steps(perm[w::P], counts[w], epoch)
            report = {"worker": w, "n_steps": len(tr.rec), "diverged": diverged,
                      "steps_wall_ns": int(sum(tr.rec.walls)),
                      "loss_sum": float(sum(tr.rec.losses)),
                      "subnormal_fraction": subnormal_fraction(tr.method.optimizer),
                      "rss_bytes": psutil.Process().memory_info().rss}
            tr._flush_steps()
            if w == 0:
                tr.method_epoch_end(epoch)
            else:  # keeps the method's schedule (e.g. the epoch-end rebuild); stats dropped
                tr.method.on_epoch_end(epoch)
            reports.put(report)
            done += sum(counts)
            epoch += 1
    except (KeyboardInterrupt, threading.BrokenBarrierError):
        tr._flush_steps()  # the partial epoch's steps, as one process keeps them
        code = 130
    except Exception:
        reports.put({"worker": w, "error": traceback.format_exc()})
        code = 1
    raise SystemExit(code)
