"""MemoryProbe: process RSS sampled in a thread and at phase boundaries, labelled by phase.

Why psutil and not memory_profiler: `memory_profiler.memory_usage` samples a process (or a
callable) at an interval with psutil underneath, but it blocks the calling thread and returns
bare numbers, so it cannot label a sample with the trainer's epoch, step and phase. A daemon
thread that calls psutil directly can, at the same cost. memory-profiler is still the right
tool to *look* at the series: the probe writes `profiles/mprofile.dat` in mprof's format, so
`mprof plot <run>/profiles/mprofile.dat` draws it.

Labels are read from the run context without a lock: the sampler may see a phase that ended
a few microseconds earlier, so a sample's phase can be stale by one phase (never by a step's
worth of time at 10 Hz). Boundary samples (taken by the listener, in the trainer's thread)
are exact; they are taken on every `boundary_every`-th step only, so the cost stays small.

torch offers no allocator statistics on CPU (torch.cuda.memory_stats and friends are
CUDA-only); `--profiler torch` (profile_memory=True) is the CPU allocator view. tracemalloc
(opt-in) sees Python-heap allocations only, not tensor storage.
"""

from __future__ import annotations

import resource
import threading
import tracemalloc
from pathlib import Path
from time import perf_counter_ns, time

import pandas as pd
import psutil

from profkit.probes.base import Probe, RunContext

IDLE = "idle"  # sample taken while no named phase was running
_COLS = ("t_ns", "epoch", "step", "phase", "source", "metric", "bytes")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Boundaries:
    """Listener: RSS at entry to and exit from each phase on every Nth step."""

    def __init__(self, probe: MemoryProbe):
        self.probe = probe

    def enter(self, name: str) -> None:
        self.probe._boundary(name, "rss_at_enter")

    def exit(self, name: str) -> None:
        self.probe._boundary(name, "rss_at_exit")


class MemoryProbe(Probe):
    """RSS time series (sampler), RSS at phase boundaries, peak RSS; opt-in tracemalloc."""

    name = "memory"
    clean = True  # a 10 Hz sampler thread: ~2% on the dev VM (benchmarks/probes.py)

    def __init__(self, interval_s: float = 0.1, boundary_every: int = 50,
                 trace_python: bool = False):
        if interval_s <= 0 or boundary_every < 1:
            raise ValueError("MemoryProbe needs interval_s > 0 and boundary_every >= 1")
        self.interval_s, self.boundary_every = interval_s, boundary_every
        self.trace_python = trace_python
        self.listener = _Boundaries(self)
        self._rows: list[tuple] = []
        self._lock = threading.Lock()  # guards _rows between sampler and trainer threads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc = psutil.Process()
        self._mprof: list[tuple[float, int]] = []

    def start(self, ctx: RunContext) -> None:
        self.ctx, self.t0 = ctx, perf_counter_ns()
        if self.trace_python:
            tracemalloc.start()
        self._sample("sampler")
        self._thread = threading.Thread(target=self._loop, name="profkit-memory", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample("sampler")

    def _sample(self, source: str) -> None:
        rss = self._proc.memory_info().rss
        ctx = self.ctx
        phase = ctx.timer.current or IDLE  # unlocked read: may be one phase stale (see above)
        self._add(ctx.epoch, ctx.step, phase, source, "rss", rss)
        self._mprof.append((time(), rss))

    def _boundary(self, phase: str, metric: str) -> None:
        if self.ctx.step % self.boundary_every == 0:
            rss = self._proc.memory_info().rss
            self._add(self.ctx.epoch, self.ctx.step, phase, "boundary", metric, rss)

    def _add(self, epoch: int, step: int, phase: str, source: str, metric: str,
             value: int | None) -> None:
        row = (perf_counter_ns() - self.t0, epoch, step, phase, source, metric, value)
        with self._lock:
            self._rows.append(row)

    def _totals(self, epoch: int) -> None:
        """Peak RSS so far and (opt-in) the Python heap, once per epoch and at the end."""
        self._add(epoch, self.ctx.step, IDLE, "rusage", "peak_rss", peak_rss_bytes())
        if self.trace_python and tracemalloc.is_tracing():
            current, peak = tracemalloc.get_traced_memory()
            self._add(epoch, self.ctx.step, IDLE, "tracemalloc", "traced_current", current)
            self._add(epoch, self.ctx.step, IDLE, "tracemalloc", "traced_peak", peak)
            tracemalloc.reset_peak()  # so traced_peak is per epoch

    def _drain(self) -> dict[str, pd.DataFrame]:
        with self._lock:
            rows, self._rows = self._rows, []
        return {"memory": pd.DataFrame(rows, columns=list(_COLS))} if rows else {}

    def epoch_end(self, epoch: int) -> dict[str, pd.DataFrame]:
        self._totals(epoch)
        return self._drain()

    def stop(self) -> dict[str, pd.DataFrame]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * self.interval_s + 1)
        self._sample("sampler")
        self._totals(self.ctx.epoch)
        if self.trace_python and tracemalloc.is_tracing():
            tracemalloc.stop()
        self._write_mprof()
        return self._drain()

    def _write_mprof(self) -> None:
        """The sampler's series in memory_profiler's mprof format, for `mprof plot`."""
        out = Path(self.ctx.run_dir.path) / "profiles" / "mprofile.dat"
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = ["CMDLINE profkit run (memory probe)"]
        lines += [f"MEM {rss / 2**20:.6f} {t:.4f}" for t, rss in self._mprof]
        out.write_text("\n".join(lines) + "\n")
