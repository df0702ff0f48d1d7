"""Per-phase step times of every method x implementation (paper, tuned) x size (S, M).

Sizes: S is batch 1 (the paper's batch for every method but MC-approx), M is batch 20 (the
paper's MC-approx batch). Implementations (docs/implementations.md): `paper` is the paper's
protocol (torch's default Adam, no denormal flushing, dense optimizer steps); `tuned` is the
best CPU implementation of the same algorithm (fused Adam, flush-denormal on, lazy row-sparse
updates for ALSH-approx and Dropout, MC-approx's W norms refreshed every few steps).

Every method runs short step-capped runs through profkit's trainer with the paper's method
parameters (`mc-approx` is the public driver's defaults; `mc-approx-k10` is the "k exactly
10" reading: sample_ratio 0, min_k 10). Runs are interleaved: within each repeat every
(size, implementation) block runs all methods, in forward order on even repeats and reverse on
odd, so drift of a loaded machine hits all alike. Warm-up steps are dropped; per run the
median ms per step of each phase and of the whole step (and the step's mean, which counts
rare costs such as ALSH-approx's rebuilds) is taken; the table shows the median over repeats and its
ratio to Standard's at the same size and implementation. `acc` is the test accuracy after the
run's few steps on --eval-samples test samples (a rough check that lazy and dense updates
learn alike; not a converged accuracy).

  python benchmarks/methods.py                                  # fashion-mnist 3 x 1000
  python benchmarks/methods.py --steps 60 --warmup 10 --width 256 --repeats 1
  python benchmarks/methods.py --methods mc-approx-k10 --sizes M --csv mc.csv
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import tempfile
from collections import defaultdict
from typing import Any

import torch

from profkit import load
from profkit.config import paper_config
from profkit.data import load_dataset
from profkit.methods import METHODS
from profkit.train import run

REFERENCE = "standard"
SIZES = {"S": 1, "M": 20}
IMPLEMENTATIONS = ("paper", "tuned")
# benchmark row -> (profkit method, method parameters over the paper's)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    **{m: (m, {}) for m in METHODS},
    "mc-approx-k10": ("mc-approx", {"sample_ratio": 0.0, "min_k": 10}),
}
FIRST, LAST = ("data", "forward", "backward", "optimizer"), ("other", "step", "step mean")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--methods", nargs="+", default=None, choices=list(VARIANTS),
                   metavar="NAME", help=f"rows to time (default all: {', '.join(VARIANTS)}); "
                                        "standard is always added as the reference")
    p.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS),
                   choices=IMPLEMENTATIONS)
    p.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES),
                   help="S: batch 1, M: batch 20 (default both)")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--layers", type=int, default=3, help="hidden layers (default 3)")
    p.add_argument("--width", type=int, default=1000, help="hidden units per layer")
    p.add_argument("--steps", type=int, default=300, help="steps per run, warm-up included")
    p.add_argument("--warmup", type=int, default=30, help="first steps of a run not counted")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: the comparison is per core)")
    p.add_argument("--eval-samples", type=int, default=1000,
                   help="validation/test samples evaluated after each run (for `acc`)")
    p.add_argument("--csv", default=None, help="also write the table (long format) to this CSV")
    args = p.parse_args(argv)
    if args.steps <= args.warmup:
        p.error(f"--steps ({args.steps}) must exceed --warmup ({args.warmup})")
    names = args.methods or list(VARIANTS)
    args.methods = [REFERENCE] + [n for n in dict.fromkeys(names) if n != REFERENCE]
    return args


def small_eval(ds, n: int):
    """The dataset with validation and test cut to n samples: evaluation is not what we time."""
    return dataclasses.replace(ds, X_val=ds.X_val[:n], y_val=ds.y_val[:n],
                               X_test=ds.X_test[:n], y_test=ds.y_test[:n])


def schedule(args) -> list[tuple[int, str, str, str]]:
    """(repeat, size, implementation, row) in run order: interleaved and alternating."""
    out = []
    for rep in range(args.repeats):
        order = args.methods if rep % 2 == 0 else args.methods[::-1]
        for size in args.sizes:
            for impl in args.implementations:
                out += [(rep, size, impl, m) for m in order]
    return out


def run_medians(path) -> dict[str, float]:
    """Median ms per step of each phase and of the step (warm-up dropped); final accuracy."""
    t = load(path, tables=["phases", "steps", "epochs"])
    ph = t["phases"][~t["phases"].warmup]
    wide = ph.pivot(index="step", columns="phase", values="wall_ns") / 1e6  # (steps, phases)
    out = {name: float(col.median()) for name, col in wide.items()}
    steps = t["steps"][~t["steps"].warmup].wall_ns / 1e6
    out["step"] = float(steps.median())
    out["step mean"] = float(steps.mean())  # includes rare costs (ALSH rebuilds) medians hide
    out["acc"] = float(t["epochs"].test_accuracy.iloc[-1])
    return out


def one_run(args, ds, rep: int, size: str, impl: str, row: str, out_dir: str):
    method, extra = VARIANTS[row]
    cfg = paper_config(method, dataset=args.dataset, batch_size=SIZES[size],
                       hidden_layers=args.layers, width=args.width, epochs=1,
                       max_steps=args.steps, warmup_steps=args.warmup, implementation=impl,
                       threads=args.threads, seed=rep, repeat=rep, results=out_dir)
    cfg = cfg.replace(method_params={**cfg.method_params, **extra})
    r = run(cfg, progress=False, dataset=ds)
    if r.status != "complete":
        raise RuntimeError(f"{cfg.run_id} ended {r.status}; see {r.path}")
    return run_medians(r.path)


def collect(args, ds) -> dict[tuple[str, str, str], dict[str, list[float]]]:
    """{(size, implementation, row): {phase: [per-run median ms, one per repeat]}}."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    plan = schedule(args)
    with tempfile.TemporaryDirectory() as out_dir:
        for i, (rep, size, impl, row) in enumerate(plan):
            _progress(f"run {i + 1}/{len(plan)}: {row}, {size}, {impl}, repeat {rep}")
            for k, v in one_run(args, ds, rep, size, impl, row, out_dir).items():
                acc[(size, impl, row)][k].append(v)
    _progress("")
    return acc


