"""The verdict rules of the paper's claims (docs/reproduction.md, "Claims and verdict rules").

Each rule takes the claim, the Computed bundle and the registry, and returns an Outcome. Only
like-for-like measurements count: the paper's dataset itself (not a subset), width 1000, the
claim's depth and batch size, the paper implementation, and (for accuracy) runs not capped
by --max-steps. A claim the default runs do not reproduce is tried again, by the same rule,
on the method's published variant (variant label PUBLISHED): "explained" when that
reproduces it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from profkit.analyses import compare
from profkit.analyses.claims import Claim, Registry
from profkit.analyses.computed import Computed
from profkit.analyses.labels import PAPER_EPOCHS, PAPER_WIDTH, REFERENCE, method_title
from profkit.analyses.results import PUBLISHED
from scipy import stats as st

IMPLEMENTATION = "paper"  # the like-for-like implementation (docs/implementations.md)
N_CLASSES = 10  # every runnable dataset of the paper (MNIST, Fashion-MNIST) has 10 classes
CHANCE_FACTOR = 1.5  # "at chance": at most 1.5 x 1/classes (15%), far below any learnt model


@dataclass
class Outcome:
    verdict: str
    measured: str = ""  # the measured value with its interval, as text
    epochs: str = ""
    cause: str = ""
    value: float = math.nan
    lo: float = math.nan
    hi: float = math.nan


def missing(why: str) -> Outcome:
    return Outcome("missing", cause=why)


def _published(frame: pd.DataFrame, yes: bool) -> pd.Series:
    pub = frame["variant"].astype(str).str.startswith(PUBLISHED)
    return pub if yes else ~pub


def like(frame: pd.DataFrame, reg: Registry, claim_ds: str, published: bool = False,
         implementation: str = IMPLEMENTATION, **keys) -> pd.DataFrame:
    """Rows of `frame` measured like for like with the paper for one claim (`implementation`
    other than the paper's only to show the tuned one beside it, never for a verdict)."""
    ds = reg.runnable.get(claim_ds)
    m = (frame["dataset"] == ds) & (frame["width"] == PAPER_WIDTH) & _published(frame, published)
    if "implementation" in frame:
        m &= frame["implementation"] == implementation
    for k, v in keys.items():
        m &= frame[k] == v
    return frame[m]


def need(claim: Claim, reg: Registry) -> str:
    s = claim.spec
    ds = reg.runnable.get(s.get("dataset", ""), "?")
    return (f"no like-for-like runs ({ds}, width {PAPER_WIDTH}, {s.get('hidden_layers', 3)} "
            f"hidden, batch {s.get('batch_size', '?')}, {IMPLEMENTATION} implementation)")


# --- accuracy -------------------------------------------------------------------------------

def uncapped_final(c: Computed) -> pd.DataFrame:
    f = c.final[c.final["test_accuracy"].notna()]
    return f[f["max_steps"].isna()] if "max_steps" in f else f


def accuracy_sample(c: Computed, reg: Registry, ds: str, method: str, batch: int, depth: int,
                    published: bool = False) -> pd.DataFrame:
    """Final test accuracies (%) of the like-for-like, uncapped runs; the variant with the
    most runs when several (e.g. two learning rates) match."""
    f = like(uncapped_final(c), reg, ds, published, method=method, batch_size=batch,
             hidden_layers=depth)
    if f.empty:
        return f
    top = f["variant"].value_counts().index[0]
    return f[f["variant"] == top]


def mean_interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and its 95% t interval over repeats (the mean itself for one run)."""
    m = float(x.mean())
    if len(x) < 2:
        return m, m, m
    h = float(st.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - h, m + h


def _epochs_text(f: pd.DataFrame) -> str:
    lo, hi = int(f["epochs_run"].min()), int(f["epochs_run"].max())
    return f"{lo if lo == hi else f'{lo}-{hi}'} of {PAPER_EPOCHS}"


def accuracy_outcome(c: Computed, reg: Registry, claim: Claim, published: bool) -> Outcome:
    s = claim.spec
    f = accuracy_sample(c, reg, s["dataset"], s["method"], s["batch_size"],
                        s["hidden_layers"], published)
    if f.empty:
        capped = like(c.final, reg, s["dataset"], published, method=s["method"],
                      batch_size=s["batch_size"], hidden_layers=s["hidden_layers"])
        return missing("only step-capped runs (accuracy needs whole epochs)" if len(capped)
                       else need(claim, reg))
    m, lo, hi = mean_interval(f["test_accuracy"].to_numpy(dtype=float) * 100)
    tol = reg.rules["accuracy_points"]
    text = f"{m:.2f}%" + (f" [{lo:.2f}, {hi:.2f}]" if len(f) > 1 else " (1 run)")
    epochs = int(f["epochs_run"].max())
    verdict = accuracy_verdict(s["paper"], lo, hi, tol, epochs)
    why = (f"below the paper's value after {epochs} of its {PAPER_EPOCHS} epochs"
           if verdict == "inconclusive" else "")
    if hi <= CHANCE_FACTOR * 100 / N_CLASSES:  # said, not judged: the rule is the rule
        why = "; ".join(x for x in (why, "at chance level: these runs did not learn") if x)
    return Outcome(verdict, text, _epochs_text(f), cause=why, value=m, lo=lo, hi=hi)


def accuracy_verdict(paper: float, lo: float, hi: float, tol: float, epochs: int) -> str:
    """Reproduced when the paper's value lies within `tol` points of [lo, hi]. Below that band
    after fewer epochs than the paper's, "inconclusive": a shorter run that has not yet reached
    the paper's final accuracy says nothing against it (training had epochs left to go). Above
    the band is "not reproduced" at any epoch count: the paper reports less than this code
    reaches even with fewer epochs."""
    if lo - tol <= paper <= hi + tol:
        return "reproduced"
    if paper > hi + tol and epochs < PAPER_EPOCHS:
        return "inconclusive"
    return "not reproduced"


# --- runtime ratios -------------------------------------------------------------------------

def ratio_row(c: Computed, reg: Registry, ds: str, method: str, batch: int, depth: int,
              phase: str, published: bool = False,
              implementation: str = IMPLEMENTATION) -> tuple[dict | None, str]:
    """compare.ratio of `method` to Standard (same dataset, batch, depth, width and
    implementation; the published Standard for a published method when it was run) and
    whether it could be judged ('' or the reason it is missing)."""
    t = c.phase_table
    sel = dict(batch_size=batch, hidden_layers=depth, phase=phase, implementation=implementation)
    rows = like(t, reg, ds, published, method=method, **sel)
    if rows.empty:
        return None, f"no like-for-like runs of {method_title(method)}"
    r = rows.sort_values("n_runs", kind="stable").iloc[-1]
    # Standard on the same optimizer kernel and flushing (results.MATCH_KEYS), the published
    # Standard for a published method when it was run
    same = dict(sel, optimizer_impl=r["optimizer_impl"], flush_denormal=r["flush_denormal"])
    ref = like(t, reg, ds, True, method=REFERENCE, **same) if published else rows.iloc[0:0]
    ref = ref if len(ref) else like(t, reg, ds, False, method=REFERENCE, **same)
    if ref.empty:
        return None, "no like-for-like runs of Standard"
    rf = ref.sort_values("n_runs", kind="stable").iloc[-1]
    n = reg.rules["min_repeats"]
    if min(r["n_runs"], rf["n_runs"]) < n:
        return None, (f"too few repeats: {int(r['n_runs'])} of {method_title(method)}, "
                      f"{int(rf['n_runs'])} of Standard (needs {n:g} each)")
    out = compare.ratio(rf["sample"], r["sample"])
    out["extrapolated"] = bool(r["extrapolated"] or rf["extrapolated"])
    return out, ""


def ratio_agrees(paper_ratio: float, r: dict) -> bool:
    """The paper's ratio lies in the measured interval, or both are on the same side of 1
    with the measured ratio significant (its interval excludes 1)."""
    lo, hi = r["ratio_lo"], r["ratio_hi"]
    if math.isnan(lo) or math.isnan(hi):
        return False
    return lo <= paper_ratio <= hi or (lo > 1 and paper_ratio > 1) or (hi < 1 and paper_ratio < 1)


def ratio_outcome(c: Computed, reg: Registry, claim: Claim, published: bool) -> Outcome:
    s = claim.spec
    r, why = ratio_row(c, reg, s["dataset"], s["method"], s["batch_size"], s["hidden_layers"],
                       s["phase"], published)
    if r is None:
        return missing(why if why.startswith("too few") else need(claim, reg))
    text = f"{r['ratio']:.2f}x [{r['ratio_lo']:.2f}, {r['ratio_hi']:.2f}]"
    if r["extrapolated"]:
        text += ", epoch extrapolated from capped runs"
    ok = ratio_agrees(s["paper_ratio"], r)
    return Outcome("reproduced" if ok else "not reproduced", text, value=r["ratio"],
                   lo=r["ratio_lo"], hi=r["ratio_hi"])


# --- memory ---------------------------------------------------------------------------------

def memory_runs(c: Computed, reg: Registry, ds: str, method: str, batch: int, depth: int,
                published: bool = False) -> pd.DataFrame:
    g = c.growth[c.growth["growth_mb"].notna()
                 & c.growth["source"].astype(str).str.startswith("memory probe")]
    return like(g, reg, ds, published, method=method, batch_size=batch, hidden_layers=depth)


def memory_outcome(c: Computed, reg: Registry, claim: Claim, published: bool) -> Outcome:
    s = claim.spec
    g = memory_runs(c, reg, s["dataset"], s["method"], s["batch_size"], s["hidden_layers"],
                    published)
    if g.empty:
        return missing(need(claim, reg)[:-1] + ", memory probe on)")
    grown, ep = float(g["growth_mb"].median()), float(g["epochs_run"].median())
    expect = s["paper"] * ep / PAPER_EPOCHS
    f = reg.rules["memory_factor"]
    ok = grown > 0 and 1 / f <= grown / expect <= f
    text = (f"{grown:.1f} MB (paper scaled to {ep:g} epochs: {expect:.1f} MB; "
            f"{len(g)} run(s))")
    return Outcome("reproduced" if ok else "not reproduced", text, _epochs_text(g), value=grown)
