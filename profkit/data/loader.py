"""Dataset loader: verified source files -> decoded arrays (cached) -> the paper's split."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from profkit.data import cache
from profkit.data.dataset import Dataset, from_arrays
from profkit.data.errors import DataFileError
from profkit.data.files import LocalFile, data_root, present_dir, resolve
from profkit.data.formats import FORMATS

if TYPE_CHECKING:
    from profkit.data.registry import DatasetSpec


def decoded_cache_path(spec: DatasetSpec, root: Path) -> Path:
    key = cache.cache_key(spec.format, [sf.known_hash for sf in spec.files])
    return cache.cache_path(root / spec.name, spec.name, key)


def check_arrays(spec: DatasetSpec, a: dict[str, np.ndarray], source: str) -> None:
    """The decoded arrays match the registry: counts, image shape, label range."""
    n_train, n_val, n_test = spec.split
    for part, n in (("train", n_train + n_val), ("test", n_test)):
        x, y = a[f"x_{part}"], a[f"y_{part}"]
        if len(x) != n or len(y) != n:
            raise DataFileError(
                f"{source}: the official {part} set holds {len(x)} images and {len(y)} labels; "
                f"{spec.name} has {n}. These are not the registry's files.")
        if tuple(x.shape[1:]) != spec.input_shape:
            raise DataFileError(f"{source}: {part} images have shape {x.shape[1:]}, "
                                f"{spec.name} expects {spec.input_shape}.")
        if y.size and (y.min() < 0 or y.max() >= spec.n_classes):
            raise DataFileError(f"{source}: {part} labels span {y.min()}..{y.max()}, "
                                f"outside 0..{spec.n_classes - 1}.")


def _decode(spec: DatasetSpec, files: list[LocalFile]) -> dict[str, np.ndarray]:
    """Run the format's reader; on failure, delete what this call downloaded (it is corrupt)."""
    try:
        arrays = dict(zip(cache.KEYS, FORMATS[spec.format](files), strict=True))
        check_arrays(spec, arrays, ", ".join(str(f.path) for f in files))
    except DataFileError:
        for f in files:
            if f.downloaded:
                f.path.unlink(missing_ok=True)
        raise
    return arrays


def decoded_arrays(spec: DatasetSpec, root: Path, mirror: str | None = None,
                   ) -> tuple[dict[str, np.ndarray], dict]:
    """The official arrays, from the decoded cache or else from verified source files."""
    cpath = decoded_cache_path(spec, root)
    arrays = cache.load(cpath)
    if arrays is not None:
        check_arrays(spec, arrays, str(cpath))
        return arrays, {"decoded_cache": str(cpath)}
    local = resolve(spec.name, spec.files, root, spec.local_dirs, mirror)
    files = [local[sf.name] for sf in spec.files]
    arrays = _decode(spec, files)
    try:
        cache.save(cpath, arrays)
    except OSError as e:  # a read-only data directory only costs speed
        warnings.warn(f"{spec.name}: cannot write the decoded cache {cpath} ({e}); "
                      "loading will decode the source files every time.", stacklevel=2)
    info = {"source_files": [str(f.path) for f in files],
            "verified_by": sorted({f.verified_by for f in files}), "decoded_cache": str(cpath)}
    return arrays, info


def load_files_dataset(spec: DatasetSpec, data_dir: str | Path | None = None,
                       mirror: str | None = None) -> Dataset:
    """The paper's split: official test set; the first n_val official training images validate.

    (splits.head_validation states the same rule as index arrays.)
    """
    arrays, info = decoded_arrays(spec, data_root(data_dir), mirror)
    n_val = spec.split[1]
    # slices, not index arrays: no copy of the (memory-mapped) images before the float conversion
    split = (slice(n_val, None), slice(0, n_val), slice(0, 0))
    return from_arrays(spec.name, spec.n_classes, arrays["x_train"], arrays["y_train"],
                       split, spec.scale, info,
                       x_test=arrays["x_test"], y_test=arrays["y_test"])


def files_available(spec: DatasetSpec, data_dir: str | Path | None = None) -> str | None:
    """Where the dataset is on this machine (source files or decoded cache), or None."""
    root = data_root(data_dir)
    d = present_dir(spec.name, spec.files, root, spec.local_dirs)
    if d is not None:
        return str(d)
    cpath = decoded_cache_path(spec, root)
    return f"{cpath} (decoded cache)" if cpath.is_dir() else None
