"""Datasets: registry, file formats, splits."""

from profkit.data.dataset import Dataset
from profkit.data.idx import DataFileError
from profkit.data.registry import (DATASETS, DatasetUnavailableError, UnknownDatasetError,
                                   load_dataset)

__all__ = ["DATASETS", "DataFileError", "Dataset", "DatasetUnavailableError",
           "UnknownDatasetError", "load_dataset"]
