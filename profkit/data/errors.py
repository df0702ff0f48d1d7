"""Dataset errors: each names the problem and the fix, and the CLI prints it as one line."""

from __future__ import annotations


class UnknownDatasetError(ValueError):
    """A dataset name that is not in the registry."""


class DatasetUnavailableError(RuntimeError):
    """The dataset's files are not on this machine and could not be downloaded."""


class DataFileError(ValueError):
    """A data file is corrupt, truncated, fails its checksum or is not in the expected format."""
