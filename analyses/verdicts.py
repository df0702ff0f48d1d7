"""Verdicts: per dataset, setting and depth band, who is fastest, who is most accurate, which
method the decision rule picks, and whether that agrees with the paper (the report's first
screen)."""

from __future__ import annotations

import pandas as pd
from profkit.analyses.labels import REFERENCE, method_title, setting_label

COLUMNS = ["dataset", "setting", "depth", "fastest", "fastest_method", "fastest_s", "vs_standard",
           "most_accurate", "best_pct", "winner", "paper", "agrees"]


def verdicts(judged: pd.DataFrame, leaves: pd.DataFrame) -> pd.DataFrame:
    """One row per leaf that has runs: fastest and most accurate candidate with their numbers,
    the decision-rule winner, the paper's answer and `agrees` (True/False/None)."""
    rows = []
    order = {"SGD": 0, "mini-batch": 1, "shallow": 0, "deep": 1}  # S before M, shallow first
    lv = leaves.dropna(subset=["winner"]).sort_values(
        ["dataset", "setting", "depth"], key=lambda s: s.map(order) if s.name != "dataset" else s)
    for r in lv.itertuples():
        g = judged[(judged["dataset"] == r.dataset) & (judged["setting"] == r.setting)
                   & (judged["depth"] == r.depth)]
        if g.empty:  # the parallel leaf: decided by multi-worker throughput, not candidates
            continue
        rows.append(_row(g, r))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(g: pd.DataFrame, leaf) -> dict:
    timed = g.dropna(subset=["s_per_epoch"])
    fast = timed.loc[timed["s_per_epoch"].idxmin()] if len(timed) else None
    best = g.loc[g["test_pct"].idxmax()] if g["test_pct"].notna().any() else None
    std = timed[timed["method"] == REFERENCE]["s_per_epoch"]
    # one batch size and variant in the leaf: the method names it; several: the full label
    mixed = g["batch_size"].nunique() > 1 or ("variant" in g and g["variant"].nunique() > 1)

    def title(r) -> str:
        return r["candidate"] if mixed else method_title(r["method"])

    return {"dataset": leaf.dataset, "setting": setting_text(leaf.setting, g),
            "depth": depth_text(leaf.depth, g),
            "fastest": None if fast is None else title(fast),
            "fastest_method": None if fast is None else fast["method"],
            "fastest_s": None if fast is None else fast["s_per_epoch"],
            "vs_standard": (std.min() / fast["s_per_epoch"]
                            if fast is not None and len(std) else None),
            "most_accurate": None if best is None else title(best),
            "best_pct": None if best is None else best["test_pct"],
            "winner": title(g[g["winner"]].iloc[0]), "paper": leaf.paper,
            "agrees": leaf.agrees}


def setting_text(leaf_setting: str, g: pd.DataFrame) -> str:
    """'S (batch 1)', 'M (batch 20)' or 'mini-batch (batch 20, 64)'."""
    sizes = sorted({int(b) for b in g["batch_size"]})
    if len(sizes) == 1 and sizes[0] in (1, 20):
        return setting_label(sizes[0])
    return f"{leaf_setting} (batch {', '.join(map(str, sizes))})"


def depth_text(depth: str, g: pd.DataFrame) -> str:
    layers = sorted({int(d) for s in g["depths"] for d in str(s).split(",") if d})
    return f"{depth} ({', '.join(map(str, layers))} hidden)"


def agree_text(v) -> str:
    """yes / no / cannot tell, for a leaf's `agrees` (a bool, numpy bool, None or NA)."""
    if v is None or pd.isna(v):
        return "cannot tell"
    return "yes" if bool(v) else "no"
