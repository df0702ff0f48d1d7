"""Reader for smallNORB's binary matrix files (LeCun, Huang & Bottou 2004).

Format (https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/): little-endian int32 magic number,
int32 ndim, then max(3, ndim) int32 dimensions (unused ones are 1), then the data, row-major.
Per split there are three files: `dat` (uint8, N x 2 x 96 x 96: a stereo pair per sample),
`cat` (int32, N: category 0..4) and `info` (int32, N x 4: instance, elevation, azimuth,
lighting). profkit uses one view of each pair (the first, as the paper uses "one 96x96 view").
"""

from __future__ import annotations

import numpy as np

from profkit.data.errors import DataFileError
from profkit.data.idx import payload

# magic -> element type (the format's page; packed matrices, 0x1E3D4C52, are not used by NORB)
MAGIC = {0x1E3D4C51: "<f4", 0x1E3D4C53: "<f8", 0x1E3D4C54: "<i4", 0x1E3D4C55: "u1",
         0x1E3D4C56: "<i2"}
DAT_MAGIC, CAT_MAGIC = 0x1E3D4C55, 0x1E3D4C54
N_CLASSES = 5
VIEW = 0  # which camera of each stereo pair is used


def parse_matrix(data: bytes, source: str, magic: int, dims_tail: tuple[int, ...]) -> np.ndarray:
    """Parse a binary matrix, requiring `magic` and dimensions (N, *dims_tail)."""
    if len(data) < 20:
        raise DataFileError(f"{source}: {len(data)} bytes is too short for a binary matrix header.")
    got, ndim = (int(v) for v in np.frombuffer(data, "<i4", count=2))
    if got != magic:
        raise DataFileError(f"{source}: magic number 0x{got & 0xFFFFFFFF:08X}, expected "
                            f"0x{magic:08X}; this is not the expected smallNORB file.")
    if ndim != 1 + len(dims_tail):
        raise DataFileError(f"{source}: header says {ndim} dimensions, expected "
                            f"{1 + len(dims_tail)}.")
    n_dims = max(3, ndim)
    header = 8 + 4 * n_dims
    dims = tuple(int(d) for d in np.frombuffer(data, "<i4", count=n_dims, offset=8))[:ndim]
    if dims[1:] != dims_tail or dims[0] < 0:
        raise DataFileError(f"{source}: dimensions {dims}, expected (N, "
                            f"{', '.join(map(str, dims_tail))}).")
    return payload(data, header, dims, np.dtype(MAGIC[magic]), source)


def read_split(dat: bytes, cat: bytes, info: bytes, names: tuple[str, str, str],
               ) -> tuple[np.ndarray, np.ndarray]:
    """One split: images (N, 96, 96) uint8 of the chosen view and labels (N,) int64."""
    x = parse_matrix(dat, names[0], DAT_MAGIC, (2, 96, 96))  # (N, 2, 96, 96)
    y = parse_matrix(cat, names[1], CAT_MAGIC, ())  # (N,)
    meta = parse_matrix(info, names[2], CAT_MAGIC, (4,))  # (N, 4)
    if not len(x) == len(y) == len(meta):
        raise DataFileError(f"{names[0]}, {names[1]}, {names[2]}: counts {len(x)}, {len(y)}, "
                            f"{len(meta)} differ; the files do not belong together.")
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise DataFileError(f"{names[1]}: categories outside 0..{N_CLASSES - 1}.")
    return x[:, VIEW], y.astype(np.int64)


def write_matrix(array: np.ndarray, magic: int) -> bytes:
    """Encode `array` as a binary matrix; used to make test fixtures."""
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    head = np.asarray([magic, array.ndim, *dims], "<u4").tobytes()
    return head + np.ascontiguousarray(array, MAGIC[magic]).tobytes()
