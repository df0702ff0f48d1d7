"""Verdicts for every claim of the registry: the rule of each claim, then, for a claim the
default runs do not reproduce, the same rule on the method's published variant ("explained"
when that reproduces it, with the variant's cause).

Also the qualitative rules: accuracy against depth (§9.1), the MC-approx/Standard time ratio
against depth, the order of memory growth (§9.4) and the §10.4 decision-tree leaves.
"""

from __future__ import annotations

import math

import pandas as pd
from profkit.analyses import accuracy, decision
from profkit.analyses.claim_rules import (
    IMPLEMENTATION,
    Outcome,
    accuracy_outcome,
    accuracy_sample,
    like,
    mean_interval,
    memory_outcome,
    memory_runs,
    missing,
    ratio_outcome,
    ratio_row,
    uncapped_final,
)
from profkit.analyses.claims import BATCH, BY_TITLE, Claim, Registry, load_registry
from profkit.analyses.computed import Computed, timing_runs, without_run_length
from profkit.analyses.labels import PAPER_EPOCHS, PAPER_WIDTH, method_title
from profkit.analyses.results import GROUP_KEYS, PUBLISHED

LEAF_KEYS = ("dataset", "method", "batch_size", "hidden_layers", "width")
DEPTH_DATASET = "MNIST"  # the paper's depth and memory studies are on MNIST
COLUMNS = ["id", "section", "statement", "paper", "measured", "epochs", "verdict", "cause",
           "variant", "anchor", "value", "lo", "hi", "config", "metric"]
VARIANT_RULES = {"accuracy": accuracy_outcome, "ratio": ratio_outcome,
                 "memory": memory_outcome}


def judge_claims(c: Computed, reg: Registry | None = None,
                 ids: list[str] | None = None) -> pd.DataFrame:
    """One row per claim (those in `ids` if given): the paper's value, the measured value
    with its interval, the epochs run, the verdict, its cause and the variant that
    explains it."""
    reg = reg or load_registry(published=c.published)
    claims = [cl for cl in reg.claims if ids is None or cl.id in ids]
    leaves = leaf_table(c, reg) if any(cl.rule == "leaf" for cl in claims) else None
    rows = [_row(cl, *_judge(c, reg, cl, leaves)) for cl in claims]
    return pd.DataFrame(rows, columns=COLUMNS)


def _judge(c: Computed, reg: Registry, cl: Claim,
           leaves: pd.DataFrame | None) -> tuple[Outcome, str]:
    if "unavailable" in cl.spec:
        return missing(f"not runnable here: dataset unavailable ({cl.spec['unavailable']})"), ""
    if cl.rule in VARIANT_RULES:
        out = VARIANT_RULES[cl.rule](c, reg, cl, False)
        if out.verdict not in ("not reproduced", "inconclusive"):
            return out, ""
        return _explain(c, reg, cl, out)
    if cl.rule == "leaf":
        return leaf(leaves, cl), ""
    return RULES[cl.rule](c, reg, cl), ""


def _explain(c: Computed, reg: Registry, cl: Claim, default: Outcome) -> tuple[Outcome, str]:
    var = reg.variants.get(cl.spec["method"])
    if var is None:
        return default, ""
    flag = f"--param {var['param']}=true"
    alt = VARIANT_RULES[cl.rule](c, reg, cl, True)
    if alt.verdict == "reproduced" and _moves(default, alt):
        default.verdict = "explained"
        default.cause = f"{var['cause']}; the variant measures {alt.measured}"
        return default, flag
    if alt.verdict == "reproduced":
        why = (f"the published variant ({flag}) reproduces it, {alt.measured}, but its interval "
               f"also holds the default's value: the difference is not shown")
    elif alt.verdict == "inconclusive":  # below the paper's value too, epochs still to go
        also = "also " if default.verdict == "inconclusive" else ""
        why = f"the published variant ({flag}) measures {alt.measured}: {also}inconclusive"
    elif alt.verdict == "not reproduced":
        either = " either" if default.verdict == "not reproduced" else ""
        why = f"the published variant ({flag}) does not reproduce it{either}: {alt.measured}"
    else:
        why = f"published variant not run ({flag})"
    default.cause = "; ".join(x for x in (default.cause, why) if x)
    return default, ""


def _moves(default: Outcome, alt: Outcome) -> bool:
    """The variant measurably moves the number: the default's value lies outside the variant's
    interval (its value itself when it has none). A variant whose interval holds both the
    paper's value and the default's explains nothing; it is only imprecise."""
    lo = alt.value if math.isnan(alt.lo) else alt.lo
    hi = alt.value if math.isnan(alt.hi) else alt.hi
    return not lo <= default.value <= hi


