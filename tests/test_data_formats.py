"""Each real format, built small, served on 127.0.0.1 and loaded through the download path."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import pickle
import shutil
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from profkit.data import DataFileError, DatasetUnavailableError, files, get_spec, load_spec
from profkit.data import fixtures as fx
from profkit.data.files import SourceFile
from profkit.data.norb import CAT_MAGIC, write_matrix
from profkit.data.registry import replace_spec

RNG = np.random.default_rng(7)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local mirror of tmp_path/www, used through $PROFKIT_DATA_MIRROR; no retries."""
    www = tmp_path / "www"
    www.mkdir()
    with fx.serve(www) as (url, handler):
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setenv(files.MIRROR_ENV, url)
        monkeypatch.setattr(files, "RETRIES", 0)
        yield www, handler


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def names(dataset: str) -> list[str]:
    return [sf.name for sf in get_spec(dataset).files]


def small_spec(name: str, directory: Path, split: tuple[int, int, int]):
    """The registry entry, with the files in `directory` (hashes of these files), a small split
    and no system directories, so only the served files can satisfy it."""
    spec = get_spec(name)
    table = tuple(SourceFile(sf.name, sf.urls, sha(directory / sf.name)) for sf in spec.files)
    return replace_spec(spec, files=table, split=split, local_dirs=())


def make_idx(name, www):
    return fx.make_idx(www, name, names(name), RNG)


def check_loaded(ds, official, split, scale=255.0):
    """Paper's rule: first n_val official training images validate, the rest train; test as is."""
    x, y, xt, yt = official
    n_tr, n_va, n_te = split
    assert ds.sizes == {"train": n_tr, "val": n_va, "test": n_te}
    flat = x.reshape(len(x), -1).astype(np.float32) / np.float32(scale)
    torch.testing.assert_close(ds.X_val, torch.from_numpy(flat[:n_va]))
    torch.testing.assert_close(ds.X_train, torch.from_numpy(flat[n_va:]))
    assert ds.y_val.tolist() == [int(v) for v in y[:n_va]]
    assert ds.y_train.tolist() == [int(v) for v in y[n_va:]]
    flat_t = xt.reshape(len(xt), -1).astype(np.float32) / np.float32(scale)
    torch.testing.assert_close(ds.X_test, torch.from_numpy(flat_t))
    assert ds.y_test.tolist() == [int(v) for v in yt]
    assert ds.X_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64


def cache_files(data: Path) -> list[Path]:
    """Decoded caches (directories of .npy files) under a data directory."""
    return sorted(p for p in data.rglob("*-decoded-*") if p.is_dir() and p.suffix != ".part")


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", ["mnist", "kmnist", "fashion-mnist"])
def test_idx_family_downloads_verifies_splits_and_caches(server, tmp_path, name):
    www, handler = server
    official = make_idx(name, www)
    spec = small_spec(name, www / name, (6, 2, 3))
    data = tmp_path / "data"
    ds = load_spec(spec, data)
    check_loaded(ds, official, (6, 2, 3))
    assert {p.name for p in (data / name).glob("*.gz")} == {sf.name for sf in spec.files}
    assert len(handler.requests) == 4 and len(cache_files(data)) == 1
    again = load_spec(spec, data)  # warm: from the decoded cache, no request, same tensors
    assert len(handler.requests) == 4 and "source_files" not in again.info
    check_loaded(again, official, (6, 2, 3))


def test_emnist_letters_from_zip_maps_labels_and_transposes(server, tmp_path):
    www, _ = server
    x, y, xt, yt = fx.make_emnist(www, RNG)
    ds = load_spec(small_spec("emnist-letters", www / "emnist-letters", (5, 2, 3)), tmp_path / "d")
    check_loaded(ds, (x, y - 1, xt, yt - 1), (5, 2, 3))  # upright images, labels 0..25
    assert ds.n_classes == 26 and ds.y_val.tolist()[:2] == [0, 25]


def test_cifar10_pickled_batches_in_tar(server, tmp_path):
    www, _ = server
    official = fx.make_cifar(www, RNG)
    ds = load_spec(small_spec("cifar10", www / "cifar10", (8, 2, 3)), tmp_path / "d")
    check_loaded(ds, official, (8, 2, 3))
    assert ds.in_features == 3072


def test_smallnorb_binary_matrices_one_view(server, tmp_path):
    www, _ = server
    official = fx.make_norb(www, names("norb"), RNG)
    ds = load_spec(small_spec("norb", www / "norb", (3, 2, 4)), tmp_path / "d")
    check_loaded(ds, official, (3, 2, 4))  # official[0] is view 0 of each stereo pair
    assert ds.in_features == 96 * 96 and ds.n_classes == 5


