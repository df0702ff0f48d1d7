"""Train one method on one dataset with per-phase timing; write a run directory and print a summary.

Example: profkit run --method standard --dataset fashion-mnist --hidden-layers 3 --batch-size 20
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from profkit.config import RunConfig, paper_config, parse_assignments

# flag -> RunConfig field; None defaults mean "not given" so a preset's value stands.
_FIELDS = ("method", "dataset", "hidden_layers", "width", "batch_size", "epochs", "max_steps",
           "optimizer", "lr", "adam_eps", "momentum", "optimizer_impl", "seed", "threads",
           "warmup_steps", "eval_batch_size", "repeat", "results", "data_dir")


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """The RunConfig flags (shared with `profkit demo` and sweeps)."""
    a = p.add_argument
    a("--method", help="training method (see `profkit run --list-methods`)")
    a("--dataset", help="dataset name (see `profkit datasets list`)")
    a("--hidden-layers", type=int, help="number of hidden layers (1-50; default 3)")
    a("--width", type=int, help="units per hidden layer (default 1000)")
    a("--batch-size", type=int, help="training batch size (default 20; paper: 1, MC-approx 20)")
    a("--epochs", type=int, help="epochs (default 1; paper: 50)")
    a("--max-steps", type=int, help="stop after this many training steps (quick looks)")
    a("--optimizer", choices=("adam", "sgd"))
    a("--lr", type=float, help="learning rate (default 1e-3)")
    a("--adam-eps", type=float, help="Adam epsilon (default 1e-8; paper preset 1e-4)")
    a("--momentum", type=float, help="SGD momentum (default 0)")
    a("--optimizer-impl", choices=("default", "foreach", "fused"),
      help="torch optimizer implementation (recorded; it changes the optimizer's cost)")
    a("--flush-denormal", dest="flush_denormal", action="store_true", default=None,
      help="flush subnormal floats to zero (torch.set_flush_denormal)")
    a("--no-flush-denormal", dest="flush_denormal", action="store_false")
    a("--seed", type=int)
    a("--threads", type=int, help="torch intra-op threads (default: torch's choice, recorded)")
    a("--warmup-steps", type=int, help="steps flagged as warm-up (default 20)")
    a("--eval-batch-size", type=int)
    a("--repeat", type=int, help="repeat index (part of the run id)")
    a("--param", action="append", default=[], metavar="KEY=VALUE",
      help="method parameter, e.g. --param p=0.05 (repeatable; value parsed as JSON if it can)")
    a("--preset", choices=("default", "paper"), default="default",
      help="start from profkit's defaults or the paper's settings (§8.4)")
    a("--results", help="results directory (default ./results)")
    a("--data-dir", help="directory holding dataset files (default $PROFKIT_DATA)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print run.json's summary as JSON")
    p.add_argument("--probe", metavar="LIST",
                   help="instruments, comma-separated: memory, perf, callgrind (see profkit env)")
    p.add_argument("--profiler", metavar="NAME",
                   help="one external profiler: py-spy, scalene or torch (timings not clean)")
    p.add_argument("--native", action="store_true", help="py-spy: include native frames")


def parse_params(items: list[str]) -> dict[str, Any]:
    return parse_assignments(items, "--param")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    given = {f: getattr(args, f) for f in (*_FIELDS, "flush_denormal")
             if getattr(args, f, None) is not None}
    params = parse_params(args.param)
    if args.preset == "paper":
        method = given.pop("method", "standard")
        dataset = given.pop("dataset", "mnist")
        base = paper_config(method, dataset, batch_size=given.pop("batch_size", None))
        merged = {**base.method_params, **params}
        return base.replace(**given, method_params=merged)
    return RunConfig(**given, method_params=params)


def main(args: argparse.Namespace) -> int:
    from profkit.probes.launch import run_with_instruments
    from profkit.store import RunDir
    from profkit.summary import format_summary

    cfg = config_from_args(args)
    progress = not args.no_progress and sys.stderr.isatty()
    path, status = run_with_instruments(cfg, args.probe, args.profiler, args.native, progress)
    meta = RunDir(path).read_meta()
    meta["path"] = str(path)
    print(json.dumps(meta["summary"], indent=2) if args.json else format_summary(meta))
    return {"complete": 0, "interrupted": 130, "diverged": 3}.get(status, 1)
