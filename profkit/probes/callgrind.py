"""CallgrindProbe: simulated cache misses per phase, from callgrind dumps taken at every phase exit.

The run is launched under `valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no` with
the cache geometry pinned (GEOMETRY, recorded in run.json), so numbers compare across machines.
Collection is switched on at a phase's entry (`torch._C._valgrind_toggle`) and switched off and
dumped at its exit (`torch._C._valgrind_toggle_and_dump_stats`); callgrind zeroes its counters
at each dump, so dump k holds exactly the k-th phase interval. The probe records the sequence
of (epoch, phase) it entered and maps dump part k to its k-th entry. The simulated caches stay
warm between phases (simulation runs while collection is off).

Expect a slowdown of roughly 50-100x for the training itself, and about 4 minutes (on a
2-core VM) just to import Python and torch under valgrind: keep such runs short (--max-steps).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from profkit.probes.base import Probe, RunContext

# name -> (size bytes, associativity, line bytes): a common x86 L1 and an 8 MiB last level.
GEOMETRY = {"I1": (32768, 8, 64), "D1": (32768, 8, 64), "LL": (8388608, 16, 64)}
EVENTS = ("Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")
WRAPPED_ENV = "PROFKIT_WRAPPED"  # set by the launcher to the tool the child runs under
DEFAULT_MAX_STEPS = 20
_COLS = ("epoch", "phase", "event", "value", "unit", "percent_running", "multiplexed",
         "backend", "simulated", "na_reason")


def valgrind_command(out_dir: Path) -> list[str]:
    """The valgrind prefix for a child whose dumps land in out_dir."""
    geo = [f"--{k}={','.join(map(str, v))}" for k, v in GEOMETRY.items()]
    return ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--collect-atstart=no", *geo,
            f"--callgrind-out-file={out_dir / 'callgrind.out.%p'}"]


def parse_dump(text: str) -> tuple[int, dict[str, float]]:
    """(part number, {event: count}) of one callgrind dump; absent trailing counts are 0."""
    part, names, values = 0, [], None
    for line in text.splitlines():
        if line.startswith("part:"):
            part = int(line.split(":", 1)[1])
        elif line.startswith("events:"):
            names = line.split(":", 1)[1].split()
        elif line.startswith("summary:") or (line.startswith("totals:") and values is None):
            values = [float(v) for v in line.split(":", 1)[1].split()]
    if not names or values is None:
        raise ValueError("not a callgrind dump: no `events:` or `summary:` line")
    values += [0.0] * (len(names) - len(values))
    return part, dict(zip(names, values, strict=True))


def dump_files(out_dir: Path, pid: int) -> list[Path]:
    """This process's numbered dumps, in part order (the unnumbered one is the exit dump)."""
    files = [p for p in out_dir.glob(f"callgrind.out.{pid}.*")
             if re.fullmatch(r"\d+", p.suffix[1:])]
    return sorted(files, key=lambda p: int(p.suffix[1:]))


def attribute(dumps: list[tuple[int, dict[str, float]]], sequence: list[tuple[int, str]]
              ) -> pd.DataFrame:
    """Sum dumps per (epoch, phase): dump part k is the k-th phase interval entered."""
    rows = []
    for part, counts in dumps:
        if not 1 <= part <= len(sequence):
            raise ValueError(f"callgrind dump part {part} has no recorded phase "
                             f"({len(sequence)} phase intervals were recorded)")
        epoch, phase = sequence[part - 1]
        rows += [(epoch, phase, ev, counts.get(ev, 0.0)) for ev in EVENTS]
    df = pd.DataFrame(rows, columns=["epoch", "phase", "event", "value"])
    df = df.groupby(["epoch", "phase", "event"], sort=False, as_index=False).value.sum()
    return df.assign(unit="count", percent_running=None, multiplexed=False,
                     backend="callgrind", simulated=True, na_reason=None)[list(_COLS)]


class _Toggle:
    """Listener: collect during a phase; dump at its exit."""

    def __init__(self, probe: CallgrindProbe):
        self.probe = probe

    def enter(self, name: str) -> None:
        self.probe.sequence.append((self.probe.ctx.epoch, name))
        self.probe.toggle()

    def exit(self, name: str) -> None:
        self.probe.toggle_and_dump()


class CallgrindProbe(Probe):
    """Per-phase simulated cache counts (backend=callgrind, simulated=True), per epoch."""

    name = "callgrind"
    clean = False

    def __init__(self, out_dir: Path | None = None):
        self.out_dir = out_dir
        self.listener = _Toggle(self)
        self.sequence: list[tuple[int, str]] = []
        self._notes: list[str] = []

    def start(self, ctx: RunContext) -> None:
        import torch

        self.ctx = ctx
        self.out_dir = Path(self.out_dir or Path(ctx.run_dir.path) / "profiles" / "callgrind")
        self.toggle = torch._C._valgrind_toggle
        self.toggle_and_dump = torch._C._valgrind_toggle_and_dump_stats
        self.under_valgrind = os.environ.get(WRAPPED_ENV) == "callgrind"

    def stop(self) -> dict[str, pd.DataFrame]:
        if not self.under_valgrind:
            return {"counters": self._missing("the run was not launched under valgrind "
                                              "(`profkit run --probe callgrind` does that)")}
        dumps = [parse_dump(p.read_text()) for p in dump_files(self.out_dir, os.getpid())]
        if not dumps:
            return {"counters": self._missing(f"no callgrind dumps in {self.out_dir}")}
        if len(dumps) != len(self.sequence):
            self._notes.append(f"callgrind: {len(dumps)} dumps for {len(self.sequence)} phase "
                               "intervals; attribution may be off")
        return {"counters": attribute(dumps, self.sequence)}

    def _missing(self, why: str) -> pd.DataFrame:
        self._notes.append(f"callgrind: no simulated counts: {why}")
        phases = sorted({p for _, p in self.sequence}) or list(self.ctx.timer.names)
        rows = [(-1, p, ev, None, "count", None, False, "callgrind", True, f"callgrind: {why}")
                for p in phases for ev in EVENTS]
        return pd.DataFrame(rows, columns=list(_COLS))

    def notes(self) -> list[str]:
        return list(self._notes)
