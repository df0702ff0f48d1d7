"""What this machine can measure: each capability is available or missing with a reason (I4)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any


def _cap(name: str, available: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "available": available, "detail": detail}


def wall_clock() -> dict[str, Any]:
    import time

    res = time.get_clock_info("perf_counter").resolution
    return _cap("wall-clock phases", True, f"time.perf_counter_ns, resolution {res:.0e} s")


def perf_events(events: tuple[str, ...] = ("task-clock", "cache-misses")) -> list[dict[str, Any]]:
    """Whether `perf stat` can count each event here (runs `perf stat -e EV true`)."""
    perf = shutil.which("perf")
    if perf is None:
        return [_cap(f"perf {e}", False, "perf not installed (apt-get install linux-perf)")
                for e in events]
    out = []
    for e in events:
        try:
            r = subprocess.run([perf, "stat", "-x,", "-e", e, "true"], capture_output=True,
                               text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            out.append(_cap(f"perf {e}", False, f"perf failed to run: {exc}"))
            continue
        text = r.stderr.strip()
        ok = r.returncode == 0 and "<not supported>" not in text and "<not counted>" not in text
        why = "counts" if ok else (text.splitlines()[-1] if text else f"exit {r.returncode}")
        out.append(_cap(f"perf {e}", ok, why))
    return out


def detect() -> list[dict[str, Any]]:
    caps = [wall_clock()]
    caps.extend(perf_events())
    return caps
