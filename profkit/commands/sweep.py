"""Run a grid of training runs from a sweep file, resumably, in-process or on a Dask cluster.

  profkit sweep sweeps/paper.toml --results results/paper
  profkit sweep sweeps/paper.toml --results results/quick --set epochs=1 --set max_steps=200 \\
      --set 'dataset=["mnist-5k"]' --dry-run
  profkit sweep sweeps/small.toml --results results/small --local-cluster 2
  profkit sweep sweeps/paper.toml --results /shared/paper --scheduler tcp://HOST:8786

Each run gets a deterministic id from its config and repeat index, so running the same sweep
again skips finished runs (complete or diverged) and re-runs interrupted, failed and dead ones.
Repeats are interleaved: repeat 0 of every config (in a seeded shuffle), then repeat 1, ...

The default executor is in-process and sequential on purpose: a timing run then has the
machine to itself (no other run on its cores, caches or memory bandwidth), so phase timings
stay clean. The Dask executor (--scheduler or --local-cluster) runs one run per worker at a
time for throughput; runs that share a machine disturb each other's timings. See docs/sweeps.md.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="sweep file (TOML), e.g. sweeps/paper.toml")
    p.add_argument("--results", default="results", help="results directory (default ./results)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting for every run (VALUE as JSON if it parses); a JSON "
                        "list replaces that axis: --set epochs=1 --set 'dataset=[\"digits\"]'")
    p.add_argument("--repeats", type=int, help="repeats per configuration (overrides the file)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the runs in execution order with their state; run nothing")
    p.add_argument("--executor", metavar="NAME",  # checked in main: the registry imports pandas
                   help="inprocess (default: sequential, clean timings) or dask")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler to use")
    p.add_argument("--local-cluster", type=int, metavar="N",
                   help="start a Dask LocalCluster on 127.0.0.1 with N single-run workers")
    p.add_argument("--retries", type=int, default=2,
                   help="Dask: retries of a run whose task raised outside training (default 2); "
                        "runs on a worker that died are re-run elsewhere regardless")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _executor_choice(args: argparse.Namespace) -> tuple[str, dict]:
    dask_opts = {"scheduler": args.scheduler, "local_cluster": args.local_cluster,
                 "retries": args.retries}
    from profkit.sweep.executors import EXECUTORS

    dask_asked = args.scheduler is not None or args.local_cluster is not None  # 0 is asked too
    name = args.executor or ("dask" if dask_asked else "inprocess")
    if name not in EXECUTORS:
        raise _usage(f"unknown executor {name!r}; valid executors: {', '.join(EXECUTORS)}")
    if args.local_cluster is not None and args.local_cluster < 1:
        raise _usage(f"--local-cluster needs N >= 1 workers, got {args.local_cluster}")
    if name == "inprocess":
        if dask_asked:
            raise _usage("--scheduler and --local-cluster need --executor dask")
        return name, {}
    return name, dask_opts


def _usage(msg: str) -> Exception:
    from profkit.sweep import ExecutorError

    return ExecutorError(msg)


def _dry_run(spec, results: str, executor_name: str) -> int:
    from pathlib import Path

    from profkit.sweep import EXECUTORS, plan, run_status

    configs = plan(spec, Path(results).resolve(), EXECUTORS[executor_name].config_defaults)
    states = [run_status(Path(results), c.run_id) or "new" for c in configs]
    for cfg, state in zip(configs, states, strict=True):
        params = " ".join(f"{k}={v}" for k, v in cfg.method_params.items())
        print(f"{state:<11} {cfg.run_id}  epochs={cfg.epochs} max_steps={cfg.max_steps} "
              f"lr={cfg.lr:g} optimizer={cfg.optimizer} threads={cfg.threads} {params}".rstrip())
    todo = sum(s not in ("complete", "diverged") for s in states)
    print(f"{len(configs)} runs: {len(configs) - todo} finished, {todo} to run", file=sys.stderr)
    return 0


def main(args: argparse.Namespace) -> int:
    from profkit.sweep import ExecutorError, SweepLockedError

    try:
        return _main(args)
    except (ExecutorError, SweepLockedError) as e:
        print(f"profkit sweep: error: {e}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    from profkit.sweep import get_executor, load_spec, parse_sets, run_sweep

    spec = load_spec(args.file).with_overrides(parse_sets(args.sets), args.repeats)
    name, options = _executor_choice(args)
    if args.dry_run:
        return _dry_run(spec, args.results, name)
    with get_executor(name, **options) as executor:
        report = run_sweep(spec, args.results, executor, stream=sys.stderr,
                           bar=not args.no_progress and sys.stderr.isatty())
    print(report.line())
    if report.interrupted:
        return 130
    return 1 if report.failed else 0
