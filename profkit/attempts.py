"""Attempts of one run: what a run directory already holds decides whether a run starts afresh.

A run directory holds exactly one attempt, so its tables never mix two. Before training:
- finished (`complete` or `diverged`: a result; a re-run of the same config diverges again):
  not re-run; the caller gets the existing run (`--force` retires it and starts anew);
- `interrupted`, `failed`, no readable run.json, or `running` with its lock free (the process
  that wrote it is gone): the old directory is retired to `<results>/.stale/` and re-run;
- `running` with its lock held: another process is training it now; an error says so.
The trainer holds `<run dir>/.lock` (fcntl.flock) while it trains, so a dead run is told from a
live one by the kernel, with no pid guessing. Sweeps use the same rules (profkit/sweep/task.py).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from profkit.locks import held_by_other
from profkit.store import RUN_FILE

FINISHED = ("complete", "diverged")
STALE_DIR = ".stale"
RUN_LOCK = ".lock"


class RunInProgressError(RuntimeError):
    """Another process is training this run now."""


def run_status(results: Path, run_id: str) -> str | None:
    """'complete', 'failed', ... from run.json; None if there is no directory; 'broken' if the
    directory has no readable run.json (a run killed before its first write)."""
    path = Path(results) / run_id
    if not path.exists():
        return None
    try:
        meta = json.loads((path / RUN_FILE).read_text())
    except (OSError, ValueError):
        return "broken"
    return (meta.get("status") if isinstance(meta, dict) else None) or "broken"


def move_aside(path: Path) -> Path | None:
    """Retire a run directory: rename it into <results>/.stale/ (atomic, so the run id is
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


def prepare(results: Path, run_id: str, force: bool = False) -> dict[str, Any] | None:
    """Make `<results>/<run_id>` ready for a new attempt, or return the finished run's meta
    (run.json) when there is one to reuse and `force` is off."""
    path = Path(results) / run_id
    status = run_status(Path(results), run_id)
    if status is None:
        return None
    if status == "running" and held_by_other(path / RUN_LOCK):
        raise RunInProgressError(
            f"{path} is being trained by another process now; wait for it to finish")
    if status in FINISHED and not force:
        meta: dict[str, Any] = json.loads((path / RUN_FILE).read_text())
        return meta
    move_aside(path)
    return None
