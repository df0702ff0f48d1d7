"""Analysis: the front door to profkit's analyses of one results directory.

Like Holistic Trace Analysis's TraceAnalysis: load once, then ask for what you need; every
answer is a DataFrame (or the report file), computed by the same functions the HTML report
and the notebooks call, once, on first use.

    from profkit.analyses import Analysis
    a = Analysis("results/demo")
    a.runtime()      # seconds per epoch by phase, intervals, ratios to Standard
    a.claims()       # per claim of the paper: measured value, interval, verdict
    a.report("reports/demo.html")
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd
from profkit.analyses.claim_verdicts import judge_claims
from profkit.analyses.computed import Computed, compute
from profkit.analyses.decision import DEFAULT_TOLERANCE_PCT
from profkit.analyses.report import write_report
from profkit.analyses.results import Results, load_results


class Analysis:
    """Every analysis of the runs under `results` (a directory, or Results already loaded)."""

    def __init__(self, results: str | Path | Results,
                 tolerance_pct: float = DEFAULT_TOLERANCE_PCT):
        self.results = results if isinstance(results, Results) else load_results(results)
        self.tolerance_pct = tolerance_pct

    @cached_property
    def computed(self) -> Computed:
        """The shared bundle the report's sections read (computed on first use)."""
        return compute(self.results, self.tolerance_pct)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The loaded tables: runs, phases, steps, epochs, ..., and the study tables."""
        return self.results.frames

    def runtime(self) -> pd.DataFrame:
        """Seconds per epoch by phase per configuration, with intervals and ratios to Standard."""
        return self.computed.phase_table

    def accuracy(self) -> pd.DataFrame:
        """Final test accuracy per configuration (the paper's Table 2)."""
        return self.computed.acc_table

    def memory(self) -> pd.DataFrame:
        """Resident-memory growth per run (§9.4)."""
        return self.computed.growth

    def cache_misses(self) -> pd.DataFrame:
        """Cache-miss counts per phase, NA with its reason where unmeasured (§9.4)."""
        return self.computed.misses

    def decision(self) -> pd.DataFrame:
        """The measured winner of each leaf of the §10.4 decision tree."""
        return self.computed.leaves

    def claims(self) -> pd.DataFrame:
        """Per claim of the paper (analyses/data/claims.toml): paper's value, measured value
        with its interval, epochs run, verdict and its cause (docs/reproduction.md)."""
        return judge_claims(self.computed)

    def paper(self) -> pd.DataFrame:
        """Measured values beside the paper's published ones."""
        return self.computed.comparison

    def warnings(self) -> pd.DataFrame:
        """What a reader needs to know before trusting the numbers, one row per warning."""
        return self.computed.warnings

    def error_propagation(self) -> pd.DataFrame:
        """The measured per-layer errors beside Theorem 7.2 (empty without a study:
        `profkit errorprop --results DIR` adds one)."""
        return self.computed.errorprop.comparison

    def report(self, out_path: str | Path, title: str | None = None) -> Path:
        """Write the self-contained HTML report of these results."""
        return write_report(self.results, out_path, self.tolerance_pct, title)
