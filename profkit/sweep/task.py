"""The sweep task: one run, executed where the executor puts it, that leaves one clean run dir.

Runs in the sweep's own process (in-process executor) or in a Dask worker process, possibly on
another machine writing to a shared results directory. It returns a small, picklable outcome.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profkit import schema
from profkit.attempts import RunInProgressError, move_aside, prepare, run_status
from profkit.config import RunConfig
from profkit.probes import make_probes
from profkit.store import RunDir


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a run came to; small and picklable (it returns from a Dask worker)."""

    run_id: str
    status: str  # a run status (profkit.store): complete, failed, diverged, interrupted, ...
    wall_s: float  # the attempt's wall time, 0 when it was skipped or never started
    host: str | None = None
    worker: str | None = None  # the Dask worker's address; None in-process
    t_start: float | None = None  # wall-clock start (time.time()), comparable on one worker
    error: str | None = None  # the traceback of a failed attempt
    skipped: bool = False  # already finished when the attempt began


def outcome(cfg: RunConfig, status: str, wall_s: float, where: dict[str, Any],
            error: str | None = None, skipped: bool = False) -> Outcome:
    return Outcome(cfg.run_id, status, wall_s, where.get("host"), where.get("worker"),
                   where.get("t_start"), error, skipped)


def _where(executor: str) -> dict[str, Any]:
    """Where this attempt runs; recorded in run.json next to the environment's hostname."""
    worker = None
    if executor == "dask":
        from distributed import get_worker

        worker = get_worker().address
    return {"executor": executor, "host": socket.gethostname(), "worker": worker,
            "pid": os.getpid(), "attempt": uuid.uuid4().hex[:12]}


def record_failure(cfg: RunConfig, error: str, where: dict[str, Any]) -> None:
    """Leave a failed run.json for a run that died before or outside the trainer (a dataset
    missing on the worker, a worker killed too often): a retired partial directory, never a
    half-run that loads as whole."""
    path = Path(cfg.results) / cfg.run_id
    if run_status(Path(cfg.results), cfg.run_id) == "failed":
        return  # the trainer already recorded it, with its environment and partial summary
    move_aside(path)
    path.mkdir(parents=True)
    RunDir(path).write_meta({"schema_version": schema.SCHEMA_VERSION, "run_id": cfg.run_id,
                             "config": cfg.to_dict(), "status": "failed",
                             "error": error, "repeat": cfg.repeat, "sweep": where,
                             "environment": {"hostname": where.get("host")},
                             "ended_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})


def execute(cfg_dict: dict[str, Any], executor: str = "inprocess",
            probes: tuple[str, ...] = ()) -> Outcome:
    """Run one config into <results>/<run_id>, unless a finished run is already there.

    `probes` names the probes to run with it (profkit.probes.PROBES: e.g. ("memory",)); they
    are not part of the config (nor of the run id), and run.json records them as instruments.
    A directory left by an earlier attempt (interrupted, failed, or a worker that died
    mid-run) is moved aside first, so the new attempt never appends to its parts.
    Exceptions from training are recorded (status failed, traceback in `error`) and returned,
    not raised: a failing config fails the same way everywhere, so retrying it is pointless.
    """
    from profkit.train import run

    cfg = RunConfig.from_dict(cfg_dict)
    where = _where(executor)
    try:  # the same rules as `profkit run` (profkit/attempts.py)
        existing = prepare(Path(cfg.results), cfg.run_id)
    except RunInProgressError as e:  # e.g. a `profkit run` of the same config right now
        return outcome(cfg, "failed", 0.0, where, error=str(e))
    if existing is not None:  # e.g. a retry of a task whose worker died after finishing
        return outcome(cfg, existing["status"], 0.0, where, skipped=True)
    where["t_start"] = time.time()  # wall-clock start, comparable across a worker's runs
    t0 = time.perf_counter()
    try:
        r = run(cfg, probes=make_probes(list(probes)), progress=False,
                meta_extra={"sweep": where}, prepared=True)
    except Exception:
        err = traceback.format_exc()
        record_failure(cfg, err, where)
        return outcome(cfg, "failed", time.perf_counter() - t0, where, error=err)
    return outcome(cfg, r.status, time.perf_counter() - t0, where)


