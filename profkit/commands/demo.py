"""Run every registered method briefly on the embedded mnist-5k data, then write the HTML report.

Example: profkit demo --results results/demo -o reports/demo.html
Each run is capped at --steps training steps; batch 20 runs cover whole epochs, batch 1 runs a
fraction of one (its epoch time is extrapolated and the report says so). Every run has the
memory probe on (RSS per phase; a 10 Hz sampler thread, ~2% of step time by
benchmarks/probes.py), so the report's memory section is filled, and a small error-propagation
study (§7, as `profkit errorprop` makes) fills the report's error-propagation section. Complete
runs (and the same study) already in --results are reused, so an interrupted demo resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        msg = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default="results/demo", help="results directory "
                   "(default results/demo)")
    p.add_argument("-o", "--output", default="reports/demo.html", help="report file "
                   "(default reports/demo.html)")
    p.add_argument("--steps", type=int, default=400, help="training steps per run (default 400)")
    p.add_argument("--width", type=int, default=256, help="hidden units per layer (default 256; "
                   "the paper: 1000)")
    p.add_argument("--depths", type=_ints, default=(1, 3, 5),
                   help="hidden-layer counts (default 1,3,5: shallow and deep)")
    p.add_argument("--batch-sizes", type=_ints, default=(1, 20),
                   help="batch sizes (default 1,20: the paper's S and M)")
    p.add_argument("--methods", default="all",
                   help="comma-separated methods (default: every registered method)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads per run (default 1, as for every timing run: the "
                        "paper's one CPU without parallelisation, and ratios comparable)")
    p.add_argument("--dataset", default="mnist-5k", help="dataset (default mnist-5k, embedded)")
    p.add_argument("--no-report", action="store_true", help="only run, do not write the report")
    p.add_argument("--no-errorprop", action="store_true",
                   help="skip the small error-propagation study (§7; `profkit errorprop`)")


def check_args(args: argparse.Namespace) -> list[str]:
    """The demo's methods; a misspelt name or a bad count fails here, before torch."""
    from profkit.methods import METHODS, check_method_name
    from profkit.validation import check_int

    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    for m in methods:
        check_method_name(m)  # unknown name -> error listing the valid ones
    check_int("--steps", args.steps, 1)
    return methods


def plan(args: argparse.Namespace, n_train: int) -> list:
    """The demo's RunConfigs: the paper's settings (paper_config) scaled down."""
    from profkit.config import paper_config

    methods = check_args(args)
    cfgs = []
    for m in methods:
        for b in args.batch_sizes:
            epochs = max(1, math.ceil(args.steps / math.ceil(n_train / b)))
            for h in args.depths:
                cfgs.append(paper_config(m, args.dataset, batch_size=b, hidden_layers=h,
                                         width=args.width, epochs=epochs, max_steps=args.steps,
                                         warmup_steps=min(20, args.steps // 5),
                                         threads=args.threads,
                                         results=args.results))
    return cfgs


def _done(run_dir: Path) -> bool:
    try:
        return json.loads((run_dir / "run.json").read_text()).get("status") == "complete"
    except (OSError, json.JSONDecodeError):
        return False


def run_one(cfg, ds, i: int, n: int) -> str:
    """Run (or reuse) one config; returns its status."""
    from profkit.probes.memory import MemoryProbe
    from profkit.train import run

    run_dir = Path(cfg.results) / cfg.run_id
    tag = f"[{i}/{n}] {cfg.method} batch {cfg.batch_size}, {cfg.hidden_layers} hidden layers"
    if _done(run_dir):
        print(f"{tag}: reusing complete run", flush=True)
        return "complete"
    if run_dir.exists():  # a partial run of this very config: start it again
        shutil.rmtree(run_dir)
    t0 = time.perf_counter()
    try:
        res = run(cfg, probes=(MemoryProbe(),), progress=False, dataset=ds)
        acc = res.summary.get("test_accuracy")
        acc_s = f", test accuracy {100 * acc:.1f}%" if acc is not None else ""
        print(f"{tag}: {res.status} in {time.perf_counter() - t0:.1f} s{acc_s}", flush=True)
        return res.status
    except Exception as e:  # one broken method must not stop the demo; the report shows it
        print(f"{tag}: failed ({type(e).__name__}: {e})", file=sys.stderr, flush=True)
        return "failed"


ERRORPROP_STEPS = 50  # training steps before measuring: the errors of a network that learned


def errorprop_study(args: argparse.Namespace, ds) -> None:
    """A small §7 study (one seed per depth, 20 samples) of the demo's approximate methods,
    reused when the results already hold the same one."""
    from profkit.config import RunConfig
    from profkit.errorprop import APPROXIMATE, run_study
    from profkit.methods import METHODS
    from profkit.store import read_study

    wanted = list(METHODS) if args.methods == "all" else args.methods.split(",")
    methods = [m for m in APPROXIMATE if m in wanted]
    if not methods:
        return
    have = read_study("errorprop", args.results)
    key = {(m, d) for m in methods for d in args.depths}
    done = set(zip(have["trained_with"], have["depth"], strict=True))
    if (len(have) and set(have["width"]) == {args.width}
            and set(have["steps"]) == {ERRORPROP_STEPS} and done == key):
        print("demo: reusing the error-propagation study", flush=True)
        return
    t0 = time.perf_counter()
    cfg = RunConfig(method=methods[0], dataset=args.dataset, width=args.width,
                    threads=args.threads, results=args.results)
    run_study(cfg, depths=args.depths, seeds=(0,), steps=ERRORPROP_STEPS, batch=20,
              methods=methods, results=args.results, dataset=ds)
    print(f"demo: error-propagation study ({', '.join(methods)}, depths "
          f"{','.join(map(str, args.depths))}) in {time.perf_counter() - t0:.1f} s", flush=True)


def main(args: argparse.Namespace) -> int:
    check_args(args)
    from profkit.data import load_dataset  # torch
    from profkit.store import check_writable

    check_writable(Path(args.results))
    ds = load_dataset(args.dataset)
    cfgs = plan(args, len(ds.y_train))
    print(f"demo: {len(cfgs)} runs of at most {args.steps} steps on {args.dataset} "
          f"into {args.results}", flush=True)
    t0 = time.perf_counter()
    for i, cfg in enumerate(cfgs, 1):
        if run_one(cfg, ds, i, len(cfgs)) == "interrupted":  # SIGTERM/Ctrl-C stops the demo
            print("demo: interrupted; run it again to resume", file=sys.stderr)
            return 130
    print(f"demo: training done in {time.perf_counter() - t0:.0f} s", flush=True)
    if not args.no_errorprop:
        errorprop_study(args, ds)
    if args.no_report:
        return 0
    from profkit.analyses.report import write_report

    out = write_report(args.results, args.output, title=f"profkit demo ({args.dataset})",
                       progress=True)
    print(f"report written: {out}")
    return 0
