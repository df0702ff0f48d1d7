"""Comparison of two samples of a positive quantity: ratio B/A, its interval, significance.

One rule serves the report (ratios to Standard, "fastest" claims) and `profkit compare`.
The samples are what runtime.phase_table keeps per configuration (`sample`): the seconds
per epoch of each repeat when there are >= 3 repeats, else the block means of the runs'
steps scaled to seconds per epoch (see stats). The ratio is of the means; the test is
Welch's t on its log (pyperf compares with a t-test too), with the variance of each log
mean by the delta method (se / mean)^2; taken back with exp, the interval never goes
below zero, and the ratio is significant when the interval excludes 1. Geometric means
are not used: skewed step times pull them far from the seconds per epoch shown.
Mann-Whitney on repeats is not used: with 3 repeats a side its smallest two-sided
p-value is 0.1, so it could never say "faster".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as st

LEVEL = 0.95
NOT_SIGNIFICANT = "not significant"
RATIO_COLS = ["ratio", "ratio_lo", "ratio_hi", "p_value", "verdict"]


def ratio(a, b, level: float = LEVEL) -> dict:
    """B/A of positive samples a and b: ratio of means, Welch-t interval of the log ratio
    (delta method), two-sided p-value and verdict ('faster'/'slower' when significant)."""
    a, b = _positive(a), _positive(b)
    if a is None or b is None:
        return dict.fromkeys(RATIO_COLS, math.nan) | {"verdict": "no data"}
    diff = math.log(b.mean() / a.mean())
    va, vb = _rel_var_of_mean(a), _rel_var_of_mean(b)  # delta method: var of log(mean)
    se = math.sqrt(va + vb)
    if se == 0 or math.isnan(se):  # no spread to judge by: only exact equality is known
        return _degenerate(diff, a, b)
    df = (va + vb) ** 2 / ((va**2 / (len(a) - 1) if va else 0) +
                           (vb**2 / (len(b) - 1) if vb else 0))
    half = st.t.ppf(0.5 + level / 2, df) * se
    p = float(2 * st.t.sf(abs(diff) / se, df))
    return {"ratio": math.exp(diff), "ratio_lo": math.exp(diff - half),
            "ratio_hi": math.exp(diff + half), "p_value": p,
            "verdict": verdict(math.exp(diff), p, 1 - level)}


def verdict(r: float, p: float, alpha: float = 1 - LEVEL) -> str:
    if math.isnan(p) or p >= alpha:
        return NOT_SIGNIFICANT
    return "faster" if r < 1 else "slower"


def _positive(x) -> np.ndarray | None:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return None if len(x) == 0 or (x <= 0).any() else x


def _rel_var_of_mean(x: np.ndarray) -> float:
    return float(x.var(ddof=1) / len(x) / x.mean() ** 2) if len(x) >= 2 else math.nan


def _degenerate(diff: float, a: np.ndarray, b: np.ndarray) -> dict:
    """Both samples without spread (or one value each): a ratio but no test."""
    r = math.exp(diff)
    exact = len(a) >= 2 and len(b) >= 2  # constant repeated values: the ratio is exact
    p = (1.0 if diff == 0 else 0.0) if exact else math.nan
    return {"ratio": r, "ratio_lo": r if exact else math.nan,
            "ratio_hi": r if exact else math.nan, "p_value": p, "verdict": verdict(r, p)}


def ratio_to_reference(table: pd.DataFrame, is_ref: pd.Series, keys: list[str],
                       value: str = "s_per_epoch") -> pd.DataFrame:
    """Each row against the reference row (is_ref) with the same `keys`: adds ref_<value>
    and RATIO_COLS (NA where no reference row exists; the first one when several do)."""
    ref = table[is_ref].drop_duplicates(keys).set_index(keys)
    ref_val = ref[value].rename(f"ref_{value}")
    ref_sample = ref["sample"].rename("_ref_sample")
    out = table.join(ref_val, on=keys).join(ref_sample, on=keys)
    rows = [ratio(rs, s) if isinstance(rs, tuple) else dict.fromkeys(RATIO_COLS, math.nan)
            for s, rs in zip(out["sample"], out["_ref_sample"], strict=True)]
    return pd.concat([out.drop(columns="_ref_sample").reset_index(drop=True),
                      pd.DataFrame(rows, columns=RATIO_COLS)], axis=1)


def describe(r: dict, a_name: str = "A", b_name: str = "B") -> str:
    """A pyperf-like sentence: 'B is 1.52x faster than A [1.31, 1.75], p=0.001'."""
    if math.isnan(r["ratio"]):
        return f"{b_name} vs {a_name}: no data"
    x = r["ratio"]
    ci = ("" if math.isnan(r["ratio_lo"]) else
          f" (B/A {x:.3g} [{r['ratio_lo']:.3g}, {r['ratio_hi']:.3g}])")
    p = "" if math.isnan(r["p_value"]) else f", p={r['p_value']:.2g}"
    if r["verdict"] == "faster":
        return f"{b_name} is {1 / x:.2f}x faster than {a_name}{ci}{p}"
    if r["verdict"] == "slower":
        return f"{b_name} is {x:.2f}x slower than {a_name}{ci}{p}"
    return f"{b_name} vs {a_name}: {NOT_SIGNIFICANT}{ci}{p}"
