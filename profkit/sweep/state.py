"""Resume state of a results directory: which runs are finished, stale attempts, the sweep lock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from profkit.attempts import FINISHED, STALE_DIR, move_aside, run_status
from profkit.locks import FileLock, owner

__all__ = ["FINISHED", "LOCK_FILE", "STALE_DIR", "SweepLockedError", "move_aside", "run_status",
           "sweep_lock"]

LOCK_FILE = ".sweep.lock"


class SweepLockedError(RuntimeError):
    """Another sweep is using this results directory."""


@contextmanager
def sweep_lock(results: Path) -> Iterator[None]:
    """Only one sweep at a time per results directory, so a run marked `running` at the start
    of a sweep is known dead (its sweep is gone) and can be re-run.

    An flock, not a pid file: taking it is atomic, and the kernel drops it when the holder dies,
    so there is no stale lock to detect or take over (two sweeps racing for a pid file's
    takeover could both win). The file stays; holding it is what counts."""
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    path = results / LOCK_FILE
    me = psutil.Process()
    lock = FileLock(path)
    if not lock.acquire({"host": socket.gethostname(), "pid": me.pid}):
        held = owner(path)
        raise SweepLockedError(
            f"another sweep (host {held.get('host', '?')}, pid {held.get('pid', '?')}) is using "
            f"{results}; wait for it to finish")
    try:
        yield
    finally:
        lock.release()
