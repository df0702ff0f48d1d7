"""Checks: the warnings a reader needs before trusting the numbers (one row per warning)."""

from __future__ import annotations

import pandas as pd

from profkit.summary import SUBNORMAL_WARN

STEP_CV_MAX = 1.0  # per-step total time (warm-up excluded): sd/mean above this is unsteady
REPEAT_CV_MAX = 0.10  # seconds per epoch across repeats
COLS = ["kind", "run_id", "message"]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLS)


def status_warnings(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs that did not complete: diverged, interrupted, failed or still running."""
    bad = runs[runs["status"] != "complete"]
    rows = [{"kind": f"run {r.status}", "run_id": r.run_id,
             "message": f"status {r.status}" + (f": {str(r.error).strip().splitlines()[-1]}"
                                                if isinstance(r.error, str) and r.error else "")}
            for r in bad.itertuples()]
    return _frame(rows)


def clean_warnings(runs: pd.DataFrame) -> pd.DataFrame:
    bad = runs[~runs["clean_timing"].astype(bool)]
    return _frame([{"kind": "timing not clean", "run_id": r.run_id,
                    "message": f"timed under heavy instruments ({r.instruments}): use its "
                               "timings for diagnosis only"} for r in bad.itertuples()])


def timing_warnings(step_stats: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Unstable timings: high per-step CV within a run, or high CV across repeats."""
    tot = step_stats[(step_stats["phase"] == "total") & (step_stats["cv"] > STEP_CV_MAX)]
    rows = [{"kind": "unstable timing", "run_id": r.run_id,
             "message": f"step time CV {r.cv:.2f} over {r.n_steps} steps (> {STEP_CV_MAX})"}
            for r in tot.itertuples()]
    rep = table[(table["phase"] == "total") & (table["repeat_cv"] > REPEAT_CV_MAX)]
    rows += [{"kind": "unstable timing", "run_id": None,
              "message": f"{r.method} b{r.batch_size} h{r.hidden_layers}: seconds per epoch "
                         f"vary {100 * r.repeat_cv:.0f}% across {r.n_runs} repeats"}
             for r in rep.itertuples()]
    return _frame(rows)


def counter_warnings(counters: pd.DataFrame) -> pd.DataFrame:
    """Counters that are unavailable, one row per run, event and reason."""
    na = counters[counters["value"].isna()]
    g = na.groupby(["run_id", "event", "backend"], dropna=False)["na_reason"].first()
    return _frame([{"kind": "counter unavailable", "run_id": rid,
                    "message": f"{backend}: {event} unavailable ({reason or 'no reason'})"}
                   for (rid, event, backend), reason in g.items()])


def subnormal_warnings(epochs: pd.DataFrame) -> pd.DataFrame:
    sub = epochs[epochs["subnormal_fraction"] > SUBNORMAL_WARN]
    top = sub.groupby("run_id")["subnormal_fraction"].max()
    return _frame([{"kind": "subnormal floats", "run_id": rid,
                    "message": f"up to {100 * f:.1f}% of optimizer state is subnormal: the "
                               "optimizer step may be several times slower (try "
                               "--flush-denormal)"} for rid, f in top.items()])


def run_json_warnings(run_warnings: pd.DataFrame, subnormal: pd.DataFrame) -> pd.DataFrame:
    """What runs wrote into their run.json while training, except the subnormal-float note
    of a run that `subnormal_warnings` already names (the same fact, said once)."""
    said = set(subnormal["run_id"]) if len(subnormal) else set()
    return _frame([{"kind": "said by the run", "run_id": r.run_id, "message": r.message}
                   for r in run_warnings.itertuples()
                   if not (r.run_id in said and "subnormal" in str(r.message))])


def load_warnings(skipped: pd.DataFrame) -> pd.DataFrame:
    """Run directories profkit.load skipped as unreadable (profkit/loading.py's rule)."""
    return _frame([{"kind": "run skipped", "run_id": None,
                    "message": f"{r.path}: {r.reason}; not loaded"} for r in skipped.itertuples()])


def all_warnings(frames: dict[str, pd.DataFrame], step_stats: pd.DataFrame,
                 table: pd.DataFrame) -> pd.DataFrame:
    parts = [status_warnings(frames["runs"]), clean_warnings(frames["runs"]),
             timing_warnings(step_stats, table), counter_warnings(frames["counters"]),
             sub := subnormal_warnings(frames["epochs"]),
             run_json_warnings(frames.get("run_warnings", _frame([])), sub),
             load_warnings(frames.get("load_warnings", pd.DataFrame(columns=["path", "reason"])))]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else _frame([])
