"""What this machine can measure: each capability available, or missing with a reason (I4).

The invariants I1-I7 are stated in docs/architecture.md.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from profkit.probes.perfstat import DEFAULT_EVENTS, na_reason, parse_perf_csv
from profkit.probes.profilers import find_tool, pyspy_permitted

SOFTWARE_EVENTS = ("task-clock", "page-faults", "context-switches")
PARANOID = {-1: "no restrictions", 0: "CPU-wide and kernel counting allowed",
            1: "user+kernel counting of own processes", 2: "user-space counting only",
            3: "perf_event_open disabled for non-root (Debian)"}


def _cap(name: str, available: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "available": available, "detail": detail}


def wall_clock() -> dict[str, Any]:
    res = time.get_clock_info("perf_counter").resolution
    return _cap("wall-clock phases", True, f"time.perf_counter_ns, resolution {res:.0e} s")


def _run(cmd: list[str], timeout: float = 30) -> subprocess.CompletedProcess | str:
    """The finished process, or why it could not run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{cmd[0]} failed to run: {e}"


def perf_tool() -> list[dict[str, Any]]:
    """perf present (and its version) and the kernel's perf_event_paranoid level."""
    perf = shutil.which("perf")
    if perf is None:
        return [_cap("perf", False, "perf not installed (Debian: apt-get install linux-perf)")]
    r = _run([perf, "--version"])
    version = r.stdout.strip() if not isinstance(r, str) else r
    try:
        level = int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())
        paranoid = _cap("perf_event_paranoid", True, f"{level}: {PARANOID.get(level, '?')}")
    except (OSError, ValueError) as e:
        paranoid = _cap("perf_event_paranoid", False, f"unreadable: {e}")
    return [_cap("perf", True, version), paranoid]


def perf_events(events: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Whether `perf stat` can count each event here (one `perf stat -e A,B,.. true`)."""
    events = events or tuple(dict.fromkeys((*DEFAULT_EVENTS, *SOFTWARE_EVENTS)))
    perf = shutil.which("perf")
    if perf is None:
        return [_cap(f"perf {e}", False, "perf not installed") for e in events]
    r = _run([perf, "stat", "-x,", "-e", ",".join(events), "true"])
    if isinstance(r, str) or r.returncode != 0:
        why = r if isinstance(r, str) else (r.stderr.strip().splitlines() or ["?"])[-1]
        return [_cap(f"perf {e}", False, why) for e in events]
    got = {row["name"]: row for row in parse_perf_csv(r.stderr)}
    out = []
    for e in events:
        row = got.get(e)
        if row is None:
            out.append(_cap(f"perf {e}", False, "perf printed no line for it"))
        else:
            ok = row["status"] == "ok"
            out.append(_cap(f"perf {e}", ok, "counts" if ok else na_reason(row["status"], e)))
    return out


def valgrind() -> list[dict[str, Any]]:
    exe = shutil.which("valgrind")
    if exe is None:
        return [_cap("valgrind callgrind", False,
                     "valgrind not installed (Debian: apt-get install valgrind)")]
    r = _run([exe, "--version"])
    version = r.stdout.strip() if not isinstance(r, str) else r
    import torch

    ok = bool(torch._C._valgrind_supported_platform())
    detail = (f"{version}; torch toggles collection per phase" if ok else
              f"{version}, but this torch build has no valgrind client requests")
    return [_cap("valgrind callgrind", ok, detail)]


def profilers() -> list[dict[str, Any]]:
    why = pyspy_permitted()
    caps = [_cap("py-spy", why is None, "present, may read other processes (ptrace)"
                 if why is None else why)]
    scalene = find_tool("scalene")
    caps.append(_cap("scalene", scalene is not None,
                     scalene or "scalene not installed (pip install scalene)"))
    caps.append(_cap("torch.profiler", True, "CPU ops and allocator events (--profiler torch)"))
    return caps


def memory() -> list[dict[str, Any]]:
    caps = [_cap("memory RSS (psutil)", True, "sampled in a thread + at phase boundaries")]
    caps.append(_cap("torch CPU allocator stats", False,
                     "torch has none on CPU (torch.cuda.memory_stats is CUDA-only); "
                     "use --profiler torch (profile_memory) or tracemalloc"))
    return caps


def detect() -> list[dict[str, Any]]:
    caps = [wall_clock()]
    for group in (memory, perf_tool, perf_events, valgrind, profilers):
        caps.extend(group())
    return caps
