"""Overhead of each probe as a ratio to a clean run, side by side; plus perf's cost per boundary.

The same config runs clean and with each probe, in a rotating order per repeat so drift hits
all alike; the ratio is the probed run's training-loop wall time (`train_wall_ns`) over the
clean run's of the same repeat. callgrind, py-spy and scalene are not here: they launch the
process (callgrind's slowdown is ~50-100x; see the note).

The perf probe counts in-process (perf_event_open) where the kernel allows it; `perf fifo`
is the same probe forced onto its `perf stat` control-FIFO fallback (PROFKIT_PERF_BACKEND).

  python benchmarks/probes.py                       # mnist-5k, 3x256, batch 20, 200 steps
  python benchmarks/probes.py --dataset fashion-mnist --width 1000 --batch-size 1 --steps 500 \
      --implementation tuned --variants perf "perf fifo"
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from profkit import load
from profkit.config import RunConfig
from profkit.data import load_dataset
from profkit.probes.base import RunContext
from profkit.probes.memory import MemoryProbe
from profkit.probes.perfstat import PerfProbe
from profkit.probes.profilers import TorchProfilerProbe
from profkit.train import run

VARIANTS = {
    "clean": lambda: (),
    "memory": lambda: (MemoryProbe(),),
    "perf": lambda: (PerfProbe(),),
    "perf task-clock": lambda: (PerfProbe(events=("task-clock",)),),
    "perf fifo": lambda: (PerfProbe(),),
    "torch-profiler": lambda: (TorchProfilerProbe(),),
}


def train_seconds(cfg: RunConfig, ds, probes, fifo: bool) -> float:
    os.environ["PROFKIT_PERF_BACKEND"] = "fifo" if fifo else "auto"
    try:
        r = run(cfg, probes=probes, progress=False, dataset=ds)
    finally:
        os.environ.pop("PROFKIT_PERF_BACKEND")
    return float(load(r.path, tables=["epochs"])["epochs"].train_wall_ns.sum()) / 1e9


def perf_boundary_us(n: int, out: Path, backend: str) -> float:
    """Microseconds per phase boundary with no training around it (in-process: one read per
    thread; fifo: two commands, two acks)."""
    os.environ["PROFKIT_PERF_BACKEND"] = backend
    timer = SimpleNamespace(names=("a",), current=None)
    probe = PerfProbe(events=("task-clock",))
    probe.start(RunContext(SimpleNamespace(path=out), timer))
    t0 = time.perf_counter()
    for _ in range(n):
        probe.listener.enter("a")
        probe.listener.exit("a")
    dt = time.perf_counter() - t0
    probe.stop()
    os.environ.pop("PROFKIT_PERF_BACKEND")
    return dt / (2 * n) * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist-5k")
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--implementation", choices=("paper", "tuned"), default="paper",
                   help="tuned: fused Adam, so steps are short and overhead shows most")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS)[1:],
                   choices=list(VARIANTS)[1:], help="probes to compare with a clean run")
    args = p.parse_args()
    ds = load_dataset(args.dataset)
    ratios: dict[str, list[float]] = {k: [] for k in args.variants}
    with tempfile.TemporaryDirectory() as tmp:
        names = ["clean", *args.variants]
        for rep in range(args.repeats):
            secs = {}
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                cfg = RunConfig(dataset=args.dataset, width=args.width,
                                batch_size=args.batch_size,
                                implementation=args.implementation,
                                hidden_layers=args.layers, max_steps=args.steps,
                                threads=args.threads, results=f"{tmp}/{rep}-{name}")
                secs[name] = train_seconds(cfg, ds, VARIANTS[name](), name == "perf fifo")
            for k in ratios:
                ratios[k].append(secs[k] / secs["clean"])
            print(f"rep {rep}: clean {secs['clean']:.3f} s  " + "  ".join(
                f"{k} x{ratios[k][-1]:.3f}" for k in ratios), flush=True)
        print("\nmedian ratio to a clean run:")
        for k, v in ratios.items():
            print(f"  {k:<16} {statistics.median(v):.3f}")
        for backend, how in (("auto", "in-process reads"), ("fifo", "perf stat FIFO, acked")):
            us = perf_boundary_us(500, Path(tmp) / backend, backend)
            print(f"perf ({how}): {us:.1f} us per phase boundary")


if __name__ == "__main__":
    main()
