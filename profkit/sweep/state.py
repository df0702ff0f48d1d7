"""Resume state of a results directory: which runs are finished, stale attempts, the sweep lock."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from profkit.store import RUN_FILE

# A finished run is never re-run: complete, or diverged (a result, and a re-run diverges again).
FINISHED = ("complete", "diverged")
STALE_DIR = ".stale"
LOCK_FILE = ".sweep.lock"


class SweepLockedError(RuntimeError):
    """Another sweep is using this results directory."""


def run_status(results: Path, run_id: str) -> str | None:
    """'complete', 'failed', ... from run.json; None if there is no directory; 'broken' if the
    directory has no readable run.json (a run killed before its first write)."""
    path = Path(results) / run_id
    if not path.exists():
        return None
    try:
        return json.loads((path / RUN_FILE).read_text()).get("status") or "broken"
    except (OSError, json.JSONDecodeError):
        return "broken"


def move_aside(path: Path) -> Path | None:
    """Retire a stale run directory: rename it into <results>/.stale/ (atomic, so the run id is
    never seen half-removed), keep its run.json there as <name>.json (the traceback of a failed
    attempt stays readable), and delete its table parts. Returns the kept json, if any."""
    path = Path(path)
    if not path.exists():
        return None
    stale = path.parent / STALE_DIR
    stale.mkdir(exist_ok=True)
    name = f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}.{uuid.uuid4().hex[:6]}"
    aside = stale / name
    os.rename(path, aside)
    kept = None
    if (aside / RUN_FILE).is_file():
        kept = stale / f"{name}.json"  # not named run.json: store.load must not find it
        os.rename(aside / RUN_FILE, kept)
    shutil.rmtree(aside, ignore_errors=True)
    return kept


def _lock_owner(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _owner_alive(owner: dict[str, Any]) -> bool:
    """A lock from this host whose process is gone (or is another process now) is dead."""
    if owner.get("host") != socket.gethostname():
        return True  # cannot tell from here: the user must check that machine
    pid = owner.get("pid")
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - owner.get("created", 0)) < 2
    except (psutil.Error, TypeError, ValueError):
        return False


def _try_create(path: Path, owner: dict[str, Any]) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        json.dump(owner, f)
    return True


@contextmanager
def sweep_lock(results: Path):
    """Only one sweep at a time per results directory, so a run marked `running` at the start
    of a sweep is known dead (its sweep is gone) and can be re-run."""
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    path = results / LOCK_FILE
    me = psutil.Process()
    owner = {"host": socket.gethostname(), "pid": me.pid, "created": me.create_time()}
    if not _try_create(path, owner):
        held = _lock_owner(path)
        if _owner_alive(held):
            raise SweepLockedError(
                f"another sweep (host {held.get('host')}, pid {held.get('pid')}) is using "
                f"{results}; wait for it, or if it is no longer running delete {path}")
        path.unlink(missing_ok=True)
        if not _try_create(path, owner):
            raise SweepLockedError(f"another sweep took {path} just now; try again")
    try:
        yield
    finally:
        if _lock_owner(path).get("pid") == me.pid:
            path.unlink(missing_ok=True)
