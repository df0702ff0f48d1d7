"""Sweeps: a grid of RunConfigs from a TOML file, run resumably by an executor into one results dir.

    spec = load_spec("sweeps/paper.toml").with_overrides({"epochs": 1, "max_steps": 200})
    with get_executor("inprocess") as ex:
        report = run_sweep(spec, "results/paper", ex)
"""

from profkit.sweep.executors import EXECUTORS, Executor, ExecutorError, get_executor
from profkit.sweep.plan import plan
from profkit.sweep.runner import SweepReport, run_sweep
from profkit.sweep.spec import SweepFileError, SweepSpec, load_spec, parse, parse_sets
from profkit.sweep.state import SweepLockedError, run_status
from profkit.sweep.task import Outcome

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "Outcome", "SweepFileError",
           "SweepLockedError", "SweepReport", "SweepSpec", "get_executor", "load_spec", "parse",
           "parse_sets", "plan", "run_status", "run_sweep"]