def _progress(text: str) -> None:
    """One overwritten status line on a terminal; one line per run in a log."""
    if sys.stderr.isatty():
        print(f"\r  {text:<70}", end="" if text else "\n", file=sys.stderr, flush=True)
    elif text:
        print(f"  {text}", file=sys.stderr, flush=True)


def summarise(args, acc) -> list[dict[str, Any]]:
    """Long rows: size, implementation, row, phase, median over repeats, ratio to Standard."""
    rows = []
    for (size, impl, row), phases in acc.items():
        ref = acc[(size, impl, REFERENCE)]
        for phase, vals in phases.items():
            med = statistics.median(vals)
            base = statistics.median(ref[phase]) if phase in ref else None
            ratio = med / base if base and phase != "acc" else None
            rows.append({"dataset": args.dataset, "hidden_layers": args.layers,
                         "width": args.width, "size": size, "batch_size": SIZES[size],
                         "implementation": impl, "threads": torch.get_num_threads(),
                         "method": row, "phase": phase, "median": med,
                         "ratio_to_standard": ratio, "runs": len(vals),
                         "steps_per_run": args.steps - args.warmup})
    return rows


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    if row["phase"] == "acc":
        return f"{100 * row['median']:.1f}%"
    ratio = row["ratio_to_standard"]
    return f"{row['median']:.3f}" + (f" ({ratio:.2f}x)" if ratio is not None else "")


def format_block(rows: list[dict[str, Any]], methods: list[str]) -> list[str]:
    """A markdown table: a row per method, a column per phase, cells 'ms (ratio to Standard)'."""
    seen = {r["phase"] for r in rows}
    middle = sorted(seen - set(FIRST) - set(LAST) - {"acc"})
    cols = [c for c in (*FIRST, *middle, *LAST) if c in seen] + ["acc"]
    by = {(r["method"], r["phase"]): r for r in rows}
    out = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    out += ["| " + " | ".join([m, *(_cell(by.get((m, c))) for c in cols)]) + " |"
            for m in methods if (m, "step") in by]
    return out


def _get(rows, size, impl, method, phase) -> float | None:
    for r in rows:
        if (r["size"], r["implementation"], r["method"], r["phase"]) == (size, impl, method,
                                                                         phase):
            return r["median"]
    return None


TARGETS = [  # (label, numerator (size, impl, method, phase), denominator, target)
    ("tuned Standard M step mean / paper Standard M step mean",
     ("M", "tuned", "standard", "step mean"), ("M", "paper", "standard", "step mean"), 0.45),
    ("tuned ALSH-approx S step mean / tuned Standard S step mean",
     ("S", "tuned", "alsh-approx", "step mean"), ("S", "tuned", "standard", "step mean"), 0.5),
    *((f"{impl} MC-approx k=10 M {ph} / {impl} Standard M {ph}",
       ("M", impl, "mc-approx-k10", ph), ("M", impl, "standard", ph), target)
      for impl in IMPLEMENTATIONS for ph, target in (("backward", 0.6), ("step mean", 1.0))),
]


def target_lines(rows) -> list[str]:
    out = []
    for label, num, den, target in TARGETS:
        a, b = _get(rows, *num), _get(rows, *den)
        if a is not None and b:
            verdict = "met" if a / b <= target else "missed"
            out.append(f"  {label}: {a / b:.2f}x (target <= {target}x: {verdict})")
    return out


def report(args, rows: list[dict[str, Any]]) -> None:
    print(f"\nmedian ms per step (ratio to standard at the same size and implementation); "
          f"{args.dataset}, {args.layers} x {args.width}, threads {torch.get_num_threads()}, "
          f"{args.repeats} interleaved repeat(s) x {args.steps - args.warmup} steps after "
          f"{args.warmup} warm-up steps; the paper's method parameters")
    for size in args.sizes:
        for impl in args.implementations:
            block = [r for r in rows if r["size"] == size and r["implementation"] == impl]
            print(f"\n{size} (batch {SIZES[size]}), implementation {impl}\n")
            print("\n".join(format_block(block, args.methods)))
    lines = target_lines(rows)
    if lines:
        print("\ntargets (issue 11):")
        print("\n".join(lines))


def write_csv(path: str, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"\nwrote {path}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; rows: "
          f"{', '.join(args.methods)}", flush=True)
    ds = small_eval(load_dataset(args.dataset), args.eval_samples)
    rows = summarise(args, collect(args, ds))
    report(args, rows)
    if args.csv:
        write_csv(args.csv, rows)


if __name__ == "__main__":
    main()
