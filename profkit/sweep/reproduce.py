"""Running a reproduction plan (profkit/sweep/protocol.py) into one results directory, resumably.

Sweep parts go through the sweep runner (finished runs skipped, interrupted ones moved to
.stale and re-run); the §7 study is written after every (dataset, method, depth, seed) unit,
so an interrupted study resumes at the first missing unit. `reproduce.json` in the results
records the options of the first start (the accuracy epochs above all), so that re-running the
same command, here or on another machine holding the results, plans the same runs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from profkit import errorprop
from profkit.data import load_dataset
from profkit.store import atomic_write_bytes, check_writable, read_study
from profkit.sweep.executors import InProcessExecutor
from profkit.sweep.protocol import ERRORPROP, PartPlan, Plan
from profkit.sweep.runner import run_configs
from profkit.sweep.state import sweep_lock
from profkit.train import RunInterrupted, _stop_on_signals, torch_settings

RECORD = "reproduce.json"
UNIT_KEY = ("trained_with", "dataset", "depth", "width", "steps", "seed")


def read_record(results: str | Path) -> dict[str, Any]:
    """The options recorded at the first start of these results ({} if none)."""
    try:
        return json.loads((Path(results) / RECORD).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def write_record(results: str | Path, record: dict[str, Any]) -> None:
    path = Path(results) / RECORD
    atomic_write_bytes(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def run_plan(plan: Plan, results: str | Path, record: dict[str, Any],
             stream: TextIO | None = sys.stderr) -> str:
    """Run every part of `plan`; 'complete', 'failed' (some run failed) or 'interrupted'."""
    results = Path(results).resolve()
    check_writable(results)
    results.mkdir(parents=True, exist_ok=True)
    old = read_record(results)
    write_record(results, {**record, **{k: old[k] for k in ("started_at",) if k in old},
                           "parts_done": old.get("parts_done", {})})
    status = "complete"
    for pp in plan.parts:
        t0 = time.perf_counter()
        if stream is not None:
            print(f"reproduce: part {pp.part.name}: {pp.part.description}", file=stream,
                  flush=True)
        if pp.part.name == ERRORPROP:
            st = run_errorprop(pp, results, stream)
        else:
            with InProcessExecutor(probes=pp.part.probes or _probes_of(plan, pp)) as ex:
                report = run_configs(pp.configs, results, ex, stream)
            if stream is not None:
                print(report.line(), file=stream, flush=True)
            st = "interrupted" if report.interrupted else \
                "failed" if report.failed else "complete"
        _note_part(results, pp.part.name, st, time.perf_counter() - t0)
        if st == "interrupted":
            return st
        if st == "failed":
            status = "failed"
    return status


def _probes_of(plan: Plan, pp: PartPlan) -> tuple[str, ...]:
    """A `same_as` part's probes are its source part's (memory runs are accuracy runs)."""
    for other in plan.parts:
        if other.part.name == pp.part.same_as:
            return other.part.probes
    return ()


def _note_part(results: Path, name: str, status: str, wall_s: float) -> None:
    rec = read_record(results)
    done = rec.setdefault("parts_done", {})
    prev = done.get(name, {})
    done[name] = {"status": status, "wall_s": round(prev.get("wall_s", 0.0) + wall_s, 1),
                  "ended_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    write_record(results, rec)


def _key(row: Any) -> tuple:
    return tuple(row[k] for k in UNIT_KEY)


def unit_key(pp: PartPlan, unit: dict[str, Any]) -> tuple:
    return (unit["method"], unit["dataset"], unit["depth"], unit["config"].width,
            int(pp.part.options.get("steps", 100)), unit["seed"])


def errorprop_todo(pp: PartPlan, results: str | Path) -> list[dict[str, Any]]:
    """The units of the §7 study not yet in <results>/errorprop.parquet, in plan order."""
    study = read_study("errorprop", results)
    done = {_key(r) for r in study[list(UNIT_KEY)].drop_duplicates().to_dict("records")}
    return [u for u in pp.units if unit_key(pp, u) not in done]


def run_errorprop(pp: PartPlan, results: Path, stream: TextIO | None) -> str:
    """The §7 study, one unit at a time, the study table rewritten after each unit."""
    opts = pp.part.options
    with sweep_lock(results):
        study = read_study("errorprop", results)
        todo = errorprop_todo(pp, results)
        if stream is not None:
            print(f"errorprop: {len(pp.units)} units, {len(pp.units) - len(todo)} already "
                  f"measured, {len(todo)} to run", file=stream, flush=True)
        datasets: dict[str, Any] = {}
        try:
            with _stop_on_signals():
                for i, u in enumerate(todo, 1):
                    t0 = time.perf_counter()
                    ds = datasets.get(u["dataset"]) or load_dataset(u["dataset"])
                    datasets[u["dataset"]] = ds
                    cfg = u["config"]
                    with torch_settings(cfg.threads, cfg.flush_denormal):
                        part = errorprop.run_study(
                            cfg, depths=(u["depth"],), seeds=(u["seed"],),
                            steps=int(opts.get("steps", 100)), batch=int(opts.get("batch", 20)),
                            methods=(u["method"],), oracles=tuple(opts.get("oracles", ())),
                            fraction=float(opts.get("fraction", 0.05)), dataset=ds)
                    study = pd.concat([study, part], ignore_index=True) if len(study) else part
                    errorprop.save_study(study, results)
                    if stream is not None:
                        print(f"[{i}/{len(todo)}] errorprop {u['method']} {u['dataset']} depth "
                              f"{u['depth']} seed {u['seed']}: {time.perf_counter() - t0:.1f} s",
                              file=stream, flush=True)
        except (KeyboardInterrupt, RunInterrupted):
            return "interrupted"  # the units measured so far are saved
    return "complete"
