"""Compact results: a copy of a results directory small enough to commit, read like any other.

Runs of at most `keep_steps` training steps (the capped runtime runs) are copied as they are.
A longer run keeps run.json and every table except three, which are reduced:

- `phases` becomes `phase_blocks`: per epoch, its warm-up steps as one block and then blocks
  of `block_steps` consecutive steps, each with the count, sum, min, quartiles and max of
  every phase's wall time, and a `total` row (the step's training time, `diagnostic` left
  out) built from the per-step totals. Sums and counts are exact, so seconds per epoch and
  mean step times are as in the raw data; per-step medians and the within-run intervals
  (block means sized by autocorrelation, a bootstrap of the median) are not available, and
  the report says so.
- `steps` is dropped (nothing but per-step counter normalisation reads it); it is kept when
  the run has `counters` rows.
- `memory` keeps evenly spaced background-sampler rows (about MAX_SAMPLER_ROWS per epoch and
  metric, always the first, last and largest) and, of the phase-boundary rows, per epoch the
  first and the last and per (epoch, phase, metric) the largest: RSS growth over training
  (first and last sample) and peaks are exact; the RSS-over-time figure has fewer points.
  mprof's raw dump `profiles/mprofile.dat` is dropped (the table holds the same series).

run.json records what was reduced under `compacted`.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from profkit.schema import STUDY_TABLES, study_file
from profkit.store import RUN_FILE, OutputDirError, RunDir, atomic_write_json, run_dirs

BLOCK_STEPS = 1000
KEEP_STEPS = 5000
TOTAL, DIAGNOSTIC = "total", "diagnostic"
REDUCED = ("phases", "steps", "memory")
MAX_SAMPLER_ROWS = 2000  # per epoch and metric: one figure's worth of points
RAW_PROFILES = ("mprofile.dat",)  # mprof's raw dump of the sampler series: the table holds it
RECORDS = ("reproduce.json",)  # results-level files copied besides the study tables


def _block_ids(steps: pd.DataFrame, block_steps: int) -> pd.Series:
    """Block index per (epoch, step): warm-up steps are block 0 of their epoch, then blocks
    of `block_steps` steady steps, so no block mixes warm-up and steady steps."""
    s = steps.sort_values(["epoch", "step"])
    steady_rank = (~s["warmup"].astype(bool)).groupby(s["epoch"]).cumsum() - 1
    has_warm = s.groupby("epoch")["warmup"].transform("any").astype(int)
    block = np.where(s["warmup"].astype(bool), 0, steady_rank // block_steps + has_warm)
    return pd.Series(block, index=s.index)


def phase_blocks(phases: pd.DataFrame, block_steps: int = BLOCK_STEPS) -> pd.DataFrame:
    """The phase_blocks rows of one run's phases table."""
    ph = phases[phases["phase"] != DIAGNOSTIC]
    # step ids are unique across the workers of a --workers P run, so a step has one worker;
    # blocks then pool the workers' consecutive step ids (phase_blocks has no worker column)
    extra = {"worker": ("worker", "first")} if "worker" in ph.columns else {}
    tot = ph.groupby(["epoch", "step"], as_index=False).agg(wall_ns=("wall_ns", "sum"),
                                                             warmup=("warmup", "first"), **extra)
    tot["phase"] = TOTAL
    rows = pd.concat([phases, tot[phases.columns]], ignore_index=True)
    steps = tot[["epoch", "step", "warmup"]].drop_duplicates(["epoch", "step"])
    steps = steps.assign(block=_block_ids(steps, block_steps))
    rows = rows.merge(steps[["epoch", "step", "block"]], on=["epoch", "step"], how="left")
    rows["block"] = rows["block"].fillna(0).astype(int)  # a diagnostic-only step: block 0
    g = rows.groupby(["epoch", "block", "phase"], sort=True)
    w = g["wall_ns"]
    out = pd.DataFrame({"first_step": g["step"].min(), "n_steps": w.size(),
                        "warmup": g["warmup"].all(), "sum_ns": w.sum(), "min_ns": w.min(),
                        "q25_ns": w.quantile(0.25), "median_ns": w.median(),
                        "q75_ns": w.quantile(0.75), "max_ns": w.max()}).reset_index()
    return out


