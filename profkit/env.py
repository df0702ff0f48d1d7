"""Environment metadata for run.json; a value the machine does not expose is None, not an error."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

from profkit._version import __version__

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "KMP_AFFINITY", "GOMP_CPU_AFFINITY",
               "ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _cpuinfo() -> dict[str, str]:
    text = _read("/proc/cpuinfo") or ""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = (s.strip() for s in line.split(":", 1))
            out.setdefault(k, v)
    return out


def cpu_caches() -> dict[str, str] | None:
    """Cache sizes of cpu0 from sysfs, e.g. {'L1d': '32K', 'L2': '1024K'}."""
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    if not base.exists():
        return None
    out = {}
    for idx in sorted(base.glob("index*")):
        level, typ, size = (_read(str(idx / f)) for f in ("level", "type", "size"))
        if level and size:
            suffix = {"Data": "d", "Instruction": "i"}.get(typ or "", "")
            out[f"L{level}{suffix}"] = size
    return out or None


def git_commit() -> str | None:
    """Commit of the profkit source tree, when it is a git checkout."""
    src = Path(__file__).resolve().parent.parent
    try:
        r = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def _torch_info() -> dict[str, Any]:
    import torch

    cfg = torch.__config__.show()
    blas = next((ln.split("=", 1)[1].strip() for ln in cfg.splitlines()
                 if "BLAS_INFO" in ln), None)
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        capability = None
    return {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "torch_cpu_capability": capability, "torch_blas": blas,
            "torch_mkldnn": torch.backends.mkldnn.is_available(),
            "flush_denormal_supported": None}


def capture() -> dict[str, Any]:
    """Everything about this machine and software that can change a timing."""
    info = _cpuinfo()
    flags = info.get("flags", "").split()
    env = {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": info.get("model name"),
        "cpu_cores_logical": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_caches": cpu_caches(),
        "hypervisor": ("hypervisor" in flags) if flags else None,
        "memory_bytes": _meminfo_total(),
        "perf_event_paranoid": _int_or_none(_read("/proc/sys/kernel/perf_event_paranoid")),
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARS},
        "profkit_version": __version__,
        "profkit_commit": git_commit(),
    }
    env.update(_torch_info())
    return env


def _int_or_none(s: str | None) -> int | None:
    try:
        return int(s) if s is not None else None
    except ValueError:
        return None


def _meminfo_total() -> int | None:
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None
