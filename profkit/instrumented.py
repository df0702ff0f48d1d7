"""Instrumented runs: a config trained with probes and profilers, under a wrapper when needed.

valgrind, py-spy and scalene must launch the process they measure, so such a run is re-run as
a child process. The parent knows the run directory in advance (results/run_id), writes the
child's spec there (profiles/launch.json), starts `<wrapper> python -m profkit.instrumented
<spec>` and waits.
The child trains with the probes named in the spec and writes the run directory itself.
When the wrapper is missing or not permitted, the parent says so and trains in-process instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from profkit import attempts
from profkit.config import RunConfig
from profkit.exitcodes import exit_code
from profkit.probes import ProbeError, check_profiler, make_probes, parse_probe_list
from profkit.probes.callgrind import DEFAULT_MAX_STEPS, GEOMETRY, WRAPPED_ENV, valgrind_command
from profkit.probes.profilers import ToolMissing, pyspy_command, pyspy_permitted, scalene_command
from profkit.train import run

WRAPPERS = ("callgrind", "py-spy", "scalene")  # instruments that must launch the process
NATIVE_PROFILERS = ("py-spy", "scalene")  # the profilers --native changes
SPEC = "launch.json"


def wrapper_of(probes: list[str], profiler: str | None) -> str | None:
    """The one wrapper this run needs, if any; two wrappers cannot nest."""
    wanted = [w for w in WRAPPERS if w in probes or w == profiler]
    if len(wanted) > 1:
        raise ProbeError(f"{' and '.join(wanted)} each launch the run themselves; "
                         "choose one of them per run")
    return wanted[0] if wanted else None


def prepare_callgrind(cfg: Any, say) -> Any:
    """One torch thread and a step cap; tell the user what it will cost before it starts."""
    if cfg.max_steps is None:
        cfg = cfg.replace(max_steps=DEFAULT_MAX_STEPS)
        say(f"callgrind: no --max-steps given; capping the run at {DEFAULT_MAX_STEPS} steps")
    cfg = cfg.replace(threads=1)
    say(f"callgrind: running under valgrind's cache simulator (one thread, {cfg.max_steps} "
        "steps). Expect python+torch start-up alone to take about 4 minutes, training and "
        "evaluation 50-100x slower than normal.")
    return cfg


def wrapper_prefix(kind: str, profiles: Path, native: bool) -> list[str]:
    """The command that goes before `python -m profkit.instrumented SPEC`."""
    if kind == "callgrind":
        if not _on_path("valgrind"):
            raise ToolMissing("valgrind not found on PATH (Debian: apt-get install valgrind)")
        (profiles / "callgrind").mkdir(parents=True, exist_ok=True)
        return valgrind_command(profiles / "callgrind")
    if kind == "py-spy":
        why = pyspy_permitted()
        if why is not None:
            raise ToolMissing(why)
        return pyspy_command(profiles, native)
    return scalene_command(profiles, native)


def _on_path(name: str) -> bool:
    return shutil.which(name) is not None


def child_argv(kind: str, spec: Path) -> list[str]:
    if kind == "scalene":  # scalene profiles a program file; `---` starts its arguments
        return [__file__, "---", str(spec)]
    return [sys.executable, "-m", "profkit.instrumented", str(spec)]


def relaunch(kind: str, cfg: Any, probes: list[str], profiler: str | None, native: bool,
             say) -> tuple[Any, int | None, str | None]:
    """Run cfg as a child under `kind`: (cfg used, exit code, None), or (cfg, None, why) when
    the wrapper is unavailable (the caller then trains in-process without it)."""
    if kind == "callgrind":
        cfg = prepare_callgrind(cfg, say)
    profiles = Path(cfg.results) / cfg.run_id / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    try:
        prefix = wrapper_prefix(kind, profiles, native)
    except ToolMissing as e:
        why = f"{kind} requested but not available here: {e}; the run went on without it"
        say(why)
        return cfg, None, why
    spec = profiles / SPEC
    spec.write_text(json.dumps({"config": cfg.to_dict(), "probes": probes, "profiler": profiler,
                                "wrapper": kind, "progress": False}, indent=2))
    env = {**os.environ, WRAPPED_ENV: kind}
    if kind == "callgrind":
        env["OMP_NUM_THREADS"] = "1"
    rc = subprocess.run([*prefix, *child_argv(kind, spec)], env=env).returncode
    return cfg, rc, None


def wrapper_meta(kind: str | None) -> dict[str, Any]:
    """run.json keys describing the wrapper the child runs under."""
    if kind == "callgrind":
        return {"callgrind": {"cache_geometry": {k: {"size_bytes": v[0], "assoc": v[1],
                                                     "line_bytes": v[2]}
                                                 for k, v in GEOMETRY.items()},
                              "command": valgrind_command(Path("profiles/callgrind"))}}
    return {}


def check_native(native: bool, profiler: str | None) -> None:
    """--native without a profiler it changes would be silently ignored: refuse it."""
    if native and profiler not in NATIVE_PROFILERS:
        raise ProbeError("--native only changes what py-spy and scalene record (native "
                         "frames); add --profiler py-spy or scalene, or drop --native")


def run_with_instruments(cfg: Any, probe_list: str | None, profiler: str | None,
                         native: bool = False, progress: bool = False,
                         force: bool = False) -> tuple[Path, str]:
    """Train cfg with the named probes and profiler, launching a wrapper when one is needed.

    Returns (run directory, status). A finished run already there is returned as it is unless
    `force` (profkit/attempts.py). A missing wrapper tool is reported on stderr and in
    run.json's warnings, and the run goes on without it.
    """
    names = parse_probe_list(probe_list)
    check_profiler(profiler)
    check_native(native, profiler)
    path = Path(cfg.results) / cfg.run_id
    existing = attempts.prepare(Path(cfg.results), cfg.run_id, force)
    if existing is not None:
        return path, existing["status"]
    kind = wrapper_of(names, profiler)
    extra: dict[str, Any] = {}
    if kind is not None:
        cfg, rc, why = relaunch(kind, cfg, names, profiler, native, _say)
        if rc is not None:
            return _child_result(Path(cfg.results) / cfg.run_id, rc)
        extra["warnings"] = [why]
    result = run(cfg, probes=make_probes(names, profiler), progress=progress, meta_extra=extra,
                 prepared=True)
    return result.path, result.status


def _say(message: str) -> None:
    print(f"profkit run: {message}", file=sys.stderr, flush=True)


def _child_result(path: Path, rc: int) -> tuple[Path, str]:
    try:
        meta = json.loads((path / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise ProbeError(f"the wrapped run exited with code {rc} without writing "
                           f"{path / 'run.json'}; see the messages above") from None
    return path, meta.get("status", "failed")


def child_main(spec_path: str) -> int:
    """Inside the wrapper: train as the spec says and exit with the run's status code."""
    spec = json.loads(Path(spec_path).read_text())
    cfg = RunConfig.from_dict(spec["config"])
    kind = os.environ.get(WRAPPED_ENV)
    probes = make_probes(spec["probes"], spec["profiler"], wrapped=kind)
    result = run(cfg, probes=probes, progress=spec["progress"], meta_extra=wrapper_meta(kind),
                 prepared=True)  # the parent retired any earlier attempt before the launch
    return exit_code(result.status)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[-1]))
