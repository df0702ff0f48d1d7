"""Reader for CIFAR-10's python version: pickled batches inside cifar-10-python.tar.gz.

Format (https://www.cs.toronto.edu/~kriz/cifar.html): the archive holds
cifar-10-batches-py/data_batch_1..5 (10000 images each) and test_batch (10000), each a Python 2
pickle of a dict with b"data" (uint8 array, n x 3072: 1024 red, 1024 green, 1024 blue values,
each row-major 32x32) and b"labels" (n ints in 0..9). Only those members are read, straight
from the archive (nothing is extracted), and the unpickler refuses every global except the
three numpy names an ndarray needs, so a crafted archive cannot run code.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from profkit.data.errors import DataFileError
from profkit.data.safe_pickle import SafeUnpickler

PREFIX = "cifar-10-batches-py/"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
PIXELS = 3 * 32 * 32

def _members(path: Path) -> dict[str, bytes]:
    """Bytes of the six expected batch members (regular files only); nothing else is read."""
    wanted = {PREFIX + m for m in (*TRAIN_BATCHES, TEST_BATCH)}
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                if info.name in wanted and info.isfile():
                    out[info.name[len(PREFIX):]] = tar.extractfile(info).read()  # type: ignore[union-attr]
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DataFileError(f"{path}: not a readable tar.gz ({e}); the file is corrupt or "
                            "truncated. Delete it and fetch it again.") from None
    missing = sorted(w[len(PREFIX):] for w in wanted if w[len(PREFIX):] not in out)
    if missing:
        names = ", ".join(PREFIX + m for m in missing)
        raise DataFileError(f"{path}: members {names} are missing; this is not CIFAR-10's "
                            "python version (cifar-10-python.tar.gz).")
    return out


def parse_batch(blob: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """One batch: images (n, 3, 32, 32) uint8 and labels (n,) int64, validated."""
    try:
        d = SafeUnpickler(io.BytesIO(blob), encoding="bytes").load()
    except Exception as e:  # any unpickling failure means a corrupt or foreign member
        raise DataFileError(f"{source}: not a CIFAR-10 batch pickle ({e}).") from None
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        keys = sorted(d) if isinstance(d, dict) else type(d).__name__
        raise DataFileError(f"{source}: expected a dict with b'data' and b'labels', got {keys}.")
    x, y = d[b"data"], np.asarray(d[b"labels"])
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != PIXELS:
        shape = getattr(x, "shape", None)
        raise DataFileError(f"{source}: b'data' must be uint8 (n, {PIXELS}), got {shape}.")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise DataFileError(f"{source}: {len(x)} images but labels of shape {y.shape}.")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DataFileError(f"{source}: labels outside 0..9.")
    return x.reshape(-1, 3, 32, 32), y.astype(np.int64)


def read_cifar10(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Official training set (batches 1..5 in order) and test set: x (n, 3, 32, 32), y (n,)."""
    blobs = _members(Path(path))
    train = [parse_batch(blobs[b], f"{path}:{PREFIX}{b}") for b in TRAIN_BATCHES]
    xt, yt = parse_batch(blobs[TEST_BATCH], f"{path}:{PREFIX}{TEST_BATCH}")
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), xt, yt)


def write_cifar10(path: Path, train: list[tuple[np.ndarray, np.ndarray]],
                  test: tuple[np.ndarray, np.ndarray]) -> None:
    """Write a cifar-10-python.tar.gz with the real layout; used to make test fixtures."""
    batches = dict(zip(TRAIN_BATCHES, train, strict=True))
    batches[TEST_BATCH] = test
    with tarfile.open(path, "w:gz") as tar:
        for name, (x, y) in batches.items():
            d = {b"batch_label": name.encode(), b"data": x.reshape(len(x), PIXELS),
                 b"labels": [int(v) for v in y], b"filenames": [b"f.png"] * len(x)}
            blob = pickle.dumps(d, protocol=3)  # BINBYTES, as py2 strings load
            # The real batches were pickled by numpy 1 (module numpy.core): name it the same way.
            blob = blob.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
            info = tarfile.TarInfo(PREFIX + name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