# --------------------------------------------------------------------------- failures
def _assert_nothing_cached(data: Path, name: str) -> None:
    """No decoded cache, and no temporary file left behind by pooch or the cache writer."""
    assert not cache_files(data)
    d = data / name
    leftovers = [p.name for p in d.iterdir() if p.name.startswith("tmp") or
                 p.name.endswith(".part")] if d.exists() else []
    assert leftovers == []


def test_wrong_hash_is_discarded_and_named(server, tmp_path):
    www, _ = server
    make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (6, 2, 3))
    bad = replace_spec(spec, files=(replace_sf(spec.files[0], known_hash="0" * 64),
                                    *spec.files[1:]))
    data = tmp_path / "data"
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte.gz.*SHA256.*discarded"):
        load_spec(bad, data)
    assert not (data / "mnist" / "train-images-idx3-ubyte.gz").exists()
    _assert_nothing_cached(data, "mnist")


def replace_sf(sf: SourceFile, **kw) -> SourceFile:
    return dataclasses.replace(sf, **kw)


def test_truncated_download_never_lands(server, tmp_path):
    """The server sends half the file (registry hash is of the whole): pooch discards it."""
    www, _ = server
    make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (6, 2, 3))
    f = www / "mnist" / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(DataFileError, match="discarded"):
        load_spec(spec, tmp_path / "data")
    assert not (tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz").exists()
    _assert_nothing_cached(tmp_path / "data", "mnist")


def _register_corrupt(www: Path, name: str, fname: str, mutate, split):
    """Corrupt one served file *and* register its hash, so it passes download and meets the
    reader: the reader's own checks must catch it."""
    p = www / name / fname
    p.write_bytes(mutate(p.read_bytes()))
    return small_spec(name, www / name, split)


@pytest.mark.parametrize("fname,mutate,message", [
    ("train-images-idx3-ubyte.gz", lambda b: b[: len(b) - 40], "cannot decompress"),
    ("train-images-idx3-ubyte.gz",
     lambda b: gzip.compress(b"\x01\x02" + gzip.decompress(b)[2:]), "bad magic number"),
    ("train-labels-idx1-ubyte.gz",  # header says 8 labels, 7 present
     lambda b: gzip.compress(gzip.decompress(b)[:-1]), "header promises"),
    ("t10k-labels-idx1-ubyte.gz",  # a consistent file with one label too few
     lambda b: fx.idx_gz(np.zeros(2, np.uint8)), "holds 3 images but .* 2 labels"),
])
def test_corrupt_idx_is_reported_and_not_cached(server, tmp_path, fname, mutate, message):
    www, _ = server
    make_idx("mnist", www)
    spec = _register_corrupt(www, "mnist", fname, mutate, (6, 2, 3))
    data = tmp_path / "data"
    with pytest.raises(DataFileError, match=message) as e:
        load_spec(spec, data)
    assert "mnist" in str(e.value)
    _assert_nothing_cached(data, "mnist")
    assert not (data / "mnist" / fname).exists()  # the corrupt download is not kept either


def test_count_differing_from_registry_split(server, tmp_path):
    www, _ = server
    make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (7, 2, 3))  # official train has 8, not 9
    with pytest.raises(DataFileError, match="official train set holds 8 images"):
        load_spec(spec, tmp_path / "data")
    _assert_nothing_cached(tmp_path / "data", "mnist")


def test_norb_wrong_magic_and_count(server, tmp_path):
    www, _ = server
    fx.make_norb(www, names("norb"), RNG)
    dat = get_spec("norb").files[0].name

    def swap_magic(b):
        raw = gzip.decompress(b)
        return gzip.compress(np.uint32(0x1E3D4C54).tobytes() + raw[4:])  # int magic on 'dat'

    original = (www / "norb" / dat).read_bytes()
    spec = _register_corrupt(www, "norb", dat, swap_magic, (3, 2, 4))
    with pytest.raises(DataFileError, match=r"magic number 0x1E3D4C54, expected 0x1E3D4C55"):
        load_spec(spec, tmp_path / "d1")
    _assert_nothing_cached(tmp_path / "d1", "norb")
    (www / "norb" / dat).write_bytes(original)
    cat = get_spec("norb").files[4].name  # testing cat: 3 categories for 4 images
    three = gzip.compress(write_matrix(np.zeros(3, np.int32), CAT_MAGIC))
    spec = _register_corrupt(www, "norb", cat, lambda b: three, (3, 2, 4))
    with pytest.raises(DataFileError, match=r"counts 4, 3, 4 differ"):
        load_spec(spec, tmp_path / "d2")
    _assert_nothing_cached(tmp_path / "d2", "norb")