def _row(cl: Claim, out: Outcome, variant: str) -> dict:
    return {"id": cl.id, "section": cl.section, "statement": cl.statement,
            "paper": _paper_text(cl), "measured": out.measured, "epochs": out.epochs,
            "verdict": out.verdict, "cause": out.cause, "variant": variant,
            "anchor": cl.anchor, "value": out.value, "lo": out.lo, "hi": out.hi,
            "config": (f"{method_title(cl.spec['method'])} {cl.spec['setting']}"
                       if "method" in cl.spec and "setting" in cl.spec else ""),
            "metric": cl.spec.get("metric", "")}


def _paper_text(cl: Claim) -> str:
    s = cl.spec
    if "paper_ratio" in s:
        return f"{s['paper_ratio']:.2f}x"
    if "paper" in s:
        return f"{s['paper']:g}%" if s.get("unit") == "percent" else f"{s['paper']:g} MB"
    return ""


# --- qualitative rules ----------------------------------------------------------------------

def _acc(c: Computed, reg: Registry, method: str, batch: int, depth: int):
    """(mean, lo, hi, epochs run) of the test accuracy in %, or None without runs."""
    f = accuracy_sample(c, reg, DEPTH_DATASET, method, batch, depth)
    if f.empty:
        return None
    return (*mean_interval(f["test_accuracy"].to_numpy(dtype=float) * 100),
            int(f["epochs_run"].max()))


def depth_drop(c: Computed, reg: Registry, cl: Claim) -> Outcome:
    """Reproduced when the mean accuracy at `deep` layers is below the mean at `shallow`
    by more than the accuracy tolerance."""
    s, tol = cl.spec, reg.rules["accuracy_points"]
    a, b = (_acc(c, reg, s["method"], s["batch_size"], d) for d in (s["shallow"], s["deep"]))
    if a is None or b is None:
        return missing(f"needs uncapped like-for-like runs at {s['shallow']} and {s['deep']} "
                       "hidden layers")
    text = f"{a[0]:.1f}% at {s['shallow']}, {b[0]:.1f}% at {s['deep']} hidden layers"
    return Outcome("reproduced" if b[0] < a[0] - tol else "not reproduced", text,
                   value=b[0] - a[0])


def depth_floor(c: Computed, reg: Registry, cl: Claim) -> Outcome:
    """Reproduced when every depth run has a mean accuracy >= floor - tolerance; needs >= 3
    of the depths, one of them deep (> 4)."""
    s, tol = cl.spec, reg.rules["accuracy_points"]
    got = {d: a for d in s["depths"] if (a := _acc(c, reg, s["method"], s["batch_size"], d))}
    if len(got) < 3 or max(got) <= 4:
        return missing(f"needs uncapped like-for-like runs at >= 3 of {s['depths']} hidden "
                       f"layers, one deeper than 4 (has {sorted(got) or 'none'})")
    low = min(got, key=lambda d: got[d][0])
    text = f"lowest {got[low][0]:.1f}% at {low} of {len(got)} depths"
    epochs = max(a[3] for a in got.values())
    if got[low][0] >= s["floor"] - tol:
        return Outcome("reproduced", text, value=got[low][0])
    # as for a single accuracy: short of the floor after fewer epochs than the paper's says
    # nothing against it (accuracy_verdict)
    if epochs < PAPER_EPOCHS:
        return Outcome("inconclusive", text, f"{epochs} of {PAPER_EPOCHS}",
                       cause=f"below the floor after {epochs} of its {PAPER_EPOCHS} epochs",
                       value=got[low][0])
    return Outcome("not reproduced", text, value=got[low][0])


def depth_ratio(c: Computed, reg: Registry, cl: Claim) -> Outcome:
    """Per depth, compare.ratio of the method's total time to Standard's. Reproduced when
    some depth below `faster_below` is significantly faster, some depth above `slower_above`
    significantly slower, and no depth significantly contradicts its side."""
    s = cl.spec
    depths = sorted(set(like(c.phase_table, reg, DEPTH_DATASET, method=s["method"],
                             batch_size=s["batch_size"], phase="total")["hidden_layers"]))
    judged = {}
    for d in depths:
        r, _ = ratio_row(c, reg, DEPTH_DATASET, s["method"], s["batch_size"], int(d), "total")
        if r is not None:
            judged[int(d)] = r
    shallow = {d: r for d, r in judged.items() if d < s["faster_below"]}
    deep = {d: r for d, r in judged.items() if d > s["slower_above"]}
    if not shallow or not deep:
        return missing("needs >= 3 repeats of the method and Standard at a depth below "
                       f"{s['faster_below']} and one above {s['slower_above']}")
    v = {d: r["verdict"] for d, r in judged.items()}
    contra = ([d for d in shallow if v[d] == "slower"] + [d for d in deep if v[d] == "faster"])
    ok = (not contra and any(v[d] == "faster" for d in shallow)
          and any(v[d] == "slower" for d in deep))
    text = "; ".join(f"{d}: {r['ratio']:.2f}x [{r['ratio_lo']:.2f}, {r['ratio_hi']:.2f}]"
                     for d, r in sorted(judged.items()))
    return Outcome("reproduced" if ok else "not reproduced", text)


