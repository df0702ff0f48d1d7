"""Write a self-contained HTML report of a results directory: the paper's tables and figures.

Example: profkit report results/demo -o reports/demo.html
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", help="results directory (runs made by profkit run/sweep/demo)")
    p.add_argument("-o", "--output", default="reports/report.html",
                   help="HTML file to write (default reports/report.html)")
    p.add_argument("--tolerance", type=float, default=None, metavar="POINTS",
                   help="decision tree: accuracy tolerance in percentage points (default 2)")
    p.add_argument("--title", help="page title")


def main(args: argparse.Namespace) -> int:
    from profkit.analyses.decision import DEFAULT_TOLERANCE_PCT
    from profkit.analyses.report import write_report
    from profkit.config import ConfigError

    tol = DEFAULT_TOLERANCE_PCT if args.tolerance is None else args.tolerance
    if not 0 <= tol <= 100:
        raise ConfigError(f"--tolerance must be in [0, 100] percentage points, got {tol}")
    out = write_report(args.results, args.output, tol, args.title, progress=True)
    print(f"report written: {out}")
    return 0
