"""Reader for the IDX format of the MNIST family (LeCun et al.), gzip-compressed or raw."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from profkit.data.errors import DataFileError

# Third byte of the magic number -> element type (the IDX specification).
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def gunzip(raw: bytes, source: str) -> bytes:
    """Decompressed gzip bytes; a truncated or damaged stream is a DataFileError."""
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DataFileError(f"{source}: cannot decompress ({e}); the file is corrupt or "
                            "truncated. Delete it and fetch it again.") from None


def read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the name ends in .gz; a truncated gzip is an error."""
    path = Path(path)
    raw = path.read_bytes()
    return gunzip(raw, str(path)) if path.suffix == ".gz" else raw


def parse_idx(data: bytes, source: str = "<bytes>", expect_ndim: int | None = None) -> np.ndarray:
    """Parse IDX bytes into an array, validating magic number, dimensions and length."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataFileError(f"{source}: not an IDX file (bad magic number {data[:4].hex()}).")
    code, ndim = data[2], data[3]
    if code not in _DTYPES:
        raise DataFileError(f"{source}: IDX element type 0x{code:02x} is not in the specification.")
    if expect_ndim is not None and ndim != expect_ndim:
        raise DataFileError(f"{source}: expected {expect_ndim} dimensions, header says {ndim}.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"{source}: truncated header.")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    return payload(data, header, dims, np.dtype(_DTYPES[code]), source)


def payload(data: bytes, header: int, dims: tuple[int, ...], dtype: np.dtype,
            source: str) -> np.ndarray:
    """The array after a header, in native byte order, if its length is what `dims` promise.
    Shared by the binary-matrix formats (IDX, smallNORB)."""
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataFileError(f"{source}: header promises {dims} ({expected} bytes of data) but the "
                            f"file holds {len(data) - header}; it is truncated or corrupt.")
    arr = np.frombuffer(data, dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: Path, expect_ndim: int | None = None) -> np.ndarray:
    return parse_idx(read_bytes(path), str(path), expect_ndim)


def write_idx(array: np.ndarray, path: Path) -> None:
    """Write `array` as IDX (gzip if the name ends in .gz); used to make test fixtures."""
    codes = {np.dtype(v).newbyteorder(">").str: k for k, v in _DTYPES.items()}
    codes[np.dtype(np.uint8).str] = 0x08
    dt = np.dtype(array.dtype)
    key = dt.str if dt.itemsize == 1 else dt.newbyteorder(">").str
    head = bytes([0, 0, codes[key], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=dt.newbyteorder(">") if dt.itemsize > 1 else dt)
    blob = head + body.tobytes()
    Path(path).write_bytes(gzip.compress(blob) if str(path).endswith(".gz") else blob)