def memory_order(c: Computed, reg: Registry, cl: Claim) -> Outcome:
    """Reproduced when the median growths are in the claimed order (a list entry: the largest
    of its methods must be below the previous rank's growth)."""
    pub = c.published[(c.published["table"] == "§9.4") & (c.published["metric"] == "memory_growth")]
    batch = {BY_TITLE[m]: BATCH[s] for m, s in zip(pub["method"], pub["setting"], strict=True)}
    ranks = [r if isinstance(r, list) else [r] for r in cl.spec["order"]]
    med = {}
    for m in [m for r in ranks for m in r]:
        g = memory_runs(c, reg, DEPTH_DATASET, m, batch.get(m, 1), 3)
        if g.empty:
            return missing(f"no like-for-like memory-probe runs of {method_title(m)}")
        med[m] = float(g["growth_mb"].median())
    tops = [max(med[m] for m in r) for r in ranks]
    lows = [min(med[m] for m in r) for r in ranks]
    ok = all(lows[i] > tops[i + 1] for i in range(len(ranks) - 1))
    text = ", ".join(f"{method_title(m)} {v:.1f} MB" for m, v in med.items())
    return Outcome("reproduced" if ok else "not reproduced", text)


def leaf_table(c: Computed, reg: Registry) -> pd.DataFrame:
    """decision.leaves from like-for-like runs of each runnable dataset: accuracy from the
    uncapped runs, seconds per epoch from the paper implementation's timings. The two often
    come from different runs (whole-epoch accuracy runs on one optimizer kernel, capped
    timing runs on another), so they are joined on dataset, method, batch size, depth and
    width only (the other configuration keys blanked), timings as the median of the capped
    timing runs where every candidate compared has them, else of the whole-epoch runs
    (computed.timing_runs)."""
    ds = list(reg.runnable.values())
    # workers stays: decision.candidates keeps one-process runs (--workers P runs decide
    # the parallel leaf)
    coarse = {k: "" for k in GROUP_KEYS if k not in (*LEAF_KEYS, "workers", "variant")}

    def keep(f: pd.DataFrame) -> pd.DataFrame:
        f = f[f["dataset"].isin(ds) & (f["width"] == PAPER_WIDTH)
              & ~f["variant"].astype(str).str.startswith(PUBLISHED)]
        return f.assign(**coarse, variant=f["variant"].map(without_run_length))

    acc = accuracy.accuracy_table(keep(uncapped_final(c)))
    t = c.phase_table
    t = keep(t[(t["phase"] == "total") & (t["implementation"] == IMPLEMENTATION)])
    t = timing_runs(t, [*LEAF_KEYS, "workers", "variant"], acc)  # as the report's verdicts do
    t = t.groupby([*GROUP_KEYS, "phase"], as_index=False)["s_per_epoch"].median()
    judged = decision.judge(decision.candidates(acc, t), c.tolerance_pct)
    sc = c.scaling  # the parallel leaf: like-for-like --workers P runs
    if not sc.empty:
        sc = sc[sc["dataset"].isin(ds) & (sc["width"] == PAPER_WIDTH)
                & ~sc["variant"].astype(str).str.startswith(PUBLISHED)]
    return decision.leaves(judged, ds, sc, c.tolerance_pct)


def leaf(leaves: pd.DataFrame, cl: Claim) -> Outcome:
    """The §10.4 rule (decision.judge, the report's tolerance) per runnable dataset:
    reproduced when the leaf agrees with the paper on every dataset that can tell, not
    reproduced when it disagrees on one; missing when none can tell."""
    setting, depth = cl.spec["leaf"]
    lv = leaves[(leaves["setting"] == setting) & (leaves["depth"] == depth)]
    told = lv[lv["agrees"].notna()]
    if told.empty:
        return missing("no like-for-like runs in this leaf (with Standard, for an open problem)")
    text = "; ".join(f"{r.dataset}: {r.winner} ({r.evidence})" for r in told.itertuples())
    ok = all(bool(a) for a in told["agrees"])
    return Outcome("reproduced" if ok else "not reproduced", text)


RULES = {"depth_drop": depth_drop, "depth_floor": depth_floor, "depth_ratio": depth_ratio,
         "memory_order": memory_order}
