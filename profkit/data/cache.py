"""Decoded-array cache: a dataset's official arrays as uncompressed .npy files, keyed by hashes.

Decoding (gunzip, unpickle, header checks) is most of a cold load; a warm load memory-maps the
.npy files, so the only work left is converting pixels to float32. The key covers the format,
the reader version and every source file's expected hash, so new sources or a changed reader
never meet a stale cache. The arrays are written into a temporary directory that is renamed
into place, so a crash never leaves a half-written cache behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

READER_VERSION = 1  # bump when a reader's output changes (e.g. orientation, label mapping)
KEYS = ("x_train", "y_train", "x_test", "y_test")


def cache_key(fmt: str, hashes: list[str]) -> str:
    text = "|".join([str(READER_VERSION), fmt, *hashes])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(directory: Path, name: str, key: str) -> Path:
    return directory / f"{name}-decoded-{key}"


def load(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays (read-only memory maps), or None if absent or unreadable.

    An unreadable cache (e.g. a file cut short by a full disk) is removed, to be rebuilt.
    """
    if not path.is_dir():
        return None
    try:
        return {k: np.load(path / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in KEYS}
    except (OSError, ValueError, EOFError):
        shutil.rmtree(path, ignore_errors=True)
        return None


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write every array into a temporary directory beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=path.name, suffix=".part"))
    try:
        for k in KEYS:
            np.save(tmp / f"{k}.npy", np.ascontiguousarray(arrays[k]))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the cache is ordinary data
        try:
            os.replace(tmp, path)
        except OSError:  # another process wrote the same cache first: keep theirs
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
