"""Per-phase step times of each training method beside Standard (issue 4's performance table).

Every method in profkit's METHODS registry (or those named by --methods) runs short step-capped
runs through profkit's trainer, with the paper's method parameters, at the same depth, width and
batch size as Standard, for each batch size and denormal-flushing setting. Methods alternate
(forward order on even repeats, reverse on odd) and repeats are interleaved with the other
settings, so drift of the machine hits all methods alike. Warm-up steps are dropped. For each
run the median ms per step of every phase (and of forward+backward and of the whole step) is
taken; the table shows the median over repeats and its ratio to Standard's.

Subnormal floats build up in Adam's state over about a thousand steps, so the on/off contrast
only shows in long runs (e.g. --steps 2000); the table's last column is the subnormal fraction
of the optimizer state at the end of the runs.

  python benchmarks/methods.py                                # fashion-mnist, 3 x 1000
  python benchmarks/methods.py --steps 30 --width 256 --repeats 1 --denormal off
  python benchmarks/methods.py --methods mc-approx --batch-sizes 20 --csv mc.csv
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

import pandas as pd
import torch

from profkit import load
from profkit.config import paper_config
from profkit.data import load_dataset
from profkit.methods import METHODS, get_method
from profkit.train import run

REFERENCE = "standard"
FIRST, LAST = ("data", "forward", "backward", "optimizer"), ("other", "fwd+bwd", "step")
DENORMAL = {"on": (True,), "off": (False,), "both": (False, True)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--methods", nargs="+", default=None,
                   help=f"methods to time (default: all registered: {', '.join(METHODS)}); "
                        "standard is always added as the reference")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--layers", type=int, default=3, help="hidden layers (default 3)")
    p.add_argument("--width", type=int, default=1000, help="hidden units per layer")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 20])
    p.add_argument("--steps", type=int, default=300, help="steps per run, warm-up included")
    p.add_argument("--warmup", type=int, default=30, help="first steps of a run not counted")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--denormal", choices=tuple(DENORMAL), default="both",
                   help="torch.set_flush_denormal on, off or both (default both)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: torch's default for this machine, printed)")
    p.add_argument("--eval-samples", type=int, default=500,
                   help="validation/test samples the trainer evaluates after each run (only "
                        "to keep runs short; not timed here)")
    p.add_argument("--csv", default=None, help="also write the table (long format) to this CSV")
    args = p.parse_args(argv)
    if args.steps <= args.warmup:
        p.error(f"--steps ({args.steps}) must exceed --warmup ({args.warmup})")
    args.methods = _method_list(p, args.methods)
    return args


def _method_list(p: argparse.ArgumentParser, names: list[str] | None) -> list[str]:
    names = list(METHODS) if names is None else names
    for n in names:
        try:
            get_method(n)
        except ValueError as e:
            p.error(str(e))
    return [REFERENCE] + [n for n in dict.fromkeys(names) if n != REFERENCE]


def small_eval(ds, n: int):
    """The dataset with validation and test cut to n samples: evaluation is not what we time."""
    return dataclasses.replace(ds, X_val=ds.X_val[:n], y_val=ds.y_val[:n],
                               X_test=ds.X_test[:n], y_test=ds.y_test[:n])


def schedule(args) -> list[tuple[int, int, bool, str]]:
    """(repeat, batch, flush_denormal, method) in run order: interleaved and alternating."""
    out = []
    for rep in range(args.repeats):
        order = args.methods if rep % 2 == 0 else args.methods[::-1]
        for batch in args.batch_sizes:
            for flush in DENORMAL[args.denormal]:
                out += [(rep, batch, flush, m) for m in order]
    return out


def run_medians(path) -> dict[str, float]:
    """Median ms per step of each phase, of forward+backward and of the step (warm-up dropped)."""
    t = load(path, tables=["phases", "steps", "epochs"])
    ph = t["phases"][~t["phases"].warmup]
    wide = ph.pivot(index="step", columns="phase", values="wall_ns") / 1e6  # (steps, phases)
    out = {name: float(col.median()) for name, col in wide.items()}
    if {"forward", "backward"} <= set(wide.columns):
        out["fwd+bwd"] = float((wide["forward"] + wide["backward"]).median())
    steps = t["steps"][~t["steps"].warmup]
    out["step"] = float(steps.wall_ns.median() / 1e6)
    sub = t["epochs"].subnormal_fraction.iloc[-1]
    out["subnormal_fraction"] = float(sub) if pd.notna(sub) else float("nan")
    return out


def one_run(args, ds, rep: int, batch: int, flush: bool, method: str, out_dir: str):
    cfg = paper_config(method, dataset=args.dataset, batch_size=batch,
                       hidden_layers=args.layers, width=args.width, epochs=1,
                       max_steps=args.steps, warmup_steps=args.warmup, flush_denormal=flush,
                       threads=args.threads, seed=rep, repeat=rep, results=out_dir)
    r = run(cfg, progress=False, dataset=ds)
    if r.status != "complete":
        raise RuntimeError(f"{cfg.run_id} ended {r.status}; see {r.path}")
    return run_medians(r.path)


def collect(args, ds) -> dict[tuple[int, bool, str], dict[str, list[float]]]:
    """{(batch, flush, method): {phase: [per-run median ms, one per repeat]}}."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    plan = schedule(args)
    with tempfile.TemporaryDirectory() as out_dir:
        for i, (rep, batch, flush, method) in enumerate(plan):
            _progress(f"run {i + 1}/{len(plan)}: {method}, batch {batch}, "
                      f"flush_denormal {flush}, repeat {rep}")
            for k, v in one_run(args, ds, rep, batch, flush, method, out_dir).items():
                acc[(batch, flush, method)][k].append(v)
    _progress("")
    return acc


