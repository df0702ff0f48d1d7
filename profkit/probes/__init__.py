"""The registries of probes and profilers a user can name (invariant I7), and building them.

The invariants I1-I7 are stated in docs/architecture.md.
"""

from __future__ import annotations

from profkit.probes.base import Probe, RunContext
from profkit.probes.callgrind import CallgrindProbe
from profkit.probes.memory import MemoryProbe
from profkit.probes.perfstat import PerfProbe
from profkit.probes.profilers import PYSPY_OUT, SCALENE_OUT, ExternalProfiler, TorchProfilerProbe

# --probe NAME -> probe class (each built with its defaults)
PROBES: dict[str, type[Probe]] = {
    "memory": MemoryProbe,
    "perf": PerfProbe,
    "callgrind": CallgrindProbe,
}

# --profiler NAME -> what it produces (py-spy and scalene launch the run; torch runs inside it)
PROFILERS: dict[str, str] = {
    "py-spy": f"profiles/{PYSPY_OUT} (speedscope; --native adds C/C++ frames)",
    "scalene": f"profiles/{SCALENE_OUT} (scalene's JSON profile; `scalene view` shows it)",
    "torch": "profiles/torch.trace.json (chrome trace of a few steps, phases as ranges)",
}


class ProbeError(ValueError):
    """A probe or profiler request that cannot be met as asked."""


class UnknownProbeError(ProbeError):
    pass


def parse_probe_list(text: str | None) -> list[str]:
    """'memory,perf' -> ['memory', 'perf'], checking every name against the registry."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    for n in names:
        if n not in PROBES:
            raise UnknownProbeError(f"unknown probe {n!r}; valid probes: {', '.join(PROBES)}")
    return list(dict.fromkeys(names))


def check_profiler(name: str | None) -> None:
    if name is not None and name not in PROFILERS:
        raise UnknownProbeError(f"unknown profiler {name!r}; valid profilers: "
                                f"{', '.join(PROFILERS)}")


def make_probes(names: list[str], profiler: str | None = None,
                wrapped: str | None = None) -> tuple[Probe, ...]:
    """Probes for one run. `wrapped` names the tool this process already runs under."""
    check_profiler(profiler)
    probes: list[Probe] = [PROBES[n]() for n in names]
    if profiler == "torch":
        probes.append(TorchProfilerProbe())
    elif profiler in ("py-spy", "scalene") and wrapped == profiler:
        out = PYSPY_OUT if profiler == "py-spy" else SCALENE_OUT
        probes.append(ExternalProfiler(profiler, out))
    return tuple(probes)


__all__ = ["PROBES", "PROFILERS", "Probe", "ProbeError", "RunContext", "UnknownProbeError",
           "make_probes", "parse_probe_list"]
