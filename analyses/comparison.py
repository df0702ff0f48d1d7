"""Comparison of two result sets, side by side: per phase time and accuracy, B/A with tests.

What `profkit compare` prints. Configurations are matched on the configuration keys
(results.GROUP_KEYS) except the ones that tell A from B: keys named in a side's filter, and
keys that are constant on each side but differ between them (two directories of one config
each are compared whatever their settings). Time ratios come from compare.ratio, the rule
the report's ratio tables use.
"""

from __future__ import annotations

import math

import pandas as pd
from profkit.analyses import accuracy, compare, runtime
from profkit.analyses.results import GROUP_KEYS, Results
from scipy import stats as st

TIME_COLS = ["s_per_epoch", "ci_lo", "ci_hi", "n_runs", "sample"]


class CompareError(ValueError):
    """Two result sets that cannot be compared as asked (a bad filter, nothing matches)."""


def filter_runs(res: Results, where: dict[str, object], side: str = "") -> Results:
    """The runs of `res` whose columns equal `where` (compared as text), with their rows."""
    runs = res.runs
    for key, value in where.items():
        if key not in runs:
            valid = ", ".join(k for k in GROUP_KEYS + ["repeat", "lr", "optimizer", "run_id"]
                              if k in runs)
            raise CompareError(f"unknown filter key {key!r}; valid keys: {valid}")
        runs = runs[runs[key].astype(str) == str(value)]
    if runs.empty:
        cond = ", ".join(f"{k}={v}" for k, v in where.items())
        raise CompareError(f"no runs{' on side ' + side if side else ''} match {cond} under "
                           f"{res.path}")
    ids = set(runs["run_id"])
    frames = {n: (f[f["run_id"].isin(ids)] if "run_id" in f else f)
              for n, f in res.frames.items()}
    frames["runs"] = runs
    return Results(frames, res.path)


def side_tables(res: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per configuration and phase time table, per run final accuracy) of one side."""
    f, runs = res.frames, res.runs
    blocks = f.get("phase_blocks")  # compacted runs (profkit compact)
    es = runtime.epoch_phase_seconds(f["phases"], runs, blocks)
    ss = runtime.step_phase_stats(f["phases"], runs, set(es.loc[es["extrapolated"], "run_id"]),
                                  blocks)
    final = accuracy.final_accuracy(f["epochs"], runs).merge(
        runs[["run_id", "n_test"]], on="run_id", how="left")
    return runtime.phase_table(es, ss, runs), final


def match_keys(a: pd.DataFrame, b: pd.DataFrame, exclude: set[str]) -> list[str]:
    keys = [k for k in GROUP_KEYS if k not in exclude and k in a and k in b]
    differ = {k for k in keys if a[k].astype(str).nunique() == 1 and
              b[k].astype(str).nunique() == 1 and str(a[k].iloc[0]) != str(b[k].iloc[0])}
    return [k for k in keys if k not in differ]


def time_comparison(ta: pd.DataFrame, tb: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per matched configuration and phase: A's and B's seconds per epoch [CI], B/A [CI], p."""
    m = ta[[*keys, "phase", *TIME_COLS]].merge(tb[[*keys, "phase", *TIME_COLS]],
                                               on=[*keys, "phase"], suffixes=("_a", "_b"))
    rows = [compare.ratio(a, b) for a, b in zip(m["sample_a"], m["sample_b"], strict=True)]
    out = pd.concat([m.drop(columns=["sample_a", "sample_b"]).reset_index(drop=True),
                     pd.DataFrame(rows, columns=compare.RATIO_COLS)], axis=1)
    order = {p: i for i, p in enumerate(runtime.phase_order(out["phase"].unique()))}
    return out.sort_values([*keys, "phase"], key=lambda s: s.map(order) if s.name == "phase"
                           else s).reset_index(drop=True)


def accuracy_comparison(fa: pd.DataFrame, fb: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per matched configuration: test accuracy % of A and B, B - A in points with a 95%
    two-proportion interval over the pooled test predictions, and its verdict."""
    def pooled(f):
        f = f.assign(correct=f["test_accuracy"] * f["n_test"])
        return f.groupby(keys, dropna=False).agg(correct=("correct", "sum"),
                                                 n=("n_test", "sum"), runs=("run_id", "size"))
    m = pooled(fa).merge(pooled(fb), left_index=True, right_index=True,
                         suffixes=("_a", "_b")).reset_index()
    rows = [_proportions(*r) for r in zip(m["correct_a"], m["n_a"], m["correct_b"], m["n_b"],
                                          strict=True)]
    return pd.concat([m[[*keys, "runs_a", "runs_b"]], pd.DataFrame(rows)], axis=1)


def _proportions(ca: float, na: float, cb: float, nb: float) -> dict:
    if not (na > 0 and nb > 0) or any(map(pd.isna, (ca, cb))):
        return {"test_pct_a": math.nan, "test_pct_b": math.nan, "diff_pts": math.nan,
                "diff_lo": math.nan, "diff_hi": math.nan, "p_value": math.nan,
                "verdict": "no data"}
    pa, pb = ca / na, cb / nb
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    pool = (ca + cb) / (na + nb)
    se0 = math.sqrt(pool * (1 - pool) * (1 / na + 1 / nb))
    p = float(2 * st.norm.sf(abs(pb - pa) / se0)) if se0 > 0 else (1.0 if pa == pb else 0.0)
    z = st.norm.ppf(0.5 + compare.LEVEL / 2)
    verdict = (compare.NOT_SIGNIFICANT if p >= 1 - compare.LEVEL else
               "higher" if pb > pa else "lower")
    return {"test_pct_a": 100 * pa, "test_pct_b": 100 * pb, "diff_pts": 100 * (pb - pa),
            "diff_lo": 100 * (pb - pa - z * se), "diff_hi": 100 * (pb - pa + z * se),
            "p_value": p, "verdict": verdict}


def compare_results(a: Results, b: Results, where: dict | None = None,
                    where_a: dict | None = None, where_b: dict | None = None) -> dict:
    """{"keys": matched on, "differ": what tells A from B, "time": frame, "accuracy": frame}."""
    a = filter_runs(a, {**(where or {}), **(where_a or {})}, "A")
    b = filter_runs(b, {**(where or {}), **(where_b or {})}, "B")
    (ta, fa), (tb, fb) = side_tables(a), side_tables(b)
    keys = match_keys(a.runs, b.runs, set(where_a or {}) | set(where_b or {}))
    time = time_comparison(ta, tb, keys)
    if time.empty:
        raise CompareError("no configuration of A matches one of B on " + ", ".join(keys) +
                           f"; A has {_configs(ta, keys)}; B has {_configs(tb, keys)}")
    return {"keys": keys, "differ": [k for k in GROUP_KEYS if k not in keys],
            "time": time, "accuracy": accuracy_comparison(fa, fb, keys)}


def _configs(t: pd.DataFrame, keys: list[str]) -> str:
    rows = t[keys].drop_duplicates().astype(str).agg("/".join, axis=1).tolist()
    return "; ".join(rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
