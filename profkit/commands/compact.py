"""Write a compact copy of a results directory, small enough to commit, that reports read alike.

  profkit compact results/reproduction -o reports/reproduction-data
  profkit report reports/reproduction-data -o reports/reproduction.html

Runs of at most --keep-steps training steps (capped runtime runs) are copied as they are; a
longer run's per-step phase times become blocks of --block-steps steps (count, sum, min,
quartiles, max: seconds per epoch and mean step times stay exact), its per-step table is
dropped and its memory samples thinned. run.json records it under `compacted`; the report
says which statistics are then unavailable. See docs/reproduction.md.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", help="results directory to compact")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="new (or empty) directory for the compact copy")
    p.add_argument("--block-steps", type=int, default=1000, metavar="N",
                   help="steps per block of a compacted run (default 1000)")
    p.add_argument("--keep-steps", type=int, default=5000, metavar="N",
                   help="runs of at most N training steps are copied whole (default 5000)")


def main(args: argparse.Namespace) -> int:
    import sys

    from profkit.compact import compact

    try:
        out = compact(args.results, args.output, args.block_steps, args.keep_steps)
    except ValueError as e:
        print(f"profkit compact: error: {e}", file=sys.stderr)
        return 2
    mb = 1024 * 1024
    print(f"compact: {out['runs_compacted']} runs compacted, {out['runs_copied']} copied whole; "
          f"{out['bytes_before'] / mb:.2f} MB -> {out['bytes_after'] / mb:.2f} MB in "
          f"{args.output}")
    return 0
