"""Wall time of `profkit --help`, `profkit run --help` and a config error, optionally A/B.

Each command runs as a fresh process (start-up is what is measured), --repeats times; with
--before DIR (a source tree of another profkit version, e.g. from `git archive REV | tar -x -C DIR`)
the two versions alternate, so drift of the machine hits both alike, and the table shows the
ratio of medians before/after.

  python benchmarks/cli_startup.py --repeats 10
  python benchmarks/cli_startup.py --repeats 10 --before /tmp/profkit_before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CASES = {"profkit --help": ["--help"], "profkit run --help": ["run", "--help"],
         "config error": ["run", "--hidden-layers", "0"],
         "unknown method": ["run", "--method", "nope"]}
_EMPTY = tempfile.mkdtemp(prefix="profkit-cli-bench-")
LAUNCH = "import sys; from profkit.cli import main; sys.exit(main())"


def once(argv: list[str], src: str | None) -> float:
    env = dict(os.environ)
    if src:  # the other version's tree comes first on sys.path
        env["PYTHONPATH"] = src
    t0 = time.perf_counter()
    # cwd: `python -c` puts the working directory first on sys.path, before PYTHONPATH
    subprocess.run([sys.executable, "-c", LAUNCH, *argv], env=env, cwd=_EMPTY,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10, help="runs per command (default 10)")
    ap.add_argument("--before", metavar="DIR", help="source tree of the version to compare with")
    args = ap.parse_args()
    versions = {"after": None, **({"before": args.before} if args.before else {})}
    print(f"{'command':<20} " + " ".join(f"{v + ' median s':>16}" for v in versions)
          + ("   before/after" if args.before else ""))
    for label, argv in CASES.items():
        times: dict[str, list[float]] = {v: [] for v in versions}
        for i in range(args.repeats):
            order = list(versions) if i % 2 == 0 else list(reversed(versions))
            for v in order:
                times[v].append(once(argv, versions[v]))
        med = {v: statistics.median(t) for v, t in times.items()}
        row = f"{label:<20} " + " ".join(f"{med[v]:16.3f}" for v in versions)
        if args.before:
            row += f"   {med['before'] / med['after']:12.1f}x"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