def _progress(text: str) -> None:
    """One overwritten status line on a terminal; one line per run in a log."""
    if sys.stderr.isatty():
        print(f"\r  {text:<70}", end="" if text else "\n", file=sys.stderr, flush=True)
    elif text:
        print(f"  {text}", file=sys.stderr, flush=True)


def summarise(args, acc) -> list[dict[str, Any]]:
    """Long rows: method, batch, flush, phase, median ms over repeats, ratio to Standard."""
    rows = []
    for (batch, flush, method), phases in acc.items():
        ref = acc[(batch, flush, REFERENCE)]
        for phase, vals in phases.items():
            med = statistics.median(vals)
            base = statistics.median(ref[phase]) if phase in ref else None
            ratio = med / base if base and phase != "subnormal_fraction" else None
            rows.append({"dataset": args.dataset, "hidden_layers": args.layers,
                         "width": args.width, "batch_size": batch, "flush_denormal": flush,
                         "threads": torch.get_num_threads(), "method": method, "phase": phase,
                         "median_ms": med, "ratio_to_standard": ratio, "runs": len(vals),
                         "steps_per_run": args.steps - args.warmup})
    return rows


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    if row["phase"] == "subnormal_fraction":
        return f"{100 * row['median_ms']:.1f}%"
    ratio = row["ratio_to_standard"]
    return f"{row['median_ms']:.3f}" + (f" ({ratio:.2f}x)" if ratio is not None else "")


def format_block(rows: list[dict[str, Any]], methods: list[str]) -> list[str]:
    """One text table: a row per method, a column per phase, cells 'ms (ratio to Standard)'."""
    seen = {r["phase"] for r in rows}
    middle = sorted(seen - set(FIRST) - set(LAST) - {"subnormal_fraction"})
    cols = [c for c in (*FIRST, *middle, *LAST) if c in seen] + ["subnormal_fraction"]
    by = {(r["method"], r["phase"]): r for r in rows}
    table = [["method", *(c if c != "subnormal_fraction" else "subnormal" for c in cols)]]
    table += [[m, *(_cell(by.get((m, c))) for c in cols)] for m in methods]
    widths = [max(len(r[i]) for r in table) for i in range(len(cols) + 1)]
    return ["  ".join(cell.rjust(w) if j else cell.ljust(w) for j, (cell, w)
                      in enumerate(zip(r, widths, strict=True))) for r in table]


def report(args, rows: list[dict[str, Any]]) -> None:
    print(f"\nmedian ms per step (ratio to standard); {args.dataset}, {args.layers} x "
          f"{args.width}, threads {torch.get_num_threads()}, {args.repeats} repeat(s) x "
          f"{args.steps - args.warmup} steps after {args.warmup} warm-up steps; "
          "the paper's method parameters")
    for batch in args.batch_sizes:
        for flush in DENORMAL[args.denormal]:
            block = [r for r in rows if r["batch_size"] == batch and r["flush_denormal"] == flush]
            print(f"\nbatch {batch}, flush_denormal {'on' if flush else 'off'}")
            print("\n".join(format_block(block, args.methods)))


def write_csv(path: str, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"\nwrote {path}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()} "
          f"({'set by --threads' if args.threads else 'torch default'}); methods: "
          f"{', '.join(args.methods)}", flush=True)
    ds = small_eval(load_dataset(args.dataset), args.eval_samples)
    rows = summarise(args, collect(args, ds))
    report(args, rows)
    if args.csv:
        write_csv(args.csv, rows)


if __name__ == "__main__":
    main()
