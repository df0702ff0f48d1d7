"""Datasets: registry, file formats, verified downloads, splits."""

from profkit.data.dataset import Dataset
from profkit.data.errors import DataFileError, DatasetUnavailableError, UnknownDatasetError
from profkit.data.registry import (
    DATASETS,
    DatasetSpec,
    check_dataset_name,
    get_spec,
    load_dataset,
    load_spec,
)

__all__ = ["DATASETS", "DataFileError", "Dataset", "DatasetSpec", "DatasetUnavailableError",
           "UnknownDatasetError", "check_dataset_name", "get_spec", "load_dataset", "load_spec"]
