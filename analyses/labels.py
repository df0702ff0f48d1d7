"""Names: profkit's method and dataset names beside the paper's, and the S/M setting labels."""

from __future__ import annotations

# registry name -> the paper's name (the five methods of the paper, in its table order)
METHOD_TITLES: dict[str, str] = {
    "alsh-approx": "ALSH-approx",
    "mc-approx": "MC-approx",
    "dropout": "Dropout",
    "adaptive-dropout": "Adaptive-Dropout",
    "standard": "Standard",
}
PAPER_METHODS = tuple(METHOD_TITLES)
REFERENCE = "standard"

# profkit dataset -> (paper dataset, why a comparison with the paper is not like for like or None)
PAPER_DATASETS: dict[str, tuple[str, str | None]] = {
    "mnist": ("MNIST", None),
    "mnist-5k": ("MNIST", "mnist-5k is a 5,000-image subset of MNIST (4,000 train / 500 test), "
                          "not the paper's 55,000 / 10,000 MNIST: numbers are not comparable"),
    "fashion-mnist": ("Fashion-MNIST", None),
    "kmnist": ("Kuzushiji-MNIST", None),
    "emnist-letters": ("EMNIST-Letters", None),
    "norb": ("NORB", None),
    "smallnorb": ("NORB", None),
    "cifar10": ("CIFAR-10", "the paper trains on ResNet-18 features, not raw pixels"),
    "cifar-10": ("CIFAR-10", "the paper trains on ResNet-18 features, not raw pixels"),
}
PAPER_SETTINGS = {1: "S", 20: "M"}  # batch size -> the paper's subscript
PAPER_WIDTH = 1000
PAPER_EPOCHS = 50
PAPER_HARDWARE = "Intel Core i9-9920X (12 cores), one CPU, no parallelisation"
SHALLOW_MAX = 4  # §10.4: shallow is <= 4 hidden layers


# analysis column -> table header, for the ALSH section's diagnostics and recall study
COLUMN_LABELS: dict[str, str] = {
    "dataset": "dataset", "config": "configuration", "batch_size": "batch", "layer": "layer",
    "family": "hash family", "selection": "selection", "K": "K (bits per table)",
    "L": "L (tables)", "m": "m (transform terms)", "U": "U (max norm)",
    "bin_size": "DWTA bin size", "rerank": "re-rank (x cap)",
    "recall_topk": "recall of top-5%", "recall": "recall of top-5% (mean over layers)",
    "recall_layer0": "recall, layer 0", "recall_random": "recall by random choice",
    "bucket_fraction": "share found in buckets", "tables_probed": "tables probed",
    "largest_bucket_share": "largest bucket's share of units",
    "bucket_size_mean": "mean bucket size (units)",
    "data_extra_share": "appended terms' share of |P(w)|\u00b2",
    "query_extra_share": "appended terms' share of |Q(a)|\u00b2",
    "active_set_mean": "active units per step",
}


def column_label(name: str) -> str:
    """A readable header for an analysis column (the column's own name when none is set)."""
    return COLUMN_LABELS.get(name, name.replace("_", " "))


def method_title(name: str) -> str:
    return METHOD_TITLES.get(name, name)


def setting(batch_size: int) -> str:
    """The paper's subscript for a batch size: S (1), M (20), or b<N> for any other."""
    return PAPER_SETTINGS.get(int(batch_size), f"b{int(batch_size)}")


def setting_label(batch_size: int) -> str:
    """'S (batch 1)', 'M (batch 20)', or 'b64' for any other batch size."""
    s = setting(batch_size)
    return f"{s} (batch {int(batch_size)})" if s in ("S", "M") else s


def run_label(method: str, batch_size: int) -> str:
    """E.g. 'MC-approx M (b20)', 'Standard S (b1)', 'Dropout b64'."""
    s = setting(batch_size)
    tail = f"{s} (b{int(batch_size)})" if s in ("S", "M") else s
    return f"{method_title(method)} {tail}"


def paper_dataset(name: str) -> tuple[str | None, str | None]:
    return PAPER_DATASETS.get(name, (None, f"dataset {name!r} is not in the paper"))
