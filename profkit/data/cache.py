"""Decoded-array cache: a dataset's official arrays as uncompressed .npy files, keyed by hashes.

Decoding (gunzip, unpickle, header checks) is most of a cold load; a warm load memory-maps the
.npy files, so the only work left is converting pixels to float32. The key covers the format,
the reader version and every source file's expected hash, so new sources or a changed reader
never meet a stale cache. The arrays are written into a temporary directory that is renamed
into place, so a crash never leaves a half-written cache behind.

The key says which sources the cache came from, not that its bytes are still what was written:
a flipped bit, a garbled pixel or two swapped labels would be trusted forever. So the cache
holds `sha256.json`, a digest of each array's dtype, shape and bytes, and every load checks it;
a cache that fails (or predates the digests) is deleted with a warning and rebuilt from the
verified sources. `benchmarks/dataset_cache.py` measures what the check costs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

READER_VERSION = 1  # bump when a reader's output changes (e.g. orientation, label mapping)
KEYS = ("x_train", "y_train", "x_test", "y_test")
DIGESTS = "sha256.json"


def cache_key(fmt: str, hashes: list[str]) -> str:
    text = "|".join([str(READER_VERSION), fmt, *hashes])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(directory: Path, name: str, key: str) -> Path:
    return directory / f"{name}-decoded-{key}"


def digest(a: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes (a memory map is hashed without a copy)."""
    h = hashlib.sha256(f"{a.dtype.str}|{a.shape}|".encode())
    h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()


def discard(path: Path, why: str) -> None:
    """Delete a cache that cannot be trusted, saying why; the caller rebuilds it."""
    warnings.warn(f"decoded cache {path} {why}; deleting it and rebuilding it from the "
                  "verified source files", stacklevel=3)
    shutil.rmtree(path, ignore_errors=True)


def load(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays (read-only memory maps), or None if absent or not to be trusted.

    An unreadable cache (e.g. a file cut short by a full disk) or one whose arrays do not match
    their stored digests is removed, to be rebuilt.
    """
    if not path.is_dir():
        return None
    try:
        arrays = {k: np.load(path / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in KEYS}
        expected = json.loads((path / DIGESTS).read_text())
    except (OSError, ValueError, EOFError):
        discard(path, "is unreadable or has no digests")
        return None
    if not isinstance(expected, dict):
        expected = {}
    bad = [k for k in KEYS if expected.get(k) != digest(arrays[k])]
    if bad:
        discard(path, f"does not match its sha256 digests ({', '.join(bad)} changed)")
        return None
    return arrays


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write every array and their digests into a temporary directory beside `path`, then
    rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=path.name, suffix=".part"))
    try:
        digests = {}
        for k in KEYS:
            a = np.ascontiguousarray(arrays[k])
            np.save(tmp / f"{k}.npy", a)
            digests[k] = digest(a)
        (tmp / DIGESTS).write_text(json.dumps(digests, indent=1))
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