def test_cifar_refuses_code_in_pickles_and_foreign_members(server, tmp_path):
    www, _ = server
    fx.make_cifar(www, RNG)
    path = www / "cifar10" / "cifar-10-python.tar.gz"
    evil = pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0],
                         b"x": eval}, protocol=3)  # a global a real batch never holds
    with tarfile.open(path, "w:gz") as tar:
        for m in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                  "data_batch_5", "test_batch"):
            info = tarfile.TarInfo("cifar-10-batches-py/" + m)
            info.size = len(evil)
            tar.addfile(info, io.BytesIO(evil))
    with pytest.raises(DataFileError, match="refusing global builtins.eval"):
        load_spec(small_spec("cifar10", www / "cifar10", (4, 1, 1)), tmp_path / "d1")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(DataFileError, match="data_batch_2.*missing"):
        load_spec(small_spec("cifar10", www / "cifar10", (4, 1, 1)), tmp_path / "d2")


def test_emnist_label_zero_is_rejected(server, tmp_path):
    www, _ = server
    fx.make_emnist(www, RNG)
    p = www / "emnist-letters" / "gzip.zip"
    fx.rezip(p, {"gzip/emnist-letters-test-labels-idx1-ubyte.gz": fx.idx_gz(np.zeros(3, np.uint8))})
    with pytest.raises(DataFileError, match="labels must be 1..26, found 0..0"):
        load_spec(small_spec("emnist-letters", p.parent, (5, 2, 3)), tmp_path / "d")


# --------------------------------------------------------------------------- local files, retries
def test_local_files_are_used_without_download(server, tmp_path):
    """Files a user put in the data directory (flat layout) load with the server unreachable."""
    www, handler = server
    official = make_idx("kmnist", www)
    spec = small_spec("kmnist", www / "kmnist", (6, 2, 3))
    data = tmp_path / "data"
    data.mkdir()
    for sf in spec.files:
        (data / sf.name).write_bytes((www / "kmnist" / sf.name).read_bytes())
    ds = load_spec(spec, data, mirror="http://127.0.0.1:9")  # port 9: nothing listens
    check_loaded(ds, official, (6, 2, 3))
    assert handler.requests == [] and ds.info["verified_by"] == ["sha256"]


def test_corrupt_cached_file_is_replaced_by_download(server, tmp_path):
    www, handler = server
    official = make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (6, 2, 3))
    stale = tmp_path / "data" / "mnist" / spec.files[0].name
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"partial download")
    check_loaded(load_spec(spec, tmp_path / "data"), official, (6, 2, 3))
    assert sha(stale) == spec.files[0].known_hash


def test_retry_after_server_error(server, tmp_path, monkeypatch):
    www, handler = server
    official = make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (6, 2, 3))
    monkeypatch.setattr(files, "RETRIES", 1)
    handler.fail_first["/mnist/train-labels-idx1-ubyte.gz"] = 1
    check_loaded(load_spec(spec, tmp_path / "data"), official, (6, 2, 3))
    assert handler.requests.count("/mnist/train-labels-idx1-ubyte.gz") == 2


def test_no_network_names_urls_files_and_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "RETRIES", 0)
    monkeypatch.delenv(files.MIRROR_ENV, raising=False)
    spec = replace_spec(get_spec("mnist"), files=tuple(
        replace_sf(sf, urls=(f"http://127.0.0.1:9/{sf.name}",)) for sf in get_spec("mnist").files),
        package=None)  # the URL route alone (test_data_wheel covers the package route)
    with pytest.raises(DatasetUnavailableError) as e:
        load_spec(spec, tmp_path / "data")
    msg = str(e.value)
    assert f"put them in {tmp_path / 'data' / 'mnist'}/" in msg
    for sf in spec.files:
        assert sf.urls[0] in msg and sf.known_hash in msg
    assert not cache_files(tmp_path / "data")


def test_unreadable_decoded_cache_is_rebuilt(server, tmp_path):
    www, _ = server
    official = make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (6, 2, 3))
    load_spec(spec, tmp_path / "data")
    (cached,) = cache_files(tmp_path / "data")
    npy = cached / "x_train.npy"
    full = npy.stat().st_size
    npy.write_bytes(npy.read_bytes()[:100])  # e.g. a disk that filled up
    ds = load_spec(spec, tmp_path / "data")
    check_loaded(ds, official, (6, 2, 3))
    assert "source_files" in ds.info and npy.stat().st_size == full


