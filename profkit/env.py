"""Environment metadata for run.json; a value the machine does not expose is None, not an error."""

from __future__ import annotations

import os
import platform
import re
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


SOURCE = Path(__file__).resolve().parent.parent


def _git(src: Path, *args: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(src), *args], capture_output=True, text=True,
                           timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def git_commit(src: Path = SOURCE) -> str | None:
    """Commit of the profkit source tree, short, with `+dirty` when tracked files differ from
    it (a timing from a modified tree is not the commit's); None outside a git checkout."""
    head = _git(src, "rev-parse", "--short=12", "HEAD")
    if not head:
        return None
    status = _git(src, "status", "--porcelain", "--untracked-files=no")
    return head + ("+dirty" if status else "")


_BLAS_NAMES = {"mkl": "MKL", "open": "OpenBLAS", "openblas": "OpenBLAS", "blis": "BLIS",
               "accelerate": "Accelerate", "eigen": "Eigen", "flexi": "FlexiBLAS",
               "generic": "generic BLAS", "atlas": "ATLAS"}
_BLAS_VERSIONS = {"MKL": r"Math Kernel Library Version ([0-9][0-9.]*)",
                  "OpenBLAS": r"OpenBLAS[ \t]*(?:version[ \t]*)?([0-9][0-9.]*)"}


def build_settings(config: str) -> str | None:
    """The `Build settings:` line of torch.__config__.show() (long: every build flag)."""
    return next((ln.split(":", 1)[1].strip() for ln in config.splitlines()
                 if ln.strip().lstrip("- ").startswith("Build settings:")), None)


def blas_short(config: str) -> str | None:
    """The BLAS torch was built with, e.g. 'MKL 2024.2' or 'OpenBLAS 0.3.27', from its build
    config: BLAS_INFO names the library, the library's own line (when torch lists one) its
    version. None when the config names no BLAS."""
    m = re.search(r"BLAS_INFO=([^,\s]+)", config)
    if m is None:
        return None
    name = _BLAS_NAMES.get(m.group(1).lower(), m.group(1))
    v = re.search(_BLAS_VERSIONS[name], config) if name in _BLAS_VERSIONS else None
    return f"{name} {v.group(1).rstrip('.')}" if v else name


def flush_denormal_supported() -> bool:
    """Whether torch can flush subnormal floats on this CPU (set_flush_denormal returns it),
    leaving the process's setting as it was."""
    import torch

    tiny = torch.full((1,), 1e-39, dtype=torch.float32)  # a float32 subnormal
    was_flushing = bool((tiny * 1.0).item() == 0.0)  # torch has a setter but no getter
    supported = bool(torch.set_flush_denormal(True))
    torch.set_flush_denormal(was_flushing)
    return supported


def _torch_info(details: bool) -> dict[str, Any]:
    import torch

    cfg = torch.__config__.show()
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        capability = None
    out = {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
           "torch_interop_threads": torch.get_num_interop_threads(),
           "torch_cpu_capability": capability, "torch_blas": blas_short(cfg),
           "torch_mkldnn": torch.backends.mkldnn.is_available(),
           "flush_denormal_supported": flush_denormal_supported()}
    if details:
        out["torch_build_settings"] = build_settings(cfg)
    return out


def capture(details: bool = False) -> dict[str, Any]:
    """Everything about this machine and software that can change a timing; `details` adds
    torch's whole build settings line (long, so run.json leaves it out)."""
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
    env.update(_torch_info(details))
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
