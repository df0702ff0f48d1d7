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
from profkit.analyses.results import Results


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
    judged = decision.judge(decision.candidates(acc, table), tolerance_pct)
    scaling = parallel.scaling(parallel.throughput(f["epochs"], f["steps"], runs), final)
    leaves = decision.leaves(judged, sorted(runs["dataset"].unique()), scaling, tolerance_pct)
    published = paper.load_published()
    comparison = paper.compare(paper.measured_metrics(acc, table, memory.growth_by_method(growth)),
                               published)
    misses = caches.cache_misses(f["counters"], f["steps"], runs)
    return Computed(results, tolerance_pct, es, ss, table, final, acc, growth, misses, judged,
                    leaves, scaling, published, comparison, checks.all_warnings(f, ss, table),
                    errorprop.error_propagation(f))