def test_recompressed_copy_verifies_by_content_and_a_wrong_one_is_rejected(server, tmp_path):
    """Like Debian's Fashion-MNIST: other .gz bytes, same IDX content, in a system directory."""
    www, handler = server
    official = make_idx("fashion-mnist", www)
    system = tmp_path / "usr-share"
    system.mkdir()
    table = []
    for sf in small_spec("fashion-mnist", www / "fashion-mnist", (6, 2, 3)).files:
        content = gzip.decompress((www / "fashion-mnist" / sf.name).read_bytes())
        (system / sf.name).write_bytes(gzip.compress(content, compresslevel=1, mtime=1))
        assert sha(system / sf.name) != sf.known_hash  # the .gz bytes really differ
        table.append(replace_sf(sf, content_sha256=hashlib.sha256(content).hexdigest()))
    spec = replace_spec(get_spec("fashion-mnist"), files=tuple(table), split=(6, 2, 3),
                        local_dirs=(str(system),))
    ds = load_spec(spec, tmp_path / "d1", mirror="http://127.0.0.1:9")
    check_loaded(ds, official, (6, 2, 3))
    assert ds.info["verified_by"] == ["content-sha256"] and handler.requests == []
    labels = system / table[1].name
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-1] + b"\x09"))
    with pytest.raises(DatasetUnavailableError, match=r"rejected: .*train-labels.*differs"):
        load_spec(spec, tmp_path / "d2", mirror="http://127.0.0.1:9")


# ------------------------------------------------------------- decoded cache integrity (10.4)
def _cached_mnist(server, tmp_path):
    www, _ = server
    official = make_idx("mnist", www)
    spec = small_spec("mnist", www / "mnist", (6, 2, 3))
    load_spec(spec, tmp_path / "data")
    (cached,) = cache_files(tmp_path / "data")
    return official, spec, cached


def _garble_pixel(cached):
    x = np.load(cached / "x_train.npy", mmap_mode="r+")
    x[3, 5, 5] = (int(x[3, 5, 5]) + 1) % 256  # one pixel, one grey level
    x.flush()


def _swap_labels(cached):
    y = np.load(cached / "y_train.npy", mmap_mode="r+")
    i, j = next((i, j) for i in range(len(y)) for j in range(i) if y[i] != y[j])
    y[i], y[j] = y[j], y[i]  # both still in range: no range check can see it
    y.flush()


@pytest.mark.parametrize("damage", [_garble_pixel, _swap_labels], ids=["pixel", "labels"])
def test_a_changed_decoded_cache_fails_its_digest_and_is_rebuilt(server, tmp_path, damage):
    official, spec, cached = _cached_mnist(server, tmp_path)
    damage(cached)
    with pytest.warns(UserWarning, match="does not match its sha256 digests"):
        ds = load_spec(spec, tmp_path / "data")
    check_loaded(ds, official, (6, 2, 3))  # the official arrays, not the changed ones
    assert "source_files" in ds.info  # rebuilt from the verified sources
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt cache verifies silently
        check_loaded(load_spec(spec, tmp_path / "data"), official, (6, 2, 3))


def test_a_decoded_cache_with_out_of_range_labels_is_rebuilt(server, tmp_path):
    """Digests that match (the cache was written that way) do not excuse impossible labels."""
    from profkit.data import cache

    official, spec, cached = _cached_mnist(server, tmp_path)
    arrays = {k: np.array(np.load(cached / f"{k}.npy")) for k in cache.KEYS}
    arrays["y_test"][0] = 99
    shutil.rmtree(cached)
    cache.save(cached, arrays)
    with pytest.warns(UserWarning, match="labels span"):
        ds = load_spec(spec, tmp_path / "data")
    check_loaded(ds, official, (6, 2, 3))
    assert np.load(cached / "y_test.npy").max() < 10


def test_a_decoded_cache_without_digests_is_rebuilt(server, tmp_path):
    official, spec, cached = _cached_mnist(server, tmp_path)
    (cached / "sha256.json").unlink()  # e.g. written by an older profkit
    with pytest.warns(UserWarning, match="has no digests"):
        check_loaded(load_spec(spec, tmp_path / "data"), official, (6, 2, 3))
    assert (cached / "sha256.json").is_file()