def _thin_sampler(sampler: pd.DataFrame, max_rows: int) -> set[Any]:
    """Index labels of at most about `max_rows` sampler rows per (epoch, metric): evenly spaced
    rows plus the first, the last and the largest, so growth and peaks stay exact."""
    picks: set[Any] = set()
    for _, g in sampler.sort_values("t_ns").groupby(["epoch", "metric"]):
        step = max(1, -(-len(g) // max_rows))  # ceil: a 10 Hz sampler over an hour is 36 000
        picks |= set(g.index[::step]) | {g.index[0], g.index[-1]}
        if g["bytes"].notna().any():
            picks.add(g["bytes"].idxmax())
    return picks


def reduce_memory(memory: pd.DataFrame, max_sampler_rows: int = MAX_SAMPLER_ROWS) -> pd.DataFrame:
    """Sampler rows (thinned to about `max_sampler_rows` per epoch and metric), and of the
    boundary rows the first and last per epoch and the largest per (epoch, phase, metric)."""
    if memory.empty:
        return memory
    sampler = memory[memory["source"] != "boundary"]
    keep = memory.index.isin(_thin_sampler(sampler, max_sampler_rows))
    b = memory[memory["source"] == "boundary"].sort_values("t_ns")
    picks = set(b.groupby("epoch").head(1).index) | set(b.groupby("epoch").tail(1).index)
    valued = b[b["bytes"].notna()]
    picks |= set(valued.groupby(["epoch", "phase", "metric"])["bytes"].idxmax())
    return memory[keep | memory.index.isin(picks)].sort_values("t_ns").reset_index(drop=True)


def compact_run(src: Path, dst: Path, block_steps: int = BLOCK_STEPS,
                keep_steps: int = KEEP_STEPS) -> dict[str, Any] | None:
    """Copy run directory `src` to `dst`, reduced when it ran more than `keep_steps` steps;
    returns what was reduced (None when copied as is)."""
    rd = RunDir(src)
    meta = rd.read_meta()
    phases = rd.read("phases")
    n_steps = int(phases.drop_duplicates(["epoch", "step"]).shape[0]) if len(phases) else 0
    if isinstance(meta.get("compacted"), dict):
        # compacting compact data again (to commit a resumed reproduction): apply today's
        # memory rule to it, the rest is reduced already
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("memory", *RAW_PROFILES))
        memory = rd.read("memory")
        if len(memory):
            RunDir(dst).append("memory", reduce_memory(memory))
        return dict(meta["compacted"])
    if n_steps <= keep_steps:
        shutil.copytree(src, dst)
        return None
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*REDUCED, *RAW_PROFILES))
    out = RunDir(dst)
    counters = rd.read("counters")
    rows = {"phases": len(phases)}
    blocks = phase_blocks(phases, block_steps)
    out.append("phase_blocks", blocks)
    kept = ["phase_blocks"]
    if len(counters):
        shutil.copytree(src / "steps", dst / "steps")
        kept.append("steps")
    else:
        rows["steps"] = len(rd.read("steps"))
    memory = rd.read("memory")
    if len(memory):
        reduced = reduce_memory(memory)
        out.append("memory", reduced)
        rows["memory"] = len(memory)
    info = {"by": "profkit compact", "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "block_steps": block_steps, "steps": n_steps, "rows_before": rows,
            "phases": "phase_blocks (count, sum, min, quartiles, max per block of steps)",
            "steps_table": "kept (counters need it)" if len(counters) else "dropped",
            "memory": (f"sampler rows thinned to about {MAX_SAMPLER_ROWS} per epoch and metric "
                       "(first, last and largest kept); boundary rows: first/last per epoch, "
                       "max per phase; profiles/mprofile.dat dropped"),
            "unavailable": ["per-step medians", "within-run intervals of step times"]}
    atomic_write_json(dst / RUN_FILE, {**meta, "compacted": info})
    return info


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def compact(results: str | Path, out: str | Path, block_steps: int = BLOCK_STEPS,
            keep_steps: int = KEEP_STEPS) -> dict[str, Any]:
    """Write the compact copy of `results` to `out` (new or empty); returns sizes and counts."""
    results, out = Path(results).resolve(), Path(out).resolve()
    if not results.is_dir():
        raise FileNotFoundError(f"no results directory {results}")
    if out == results or results in out.parents:
        raise OutputDirError(f"{out} is inside the results {results}; write the compact copy "
                             "elsewhere, e.g. reports/reproduction-data")
    if out.exists() and any(out.iterdir()):
        raise OutputDirError(f"{out} exists and is not empty; remove it or choose another -o")
    if block_steps < 1 or keep_steps < 0:
        raise ValueError(f"block_steps must be >= 1 and keep_steps >= 0, got {block_steps}, "
                         f"{keep_steps}")
    out.mkdir(parents=True, exist_ok=True)
    reduced = copied = 0
    for d in run_dirs(results):
        if d == results:
            raise OutputDirError(f"{results} is one run's directory; give the results "
                                 "directory that holds the runs")
        target = out / d.relative_to(results)
        target.parent.mkdir(parents=True, exist_ok=True)
        if compact_run(d, target, block_steps, keep_steps) is None:
            copied += 1
        else:
            reduced += 1
    for name in [*(study_file(n) for n in STUDY_TABLES), *RECORDS]:
        if (results / name).is_file():
            shutil.copy2(results / name, out / name)
    return {"runs_copied": copied, "runs_compacted": reduced, "bytes_before": _size(results),
            "bytes_after": _size(out)}


def compacted_info(run_dir: Path) -> dict[str, Any] | None:
    """What `profkit compact` reduced in this run (None for a raw run)."""
    info = json.loads((Path(run_dir) / RUN_FILE).read_text()).get("compacted")
    return info if isinstance(info, dict) else None
