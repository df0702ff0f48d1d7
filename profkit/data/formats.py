"""File formats: each turns a dataset's verified source files into its official train/test arrays.

A reader takes the source files in the order the registry lists them and returns
(x_train, y_train, x_test, y_test) for the *official* training and test sets: images as
uint8 (n, *input_shape), labels int64 (n,) in 0..n_classes-1. Splitting off validation is the
loader's job, the same for every format.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable

import numpy as np

from profkit.data import cifar, norb
from profkit.data.errors import DataFileError
from profkit.data.files import LocalFile
from profkit.data.idx import gunzip, parse_idx

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _idx_pair(images: bytes, labels: bytes,
              names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    x = parse_idx(images, names[0], expect_ndim=3)  # (n, rows, cols)
    y = parse_idx(labels, names[1], expect_ndim=1)  # (n,)
    if len(x) != len(y):
        raise DataFileError(f"{names[0]} holds {len(x)} images but {names[1]} holds {len(y)} "
                            "labels; the files do not belong together.")
    return x, y.astype(np.int64)


def read_idx_family(files: list[LocalFile]) -> Arrays:
    """MNIST, Fashion-MNIST, KMNIST: train images, train labels, test images, test labels."""
    tr_x, tr_y, te_x, te_y = files
    x, y = _idx_pair(tr_x.data(), tr_y.data(), (str(tr_x.path), str(tr_y.path)))
    xt, yt = _idx_pair(te_x.data(), te_y.data(), (str(te_x.path), str(te_y.path)))
    return x, y, xt, yt


EMNIST_LETTERS_MEMBERS = tuple(f"gzip/emnist-letters-{s}-{k}-ubyte.gz" for s in ("train", "test")
                               for k in ("images-idx3", "labels-idx1"))


def _zip_members(f: LocalFile, names: tuple[str, ...]) -> list[bytes]:
    """Gunzipped bytes of the named members of a zip, read without extracting anything."""
    try:
        with zipfile.ZipFile(f.path) as z:
            present = set(z.namelist())
            missing = [n for n in names if n not in present]
            if missing:
                raise DataFileError(f"{f.path}: members {', '.join(missing)} are missing; this is "
                                    "not EMNIST's gzip.zip.")
            return [gunzip(z.read(n), f"{f.path}:{n}") for n in names]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise DataFileError(f"{f.path}: not a readable zip ({e}); the file is corrupt or "
                            "truncated. Delete it and fetch it again.") from None


def read_emnist_letters(files: list[LocalFile]) -> Arrays:
    """EMNIST-Letters from NIST's gzip.zip (Cohen et al. 2017).

    Two quirks of the published files, both undone here: labels are 1..26 (a..z, upper and
    lower case merged) and become 0..25; each image is stored transposed relative to MNIST
    (column-major), so it is transposed back to appear upright like MNIST's digits.
    """
    (f,) = files
    blobs = _zip_members(f, EMNIST_LETTERS_MEMBERS)
    names = tuple(f"{f.path}:{n}" for n in EMNIST_LETTERS_MEMBERS)
    out = []
    for i in (0, 2):  # train, then test: images and labels
        nl = names[i + 1]
        x, y = _idx_pair(blobs[i], blobs[i + 1], (names[i], nl))
        if y.size and (y.min() < 1 or y.max() > 26):
            raise DataFileError(f"{nl}: EMNIST-Letters labels must be 1..26, found "
                                f"{y.min()}..{y.max()}.")
        out += [x.transpose(0, 2, 1), y - 1]  # (n, 28, 28) upright; labels 0..25
    return tuple(out)  # type: ignore[return-value]


def read_cifar10(files: list[LocalFile]) -> Arrays:
    (f,) = files
    return cifar.read_cifar10(f.path)


def read_smallnorb(files: list[LocalFile]) -> Arrays:
    """smallNORB: training dat, cat, info, then testing dat, cat, info."""
    halves = []
    for group in (files[:3], files[3:]):
        names = tuple(str(g.path) for g in group)
        halves.append(norb.read_split(*(g.data() for g in group), names))  # type: ignore[arg-type]
    (x, y), (xt, yt) = halves
    return x, y, xt, yt


# format name (DatasetSpec.format) -> reader
FORMATS: dict[str, Callable[[list[LocalFile]], Arrays]] = {
    "idx": read_idx_family,
    "emnist-letters-zip": read_emnist_letters,
    "cifar10-python": read_cifar10,
    "smallnorb": read_smallnorb,
}
