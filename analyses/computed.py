"""Computed: every analysis of a results set, run once, for the report and the notebooks."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from profkit.analyses import (
    accuracy,
    caches,
    checks,
    decision,
    errorprop,
    memory,
    paper,
    parallel,
    runtime,
)
from profkit.analyses.results import GROUP_KEYS, Results

# What a decision candidate is when accuracy and time come from different runs: the kernel
# and flushing of the optimizer are blanked (they change the time, not what is learnt).
DECISION_KEYS = ["dataset", "method", "batch_size", "hidden_layers", "width", "implementation",
                 "workers", "variant"]


@dataclass
class Computed:
    results: Results
    tolerance_pct: float
    epoch_seconds: pd.DataFrame
    step_stats: pd.DataFrame
    phase_table: pd.DataFrame
    final: pd.DataFrame
    acc_table: pd.DataFrame
    growth: pd.DataFrame
    misses: pd.DataFrame
    judged: pd.DataFrame
    leaves: pd.DataFrame
    scaling: pd.DataFrame
    published: pd.DataFrame
    comparison: pd.DataFrame
    warnings: pd.DataFrame
    errorprop: errorprop.ErrorPropagation  # §7: theory, the measured study, ALSH recall

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        return self.results.frames

    @property
    def runs(self) -> pd.DataFrame:
        return self.results.runs


def compute(results: Results, tolerance_pct: float = decision.DEFAULT_TOLERANCE_PCT) -> Computed:
    f, runs = results.frames, results.runs
    blocks = f.get("phase_blocks")  # compacted runs (profkit compact)
    es = runtime.epoch_phase_seconds(f["phases"], runs, blocks)
    ss = runtime.step_phase_stats(f["phases"], runs,
                                  set(es.loc[es["extrapolated"], "run_id"]), blocks)
    table = runtime.ratio_to_standard(runtime.phase_table(es, ss, runs))
    final = accuracy.final_accuracy(f["epochs"], runs)
    acc = accuracy.accuracy_table(final)
    growth = memory.memory_growth(f["memory"], f["epochs"], runs)
    judged = decision.judge(decision.candidates(*decision_inputs(final, acc, table)),
                            tolerance_pct)
    scaling = parallel.scaling(parallel.throughput(f["epochs"], f["steps"], runs), final)
    leaves = decision.leaves(judged, sorted(runs["dataset"].unique()), scaling, tolerance_pct)
    published = paper.load_published()
    comparison = paper.compare(paper.measured_metrics(acc, table, memory.growth_by_method(growth)),
                               published)
    misses = caches.cache_misses(f["counters"], f["steps"], runs)
    return Computed(results, tolerance_pct, es, ss, table, final, acc, growth, misses, judged,
                    leaves, scaling, published, comparison, checks.all_warnings(f, ss, table),
                    errorprop.error_propagation(f))


def decision_inputs(final: pd.DataFrame, acc: pd.DataFrame,
                    table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accuracy and time tables the decision rule reads.

    When every run is whole-epoch, or every run is step-capped (a quick look such as the
    demo), each configuration's accuracy and time are its own runs'. When a results set
    holds both (a reproduction: whole-epoch accuracy runs beside capped timing runs), an
    accuracy after a few hundred steps must not be averaged with one after whole epochs, so
    accuracy comes from the whole-epoch runs only, and time preferably from the capped
    timing runs (run for it, interleaved) of the same method, batch size, depth, width,
    implementation and variant; a configuration with no whole-epoch run is not a candidate."""
    capped = final["max_steps"].notna() if "max_steps" in final else None
    if capped is None or not capped.any() or capped.all():
        return acc, table
    blank = {k: "" for k in GROUP_KEYS if k not in DECISION_KEYS}

    def same(f: pd.DataFrame) -> pd.DataFrame:
        return f.assign(**blank, variant=f["variant"].map(without_run_length))

    whole = accuracy.accuracy_table(same(final[~capped]))
    t = timing_runs(same(table[table["phase"] == "total"]), DECISION_KEYS, whole)
    t = t.groupby([*GROUP_KEYS, "phase"], as_index=False, dropna=False)["s_per_epoch"].median()
    return whole, t


RUN_LENGTH = ("max_steps=", "epochs=")  # how long a run was, not what it trained


def without_run_length(variant) -> str:
    """A variant label without its run-length parts: a capped timing run and a whole-epoch
    accuracy run of one configuration are the same candidate ("lr=0.001" both)."""
    parts = [p for p in str(variant if pd.notna(variant) else "").split(", ")
             if p and not p.startswith(RUN_LENGTH)]
    return ", ".join(parts)


def timing_runs(t: pd.DataFrame, keys, acc: pd.DataFrame) -> pd.DataFrame:
    """The time rows the decision rule reads for the candidates of `acc` (configurations by
    `keys`). Candidates compared with each other (same keys but method and variant) are timed
    from one source: the capped timing runs when every one of them has such runs (interleaved
    on a quiet machine, one optimizer kernel), else the whole-epoch runs for all of them. Mixing
    the two would let the source decide who is fastest: a whole-epoch run's own seconds may
    have been taken under load, or on another optimizer kernel than the timing runs'."""
    keys = list(keys)
    peers = [k for k in keys if k not in ("method", "variant")]
    t = t.merge(acc[keys].drop_duplicates(), on=keys, how="inner")
    capped = t["extrapolated"].astype(bool)
    has = capped.groupby([t[k] for k in keys], dropna=False).transform("any")
    every = has.groupby([t[k] for k in peers], dropna=False).transform("all")
    return t[capped == every]
