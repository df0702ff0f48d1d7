"""Run the paper's evaluation (the protocol in profkit/sweep/reproduce.toml), resumably.

  profkit reproduce --results results/reproduction --dry-run
  profkit reproduce --results results/reproduction --parts accuracy,errorprop
  profkit reproduce --results results/reproduction --parts runtime      # later, on a quiet machine

Parts: errorprop (§7 at width 1000), accuracy (Table 2 rows with learning curves and the memory
probe), memory (§9.4: the accuracy part's MNIST runs), runtime (Tables 3-4, Figures 8 and 11:
capped runs, 3 interleaved repeats, paper and tuned implementations). The accuracy part gets as
many epochs as --budget allows after the other parts (the paper: 50); --dry-run prints
the plan with the cost model's hours. Running the same command again skips what is finished
and re-runs what was interrupted. See docs/reproduction.md.
"""

from __future__ import annotations

import argparse
import sys
import time


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", required=True, metavar="DIR", help="results directory")
    p.add_argument("--budget", type=float, metavar="HOURS",
                   help="hours for the whole protocol (parts run later keep their share); "
                        "the accuracy epochs are fitted to it (default: the protocol's, 4)")
    p.add_argument("--datasets", type=_names, metavar="LIST",
                   help="comma-separated datasets (default: the protocol's, mnist,fashion-mnist)")
    p.add_argument("--parts", type=_names, metavar="LIST",
                   help="comma-separated parts (default: all: errorprop,accuracy,memory,runtime)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan (runs and estimated hours per part); run nothing")
    p.add_argument("--list", action="store_true", help="with --dry-run: list every run too")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch threads per run (default: the protocol's, 1: the paper's one "
                        "CPU without parallelisation)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a RunConfig setting of every run, as in `profkit sweep` "
                        "(e.g. --set epochs=1 --set width=64 for a quick look)")
    p.add_argument("--protocol", metavar="FILE",
                   help="a protocol file other than the built-in profkit/sweep/reproduce.toml")


def _dataset_problems(datasets: list[str]) -> list[str]:
    from profkit.data.registry import get_spec

    out = []
    for name in datasets:
        spec = get_spec(name)
        if not spec.available(spec, None):
            out.append(f"dataset {name} is not available here; fetch it with `profkit datasets "
                       f"fetch {name}` ({spec.how_to_get})")
    return out


def _print_plan(plan, results, record_note: str, listing: bool) -> None:
    from profkit.sweep.cost import run_seconds
    from profkit.sweep.reproduce import errorprop_todo
    from profkit.sweep.state import FINISHED, run_status

    left_s = 0.0
    for pp in plan.parts:
        if pp.part.name == "errorprop":
            n, what = len(pp.units), "units (method x depth x seed)"
            todo = errorprop_todo(pp, results)
            left = sum(u["seconds"] for u in todo)
        else:
            n, what = len(pp.configs), "runs"
            todo = [c for c in pp.configs if run_status(results, c.run_id) not in FINISHED]
            left = sum(run_seconds(c, plan.cost) for c in todo) if pp.seconds else 0.0
        left_s += left
        extra = f"; {pp.note}" if pp.note else ""
        print(f"{pp.part.name:<10} {n:>4} {what}, {n - len(todo)} finished, est. "
              f"{pp.seconds / 3600:.2f} h, {left / 3600:.2f} h left{extra}  "
              f"[{pp.part.description}]")
        if listing:
            for c in pp.configs:
                state = run_status(results, c.run_id) or "new"
                print(f"    {state:<11} {c.run_id}  epochs={c.epochs} max_steps={c.max_steps} "
                      f"implementation={c.implementation} optimizer_impl={c.optimizer_impl}")
            for u in pp.units:
                print(f"    {u['dataset']} {u['method']} depth {u['depth']} seed {u['seed']}")
    if plan.epochs is not None:
        print(f"accuracy epochs: {plan.epochs} ({plan.epochs_note}{record_note}); the paper "
              "trained 50")
    reserved = (f"; the parts not chosen now keep est. {plan.reserved_s / 3600:.2f} h of it"
                if plan.reserved_s else "")
    print(f"total: est. {plan.hours:.2f} h, {left_s / 3600:.2f} h left, of a "
          f"{plan.budget_hours:g} h budget{reserved} (cost model: docs/reproduction.md)")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from profkit._version import __version__
    from profkit.config import parse_assignments
    from profkit.sweep.protocol import ProtocolError, load_protocol, make_plan, select
    from profkit.sweep.reproduce import read_record, run_plan

    sets = parse_assignments(args.sets, "--set", ProtocolError)
    if args.threads is not None:
        sets["threads"] = args.threads
    protocol = load_protocol(args.protocol)
    parts, datasets = select(protocol, args.parts, args.datasets)
    results = Path(args.results)
    budget = protocol.budget_hours if args.budget is None else args.budget
    rec = read_record(results)
    epochs, record_note = None, ""
    if rec.get("epochs") is not None and rec.get("budget_hours") == budget:
        epochs, record_note = rec["epochs"], f": {results / 'reproduce.json'}"
    plan = make_plan(protocol, parts, datasets, results, budget, sets, epochs)
    problems = _dataset_problems(datasets)
    if args.dry_run:
        _print_plan(plan, results, record_note, args.list)
        for msg in problems:
            print(f"warning: {msg}", file=sys.stderr)
        return 0
    if problems:
        print(f"profkit reproduce: error: {problems[0]}", file=sys.stderr)
        return 2
    record = {"protocol": Path(protocol.source).name, "budget_hours": budget,
              "epochs": plan.epochs if plan.epochs is not None else rec.get("epochs"),
              "datasets": datasets, "parts": parts, "sets": sets,
              "profkit_version": __version__,
              "started_at": rec.get("started_at") or time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _print_plan(plan, results, record_note, False)
    t0 = time.perf_counter()
    status = run_plan(plan, results, record, sys.stderr)
    print(f"reproduce: {status} in {(time.perf_counter() - t0) / 3600:.2f} h; results in "
          f"{results} (profkit report {results} -o reports/reproduction.html)")
    return {"complete": 0, "failed": 1, "interrupted": 130}[status]
