"""The dataset registry, the real Fashion-MNIST from Debian's package, and `profkit datasets`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from profkit.data import DATASETS, UnknownDatasetError, get_spec, load_dataset
from profkit.data.formats import FORMATS
from profkit.data.sources import DEBIAN_FASHION_MNIST

PAPER = ["mnist", "kmnist", "fashion-mnist", "emnist-letters", "norb", "cifar10"]


def test_registry_has_the_papers_six_datasets_with_their_splits():
    """methods.md: train / validation / test sizes as the paper uses them."""
    expected = {"mnist": (55000, 5000, 10000), "kmnist": (55000, 5000, 10000),
                "fashion-mnist": (55000, 5000, 10000), "emnist-letters": (104800, 20000, 20800),
                "norb": (22300, 2000, 24300), "cifar10": (45000, 5000, 10000)}
    assert {n: DATASETS[n].split for n in PAPER} == expected
    assert {"mnist-5k", "digits"} <= set(DATASETS)
    assert DATASETS["norb"].input_shape == (96, 96) and DATASETS["norb"].n_classes == 5
    assert DATASETS["emnist-letters"].n_classes == 26
    assert DATASETS["cifar10"].in_features == 3072


@pytest.mark.parametrize("name", PAPER)
def test_every_source_file_has_a_url_and_a_well_formed_hash(name):
    spec = get_spec(name)
    assert spec.format in FORMATS and spec.files
    for sf in spec.files:
        assert all(u.startswith(("http://", "https://")) and u.endswith(sf.name) for u in sf.urls)
        assert re.fullmatch(r"(md5:[0-9a-f]{32}|[0-9a-f]{64})", sf.known_hash), sf.known_hash
        assert sf.content_sha256 is None or re.fullmatch(r"[0-9a-f]{64}", sf.content_sha256)
    assert str(spec.split[1]) in spec.split_rule and "first" in spec.split_rule


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(UnknownDatasetError) as e:
        load_dataset("imagenet")
    for name in DATASETS:
        assert name in str(e.value)


@pytest.fixture(scope="module")
def debian_fashion(tmp_path_factory):
    if not Path(DEBIAN_FASHION_MNIST).is_dir():
        pytest.skip(f"{DEBIAN_FASHION_MNIST} absent (apt-get install dataset-fashion-mnist)")
    data = tmp_path_factory.mktemp("data")
    return data, load_dataset("fashion-mnist", data)


def test_debian_fashion_mnist_loads_with_the_papers_split(debian_fashion):
    """Debian re-gzipped the files: they verify by the SHA-256 of their decompressed content."""
    data, ds = debian_fashion
    assert ds.info["verified_by"] == ["content-sha256"]
    assert all(f.startswith(DEBIAN_FASHION_MNIST) for f in ds.info["source_files"])
    assert ds.sizes == {"train": 55000, "val": 5000, "test": 10000}
    official = np.concatenate([ds.y_val.numpy(), ds.y_train.numpy()])  # 60000 in file order
    assert np.bincount(official, minlength=10).tolist() == [6000] * 10
    assert np.bincount(ds.y_test.numpy(), minlength=10).tolist() == [1000] * 10
    assert ds.in_features == 784
    assert float(ds.X_train.min()) == 0.0 and float(ds.X_train.max()) == 1.0


def test_debian_fashion_mnist_warm_load_matches_cold(debian_fashion):
    data, cold = debian_fashion
    warm = load_dataset("fashion-mnist", data)
    assert "source_files" not in warm.info and Path(warm.info["decoded_cache"]).is_dir()
    for a in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        assert getattr(warm, a).equal(getattr(cold, a))


# --------------------------------------------------------------------------- CLI
def _cli(capsys, *argv) -> tuple[int, str, str]:
    from profkit.cli import main

    rc = main(["datasets", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_list_shows_all_eight_with_availability(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("PROFKIT_DATA", raising=False)
    (tmp_path / "kmnist").mkdir()
    for sf in get_spec("kmnist").files:  # presence is by name: `list` must stay quick
        (tmp_path / "kmnist" / sf.name).write_bytes(b"x")
    rc, out, _ = _cli(capsys, "list", "--data-dir", str(tmp_path))
    assert rc == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == set(DATASETS)
    assert "yes:" in rows["kmnist"] and str(tmp_path / "kmnist") in rows["kmnist"]
    assert "no: profkit datasets fetch cifar10" in rows["cifar10"]
    assert "yes:" in rows["mnist-5k"] and "45000/5000/10000" in rows["cifar10"]


def test_cli_info_shows_files_hashes_and_rule(capsys, tmp_path):
    rc, out, _ = _cli(capsys, "info", "norb", "--data-dir", str(tmp_path))
    assert rc == 0 and "22300" in out and "first 2000" in out
    for sf in get_spec("norb").files:
        assert sf.name in out and sf.known_hash in out
    assert str(tmp_path / "norb") in out


def test_cli_fetch_offline_gives_one_clear_error(capsys, tmp_path, monkeypatch):
    from profkit.data import files

    monkeypatch.setattr(files, "RETRIES", 0)
    rc, out, err = _cli(capsys, "fetch", "cifar10", "--data-dir", str(tmp_path),
                        "--mirror", "http://127.0.0.1:9")
    assert rc == 2
    assert "cifar-10-python.tar.gz" in err and str(tmp_path / "cifar10") in err
    assert "Traceback" not in err


def test_cli_unknown_name(capsys):
    rc, _, err = _cli(capsys, "info", "imagenet")
    assert rc == 2 and "valid datasets" in err and "emnist-letters" in err


def test_data_directory_precedence(tmp_path, monkeypatch):
    """--data-dir beats $PROFKIT_DATA, which beats the platform cache directory."""
    from profkit.data.files import data_root

    monkeypatch.delenv("PROFKIT_DATA", raising=False)
    default = data_root(None)
    assert default.name == "profkit" and default != tmp_path
    monkeypatch.setenv("PROFKIT_DATA", str(tmp_path / "env"))
    assert data_root(None) == tmp_path / "env"
    assert data_root(tmp_path / "cli") == tmp_path / "cli"
