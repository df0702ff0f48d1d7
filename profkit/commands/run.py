"""Train one method on one dataset with per-phase timing; write a run directory and print a summary.

Example:
  profkit run --method standard --dataset fashion-mnist --hidden-layers 3 --batch-size 20
"""

from __future__ import annotations

import argparse
import json
import sys

from profkit.commands.runflags import add_config_arguments, given_fields
from profkit.config import RunConfig, paper_config
from profkit.exitcodes import exit_code


class _ListAction(argparse.Action):
    """--list-methods / --list-datasets: print the registry and exit (imported only then)."""

    def __init__(self, option_strings, dest, lister, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)
        self.lister = lister

    def __call__(self, parser, namespace, values, option_string=None):
        self.lister()
        parser.exit()


def list_methods() -> None:
    import dataclasses

    from profkit.methods import METHODS

    for name, cls in METHODS.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        params = " ".join(f"{k}={v}" for k, v in dataclasses.asdict(cls.Params()).items())
        print(f"{name:<17} {doc}\n{'':<17} parameters (--param KEY=VALUE): {params or '(none)'}")


def list_datasets() -> None:
    from profkit.commands.datasets import list_datasets as show

    show(None)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--list-methods", action=_ListAction, lister=list_methods,
                   help="list the training methods and their parameters, then exit")
    p.add_argument("--list-datasets", action=_ListAction, lister=list_datasets,
                   help="list the datasets and whether each is available here, then exit")
    p.add_argument("--preset", choices=("default", "paper"), default="default",
                   help="start from profkit's defaults or the paper's settings (§8.4), which "
                        "replace the defaults below (default: default)")
    add_config_arguments(p)
    out = p.add_argument_group("output and instruments")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    out.add_argument("--json", action="store_true",
                     help="print run_id, path, status, warnings, notes and summary as JSON")
    out.add_argument("--probe", metavar="LIST",
                     help="instruments, comma-separated: memory, perf, callgrind (see profkit env)")
    out.add_argument("--profiler", metavar="NAME",
                     help="one external profiler: py-spy, scalene or torch (timings not clean)")
    out.add_argument("--native", action="store_true",
                     help="py-spy and scalene: include native frames")
    out.add_argument("--force", action="store_true",
                     help="re-run even if this run is already complete in --results: the old "
                          "directory is retired to RESULTS/.stale/ (its run.json kept there)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    given = given_fields(args)
    params = given.pop("method_params", {})
    if args.preset == "paper":
        method = given.pop("method", "standard")
        dataset = given.pop("dataset", "mnist")
        base = paper_config(method, dataset, batch_size=given.pop("batch_size", None))
        merged = {**base.method_params, **params}
        return base.replace(**given, method_params=merged)
    return RunConfig(**given, method_params=params)


def json_result(meta: dict) -> dict:
    """What `run --json` prints: enough for a script to find, judge and read the run."""
    keys = ("run_id", "path", "status", "warnings", "notes", "summary")
    return {k: meta.get(k, [] if k in ("warnings", "notes") else None) for k in keys}


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)  # first: a bad value fails before the heavy imports below
    from pathlib import Path

    from profkit.attempts import prepare
    from profkit.instrumented import check_native, run_with_instruments
    from profkit.store import RunDir
    from profkit.summary import format_summary

    progress = not args.no_progress and sys.stderr.isatty()
    check_native(args.native, args.profiler)  # before the directory is touched
    path = Path(cfg.results) / cfg.run_id
    existing = prepare(Path(cfg.results), cfg.run_id, args.force)
    if existing is not None:
        status = existing["status"]
        print(f"profkit run: this run is already {status} in {path}; not re-running it. "
              "--force starts a new attempt (the old one is retired to "
              f"{Path(cfg.results) / '.stale'}/)", file=sys.stderr)
    else:
        path, status = run_with_instruments(cfg, args.probe, args.profiler, args.native,
                                            progress)
    meta = RunDir(path).read_meta()
    meta["path"] = str(path)
    print(json.dumps(json_result(meta), indent=2) if args.json else format_summary(meta))
    return exit_code(status)
