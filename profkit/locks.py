"""Advisory file locks held by a process: the kernel releases them when it dies.

`fcntl.flock` on an open file is atomic (two processes can never both hold it) and needs no
stale-lock detection: a holder that is killed loses its lock with its file descriptors. The
file itself is only a name to lock; its content (who holds it) is for people reading it.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


class FileLock:
    """An exclusive, non-blocking flock on `path` (created if missing)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd: int | None = None

    def acquire(self, owner: dict[str, Any] | None = None) -> bool:
        """Take the lock; False (at once) if another process holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        if owner is not None:  # informational: who holds it, for the error message of others
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(owner).encode(), 0)
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def held_by_other(path: Path) -> bool:
    """Whether some live process holds the lock on `path` (a missing file: nobody)."""
    if not Path(path).exists():
        return False
    lock = FileLock(path)
    if lock.acquire():
        lock.release()
        return False
    return True


def owner(path: Path) -> dict[str, Any]:
    """What the holder wrote into the lock file, or {}."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
