"""Findings: the few sentences a reader needs first, generated from the computed analyses."""

from __future__ import annotations

import pandas as pd
from profkit.analyses import accuracy, compare
from profkit.analyses.labels import PAPER_METHODS, REFERENCE, method_title, run_label


def findings(c) -> list[str]:
    out = [_coverage(c.runs)]
    out += _speed(c.phase_table) + _phase_shares(c.phase_table) + _accuracy(c.acc_table)
    out += _decision(c.leaves) + [_paper(c.comparison), _memory(c.growth), _warnings(c.warnings)]
    return [s for s in out if s]


def _coverage(runs: pd.DataFrame) -> str:
    have = [m for m in PAPER_METHODS if m in set(runs["method"])]
    miss = [method_title(m) for m in PAPER_METHODS if m not in have]
    s = (f"{len(runs)} runs of {len(have)} of the paper's 5 methods "
         f"({', '.join(method_title(m) for m in have) or 'none'}).")
    return s + (f" Not run (no results): {', '.join(miss)}." if miss else "")


def _speed(table: pd.DataFrame) -> list[str]:
    t = table[(table["phase"] == "total")]
    out = []
    for (d, b, h), g in t.groupby(["dataset", "batch_size", "hidden_layers"]):
        if len(g) < 2:
            continue
        g = g.sort_values("s_per_epoch")
        f, second = g.iloc[0], g.iloc[1]
        out.append(f"Fastest at batch {b}, {h} hidden layers on {d}: {_label(f, g)}, "
                   f"{f['s_per_epoch']:.3g} s/epoch; "
                   + _versus(f, second, _label(second, g))
                   + ("" if second["method"] == REFERENCE else _vs_standard(f)) + ".")
    return out[:6]


QUALIFIERS = {"implementation": "{} implementation", "optimizer_impl": "{} optimizer",
              "variant": "{}"}


def _label(r: pd.Series, g: pd.DataFrame) -> str:
    """The run label, with the configuration keys that differ within its group (a tuned run
    beside paper ones, say), so that a sentence never passes one off as the other."""
    tags = [fmt.format(r[k] or "default") for k, fmt in QUALIFIERS.items()
            if k in g and g[k].nunique(dropna=False) > 1]
    return run_label(r["method"], r["batch_size"]) + (f" [{', '.join(tags)}]" if tags else "")


def _versus(f: pd.Series, second: pd.Series, second_name: str) -> str:
    """The fastest against the next fastest, with the test's verdict."""
    r = compare.ratio(second["sample"], f["sample"])
    p = "" if pd.isna(r["p_value"]) else f", p={r['p_value']:.2g}"
    if r["verdict"] == "faster":
        return f"faster than the next, {second_name} ({1 / r['ratio']:.2f}x{p})"
    why = p[2:] or "too few values to test"
    return f"{compare.NOT_SIGNIFICANT}ly faster than the next, {second_name} ({why})"


def _vs_standard(f: pd.Series) -> str:
    if f["method"] == REFERENCE or pd.isna(f.get("ratio")):
        return ""
    if f["verdict"] == "faster":
        return f"; {1 / f['ratio']:.2f}x faster than Standard (p={f['p_value']:.2g})"
    return (f"; {f['ratio']:.2f}x Standard's time, {compare.NOT_SIGNIFICANT} "
            "(cannot tell it from Standard)")


def _phase_shares(table: pd.DataFrame) -> list[str]:
    t = table[~table["phase"].isin(["total"])].dropna(subset=["share"])
    if t.empty:
        return []
    top = t.loc[t.groupby(["method", "batch_size"])["share"].idxmax()]
    parts = [f"{run_label(r.method, r.batch_size)}: {r.phase} {100 * r.share:.0f}%"
             for r in top.itertuples()]
    other = t[t["phase"] == "other"]["share"].max()
    s = "Largest phase per method (share of step time): " + "; ".join(parts) + "."
    if pd.notna(other):
        s += f" Unattributed time (`other`) is at most {100 * other:.1f}% of a step."
    return [s]


def _accuracy(acc: pd.DataFrame) -> list[str]:
    out = []
    acc, _ = accuracy.whole_epoch_runs(acc)  # a capped run's "after 1 epoch" would be untrue
    for d, g in acc.dropna(subset=["test_pct"]).groupby("dataset"):
        b = g.loc[g["test_pct"].idxmax()]
        out.append(f"Most accurate on {d}: {run_label(b['method'], b['batch_size'])} with "
                   f"{int(b['hidden_layers'])} hidden layers, {b['test_pct']:.1f}% test "
                   f"accuracy after {int(b['epochs_run'])} epoch(s).")
    return out


def _decision(leaves: pd.DataFrame) -> list[str]:
    lv = leaves.dropna(subset=["winner"])
    if lv.empty:
        return ["Decision tree: no leaf has runs."]
    parts = [f"{r.setting}/{r.depth} ({r.dataset}): {r.winner}"
             + {True: " (agrees with the paper)", False: " (paper: " + r.paper + ")"}.get(
                 r.agrees, "") for r in lv.itertuples()]
    return ["Decision-tree winners: " + "; ".join(parts) + "."]


def _paper(cmp: pd.DataFrame) -> str:
    if cmp.empty:
        return "No measured value has a published counterpart."
    n_ok = int(cmp["comparable"].sum())
    return (f"{len(cmp)} measured values have a published counterpart; {n_ok} are like for "
            f"like (see the comparison section for why the others are not).")


def _memory(growth: pd.DataFrame) -> str:
    g = growth.dropna(subset=["growth_mb"])
    if g.empty:
        return "Memory growth: not measurable from these runs (no memory-probe samples)."
    r = g.loc[g["growth_mb"].idxmax()]
    return (f"Largest RSS growth: {run_label(r['method'], r['batch_size'])} "
            f"+{r['growth_mb']:.1f} MB over training.")


def _warnings(w: pd.DataFrame) -> str:
    if w.empty:
        return "No warnings."
    kinds = ", ".join(f"{n} {k}" for k, n in w["kind"].value_counts().items())
    return f"Warnings: {kinds} (see Warnings)."
