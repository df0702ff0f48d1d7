"""The sweep runner: plan, skip what is finished, execute the rest, show progress, report."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from profkit.config import RunConfig
from profkit.store import check_writable
from profkit.sweep.executors import Executor
from profkit.sweep.plan import plan
from profkit.sweep.spec import SweepSpec
from profkit.sweep.state import FINISHED, run_status, sweep_lock
from profkit.sweep.task import Outcome


@dataclass
class SweepReport:
    planned: int
    skipped: int  # already finished in the results directory before this sweep
    outcomes: list[Outcome] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False

    @property
    def counts(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    @property
    def failed(self) -> int:
        return self.counts["failed"]

    def line(self) -> str:
        c = self.counts
        done = sum(c[s] for s in FINISHED)
        rest = self.planned - self.skipped - len(self.outcomes)
        return (f"sweep: {self.planned} runs planned, {self.skipped} already finished, "
                f"{done} done now, {self.failed} failed, {rest} not run"
                f"{' (interrupted)' if self.interrupted else ''}; wall {self.wall_s:.1f} s")


def pending(configs: list[RunConfig], results: Path) -> tuple[list[RunConfig], int]:
    """The configs still to run (in order) and how many are already finished."""
    todo = [c for c in configs if run_status(results, c.run_id) not in FINISHED]
    return todo, len(configs) - len(todo)


class Progress:
    """One line per finished run (logs, CI) and, on a terminal, a tqdm bar with the ETA."""

    def __init__(self, total: int, stream: TextIO | None, bar: bool):
        self.total, self.stream, self.t0 = total, stream, time.perf_counter()
        self.done = self.failed = 0
        self.bar = None
        if bar and stream is not None and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="run", file=stream, dynamic_ncols=True)

    def eta(self) -> str:
        n = self.done + self.failed
        if not n:
            return "?"
        secs = (time.perf_counter() - self.t0) / n * (self.total - n)
        return time.strftime("%H:%M:%S", time.gmtime(secs))

    def update(self, o: Outcome) -> None:
        if o.status in FINISHED:
            self.done += 1
        else:
            self.failed += 1
        n = self.done + self.failed
        where = o.worker or o.host or ""
        msg = (f"[{n}/{self.total}] {o.status:<11} {o.run_id}  {o.wall_s:.1f} s "
               f"{where}  (done {self.done}, failed {self.failed}, remaining {self.total - n}, "
               f"ETA {self.eta()})")
        if self.bar is not None:
            self.bar.set_postfix(done=self.done, failed=self.failed, refresh=False)
            self.bar.update(1)
            self.bar.write(msg, file=self.stream)
        elif self.stream is not None:
            print(msg, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(spec: SweepSpec, results: str | Path, executor: Executor,
              stream: TextIO | None = sys.stderr, bar: bool = False) -> SweepReport:
    """Run every unfinished run of `spec` into `results` with `executor` (an entered one)."""
    results = Path(results).resolve()  # workers on other machines need the same full path
    check_writable(results)
    return run_configs(plan(spec, results, executor.config_defaults), results, executor,
                       stream, bar)


def run_configs(configs: list[RunConfig], results: str | Path, executor: Executor,
                stream: TextIO | None = sys.stderr, bar: bool = False) -> SweepReport:
    """Run the unfinished ones of planned `configs` (in their order) into `results`."""
    results = Path(results).resolve()
    t0 = time.perf_counter()
    with sweep_lock(results):
        todo, skipped = pending(configs, results)
        report = SweepReport(len(configs), skipped)
        if stream is not None:
            print(f"sweep: {len(configs)} runs, {skipped} already finished, {len(todo)} to run "
                  f"on {executor.describe()}; results in {results}", file=stream, flush=True)
        progress = Progress(len(todo), stream, bar)
        try:
            for o in executor.run(todo):
                report.outcomes.append(o)
                progress.update(o)
                if o.status == "interrupted":
                    report.interrupted = True
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            progress.close()
    report.wall_s = time.perf_counter() - t0
    return report
