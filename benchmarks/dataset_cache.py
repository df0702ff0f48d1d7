"""What verifying the decoded-dataset cache costs: sha256 of its arrays vs the whole warm load.

A warm load memory-maps the cached .npy files, checks their sha256 digests (profkit/data/cache.py)
and converts pixels to float32 tensors split as the paper does. This prints, per repeat, the
warm load's wall time, the digest check's own time (the same four arrays, hashed alone, right
after), and their ratio; then the median ratio. Both are measured in this one process,
interleaved, so machine load hits them alike. Target: verify / load <= 0.5 (the check must not
dominate a warm load; training takes minutes to hours, so even that is small).

  python benchmarks/dataset_cache.py                       # fashion-mnist and mnist, 5 repeats
  python benchmarks/dataset_cache.py --datasets mnist --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import time

from profkit.data import cache as dcache
from profkit.data import get_spec, load_dataset
from profkit.data.files import data_root
from profkit.data.loader import decoded_cache_path

TARGET = 0.5


def verify_seconds(path) -> float:
    t0 = time.perf_counter()
    assert dcache.load(path) is not None  # the memory maps and all four digests
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["fashion-mnist", "mnist"])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    for name in args.datasets:
        spec = get_spec(name)
        load_dataset(name)  # builds the cache if needed; not timed
        path = decoded_cache_path(spec, data_root(None)) if spec.files else None
        if path is None or not path.is_dir():
            print(f"{name}: no decoded cache (embedded or generated data): nothing to verify")
            continue
        ratios = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            load_dataset(name)
            load_s = time.perf_counter() - t0
            ver_s = verify_seconds(path)
            ratios.append(ver_s / load_s)
            print(f"{name} repeat {r}: warm load {load_s * 1e3:.1f} ms (verify included), "
                  f"verify alone {ver_s * 1e3:.1f} ms, ratio {ratios[-1]:.2f}")
        med = statistics.median(ratios)
        print(f"{name}: median verify / warm load = {med:.2f} over {args.repeats} repeats "
              f"(target <= {TARGET}: {'met' if med <= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
