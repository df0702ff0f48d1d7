"""Measure the error propagation of §7: per-layer estimation errors of the approximate methods.

Example: profkit errorprop --results results/demo --depths 1,3,5 --seeds 0,1 --width 256
For every method, depth and seed it trains a fresh network --steps steps with that method, then
compares, layer by layer on --samples validation samples, the method's estimates (and the
oracles': the exact top 5% of terms or units) with the exact values. It writes
RESULTS/errorprop.parquet (replacing an earlier study there), which `profkit report RESULTS`
shows beside Theorem 7.2; `profkit demo` includes a small study.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from profkit.commands.demo import _ints

DEFAULT_METHODS = "alsh-approx,mc-approx"  # the methods with per-layer estimates


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default="results", metavar="DIR",
                   help="results directory the study is written to (default results)")
    p.add_argument("--methods", default=DEFAULT_METHODS,
                   help=f"comma-separated methods to train and measure (default "
                        f"{DEFAULT_METHODS}; an exact method contributes oracle rows only)")
    p.add_argument("--dataset", default="mnist-5k", help="dataset (default mnist-5k, embedded)")
    p.add_argument("--width", type=int, default=1000,
                   help="units per hidden layer (default 1000, the paper's)")
    p.add_argument("--depths", type=_ints, default=tuple(range(1, 8)), metavar="LIST",
                   help="hidden-layer counts, comma-separated (default 1,...,7, the paper's)")
    p.add_argument("--seeds", type=_ints, default=(0, 1, 2), metavar="LIST",
                   help="seeds, one fresh network each (default 0,1,2)")
    p.add_argument("--samples", type=int, default=20, metavar="N",
                   help="validation samples the errors are measured on (default 20)")
    p.add_argument("--steps", type=int, default=100, metavar="N",
                   help="training steps before measuring (default 100; 0: at initialisation)")
    p.add_argument("--batch-size", type=int, default=20, metavar="N",
                   help="training batch size (default 20)")
    p.add_argument("--fraction", type=float, default=0.05, metavar="X",
                   help="share of terms or units the oracles keep, in (0, 1] (default 0.05, "
                        "the paper's 5%%)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="torch threads (default 1, as for every timing run)")


def check(args: argparse.Namespace) -> None:
    """Bad numbers fail here, before torch is imported."""
    from profkit.validation import ConfigError, check_int, check_real

    check_int("--samples", args.samples, 1)
    check_int("--steps", args.steps, 0)
    check_real("--fraction", args.fraction, 0.0, 1.0, lo_open=True)
    for name, values, lo in (("--depths", args.depths, 1), ("--seeds", args.seeds, 0)):
        if not values:
            raise ConfigError(f"{name} needs at least one value, e.g. {name} 1,3")
        for v in values:
            check_int(name, v, lo)


def main(args: argparse.Namespace) -> int:
    check(args)
    from profkit.methods import check_method_name

    methods = [check_method_name(m.strip()) for m in args.methods.split(",") if m.strip()]
    from profkit.config import RunConfig
    from profkit.errorprop import run_study  # torch
    from profkit.store import check_writable, study_path

    # the first method's config carries the shared fields; its checks name a bad value
    cfg = RunConfig(method=methods[0] if methods else "standard", dataset=args.dataset,
                    width=args.width, batch_size=args.batch_size, threads=args.threads,
                    hidden_layers=max(args.depths), results=args.results)
    check_writable(Path(args.results))
    n = len(methods) * len(args.depths) * len(args.seeds)
    print(f"errorprop: {n} networks ({', '.join(methods)} x depths "
          f"{','.join(map(str, args.depths))} x seeds {','.join(map(str, args.seeds))}), "
          f"width {args.width}, {args.steps} training steps each, on {args.dataset}", flush=True)
    t0 = time.perf_counter()
    study = run_study(cfg, depths=args.depths, seeds=args.seeds, steps=args.steps,
                      batch=args.samples, methods=methods, fraction=args.fraction,
                      results=args.results)
    print(f"errorprop: {len(study)} rows in {time.perf_counter() - t0:.1f} s, written to "
          f"{study_path(args.results, 'errorprop')}")
    print(summary_text(study))
    if any(Path(args.results).glob("*/run.json")):
        print(f"`profkit report {args.results}` shows it beside Theorem 7.2")
    else:  # the report is of runs; the study is one of its sections
        print(f"note: {args.results} holds no runs yet; `profkit report {args.results}` shows "
              f"the study once it does (`profkit run` or `profkit demo --results "
              f"{args.results}`)")
    return 0


def summary_text(study) -> str:
    """Median |e| / |estimate| by layer k in the deepest network, per estimator."""
    from profkit.analyses.errorprop import theory_comparison

    comp = theory_comparison(study)
    deepest = comp[comp["depth"] == comp["depth"].max()]
    wide = deepest.pivot_table(index=["trained_with", "method"], columns="k",
                               values="error_to_estimate", aggfunc="median")
    wide.columns = [f"k={k}" for k in wide.columns]
    head = (f"median |error| / |estimate| by layer k, depth {int(comp['depth'].max())} "
            "(method: trained with; estimator: its own estimate or an oracle's):")
    return head + "\n" + wide.to_string(float_format=lambda v: f"{v:.3g}")
