"""External profilers, opt-in: py-spy and scalene wrap the run; torch.profiler runs inside it.

Every one of them makes the run's timings unclean (I5 of docs/architecture.md): run.json lists
the instrument and sets `clean_timing` false. Outputs go to the run directory's `profiles/`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from profkit.probes.base import Probe, RunContext

PYSPY_OUT = "pyspy.speedscope.json"
SCALENE_OUT = "scalene.json"
TORCH_OUT = "torch.trace.json"


class ToolMissing(RuntimeError):
    """An external tool is absent or not permitted here; the message says why."""


def find_tool(name: str) -> str | None:
    """`name` on PATH, else next to this interpreter (a venv's bin/ need not be on PATH)."""
    beside = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside) if beside.exists() else None)


def pyspy_command(profiles: Path, native: bool) -> list[str]:
    exe = find_tool("py-spy")
    if exe is None:
        raise ToolMissing("py-spy not found on PATH (pip install py-spy)")
    cmd = [exe, "record", "-o", str(profiles / PYSPY_OUT), "--format", "speedscope"]
    return [*cmd, "--native", "--"] if native else [*cmd, "--"]


def scalene_command(profiles: Path, native: bool) -> list[str]:
    exe = find_tool("scalene")
    if exe is None:
        raise ToolMissing("scalene not found on PATH (pip install scalene)")
    return [exe, "run", "-o", str(profiles / SCALENE_OUT)]


class ExternalProfiler(Probe):
    """Marks a run made under an outside profiler (py-spy, scalene): recorded, not clean."""

    clean = False

    def __init__(self, name: str, output: str):
        self.name, self.output = name, output

    def start(self, ctx: RunContext) -> None:
        self.path = Path(ctx.run_dir.path) / "profiles" / self.output

    def info(self) -> list[str]:
        return [f"{self.name}: profile written to profiles/{self.output} after the run ends"]


class _Ranges:
    """Listener: each phase becomes a named range in the torch trace while it is recording."""

    def __init__(self, probe: TorchProfilerProbe):
        self.probe, self.open = probe, None

    def enter(self, name: str) -> None:
        self.probe.tick()
        if self.probe.prof is not None:
            from torch.autograd.profiler import record_function

            self.open = record_function(name)
            self.open.__enter__()

    def exit(self, name: str) -> None:
        if self.open is not None:
            self.open.__exit__(None, None, None)
            self.open = None


class TorchProfilerProbe(Probe):
    """torch.profiler (CPU ops, allocator events) around `steps` steps after `skip` steps."""

    name = "torch-profiler"
    clean = False

    def __init__(self, steps: int = 5, skip: int = 5):
        self.steps, self.skip = steps, skip
        self.listener = _Ranges(self)
        self.prof = None
        self.done = False

    def start(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.out = Path(ctx.run_dir.path) / "profiles" / TORCH_OUT

    def tick(self) -> None:
        """Start at step `skip`, stop after `steps` more (checked at phase entries)."""
        step = self.ctx.step
        if self.prof is None and not self.done and step >= self.skip:
            from torch.profiler import ProfilerActivity, profile

            self.first = step
            self.prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
            self.prof.__enter__()
        elif self.prof is not None and step >= self.first + self.steps:
            self._finish()

    def _finish(self) -> None:
        prof, self.prof, self.done = self.prof, None, True
        prof.__exit__(None, None, None)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        prof.export_chrome_trace(str(self.out))

    def stop(self) -> dict[str, pd.DataFrame]:
        if self.prof is not None:
            self._finish()
        return {}

    def info(self) -> list[str]:
        if self.done:
            return [f"torch-profiler: chrome trace of {self.steps} steps in profiles/{TORCH_OUT}"]
        return []

    def notes(self) -> list[str]:
        if self.done:
            return []
        return [f"torch-profiler: the run ended before step {self.skip}; no trace written"]


def pyspy_permitted() -> str | None:
    """None when py-spy can attach to a process here, else why not (ptrace, missing)."""
    try:
        exe = pyspy_command(Path("."), False)[0]
    except ToolMissing as e:
        return str(e)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        r = subprocess.run([exe, "dump", "--pid", str(child.pid)], capture_output=True,
                           text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "py-spy dump timed out"
    finally:
        child.kill()
        child.wait()
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()
        return f"py-spy cannot read another process here ({tail[-1] if tail else 'no output'}" \
               "); ptrace is not permitted (run as root or with CAP_SYS_PTRACE, or set " \
               "kernel.yama.ptrace_scope=0)"
    return None
