"""List the datasets profkit knows, show one's details, or fetch its files.

  profkit datasets list
  profkit datasets info NAME
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every dataset, with whether it is available here")
    info = sub.add_parser("info", help="one dataset: source, split, normalisation")
    info.add_argument("name")
    for q in (p,):
        q.add_argument("--data-dir", help="directory holding dataset files (default $PROFKIT_DATA)")


def main(args: argparse.Namespace) -> int:
    from profkit.data.registry import DATASETS, data_dir, get_spec

    ddir = data_dir(args.data_dir)
    if args.action == "list":
        print(f"{'name':<15} {'input':<9} {'classes':>7}  {'train/val/test':<20} available")
        for spec in DATASETS.values():
            where = spec.available(spec, ddir)
            shape = "x".join(map(str, spec.input_shape))
            split = "/".join(map(str, spec.split))
            print(f"{spec.name:<15} {shape:<9} {spec.n_classes:>7}  {split:<20} "
                  f"{'yes: ' + where if where else 'no: ' + spec.how_to_get}")
        return 0
    spec = get_spec(args.name)
    where = spec.available(spec, ddir)
    for k, v in (("name", spec.name), ("title", spec.title), ("classes", spec.n_classes),
                 ("input shape", spec.input_shape), ("split (train/val/test)", spec.split),
                 ("split rule", spec.split_rule), ("normalisation", spec.normalisation),
                 ("source", spec.source), ("available here", where or "no"),
                 ("how to get it", spec.how_to_get)):
        print(f"{k:<24} {v}")
    return 0
