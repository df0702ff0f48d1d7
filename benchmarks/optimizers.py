"""Fused vs foreach vs default torch Adam/SGD steps on the 3 x 1000 MLP's parameters (ms/step).

The measurement behind implementation=tuned's choice (profkit/implementation.py): the three
implementations alternate within one process (order reversed every round), each round timing
--steps steps after 5 unmeasured ones; the median over rounds is printed.

  python benchmarks/optimizers.py                  # 1 thread, 6 rounds of 40 steps
  python benchmarks/optimizers.py --threads 2 --rounds 10
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

SHAPES = [(1000, 784), (1000,), (1000, 1000), (1000,), (1000, 1000), (1000,), (10, 1000), (10,)]
IMPLS = ("default", "foreach", "fused")


def params() -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    ps = [torch.nn.Parameter(torch.randn(s, generator=g) * 0.01) for s in SHAPES]
    for p in ps:
        p.grad = torch.randn(p.shape, generator=g) * 1e-3
    return ps


def make(name: str, impl: str) -> torch.optim.Optimizer:
    kw = {} if impl == "default" else {impl: True}
    if name == "adam":
        return torch.optim.Adam(params(), lr=1e-3, eps=1e-4, **kw)
    return torch.optim.SGD(params(), lr=1e-3, momentum=0.9, **kw)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    for name in ("adam", "sgd"):
        opts = {impl: make(name, impl) for impl in IMPLS}
        ms: dict[str, list[float]] = {impl: [] for impl in IMPLS}
        for r in range(args.rounds):
            for impl in IMPLS if r % 2 == 0 else IMPLS[::-1]:
                for _ in range(5):
                    opts[impl].step()
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    opts[impl].step()
                ms[impl].append((time.perf_counter() - t0) / args.steps * 1e3)
        print(f"{name} ({args.threads} thread(s)): " + ", ".join(
            f"{impl} {statistics.median(v):.2f} ms" for impl, v in ms.items()))


if __name__ == "__main__":
    main()
