"""Paper comparison: measured values beside the paper's published ones, and protocol differences.

Rows match on (paper dataset, method, setting S = batch 1 / M = batch 20, hidden layers,
metric). Each measured row says why it is not like for like (dataset, width, epochs, step
caps, hardware), so a reader does not compare numbers that cannot be compared.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from profkit.analyses.labels import (
    PAPER_EPOCHS,
    PAPER_HARDWARE,
    PAPER_WIDTH,
    method_title,
    paper_dataset,
    setting,
)

KEYS = ["dataset", "method", "setting", "hidden_layers", "metric"]
PHASE_METRICS = {"total": "epoch_total", "forward": "feedforward", "backward": "backpropagation"}
TIMING = set(PHASE_METRICS.values())
PUBLISHED = Path(__file__).parent / "data" / "published_results.csv"


def load_published() -> pd.DataFrame:
    """The paper's published numbers (analyses/data/published_results.csv)."""
    pub = pd.read_csv(PUBLISHED, dtype={"setting": "string", "dataset": "string"})
    pub["hidden_layers"] = pub["hidden_layers"].astype("Int64")
    return pub


def measured_metrics(acc_table: pd.DataFrame, phase_table: pd.DataFrame,
                     growth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Measured values in the published table's long shape, with profkit's keys kept."""
    acc = acc_table.assign(metric="test_accuracy", value=acc_table["test_pct"], unit="percent",
                           extrapolated=False)
    ph = phase_table[phase_table["phase"].isin(list(PHASE_METRICS))]
    ph = ph.assign(metric=ph["phase"].map(PHASE_METRICS), value=ph["s_per_epoch"], unit="s",
                   epochs_run=pd.NA)
    parts = [acc, ph]
    if growth is not None and len(growth):
        parts.append(growth.assign(metric="memory_growth", value=growth["growth_mb"], unit="MB",
                                   extrapolated=False, epochs_run=pd.NA))
    cols = ["dataset", "method", "batch_size", "hidden_layers", "width", "variant", "metric",
            "value", "unit", "epochs_run", "extrapolated"]
    m = pd.concat([p[cols] for p in parts], ignore_index=True)
    m = m.rename(columns={"dataset": "profkit_dataset", "method": "profkit_method"})
    m["dataset"] = [paper_dataset(d)[0] for d in m["profkit_dataset"]]
    m["method"] = m["profkit_method"].map(method_title)
    m["setting"] = m["batch_size"].map(setting)
    m["differences"] = [_differences(r) for r in m.itertuples()]
    return m


def _differences(r) -> str:
    """Why this measured value is not like for like with the paper's ('' when it is)."""
    out = []
    why = paper_dataset(r.profkit_dataset)[1]
    if why:
        out.append(why)
    if r.width != PAPER_WIDTH:
        out.append(f"width {r.width} (paper {PAPER_WIDTH})")
    if r.metric == "test_accuracy" and pd.notna(r.epochs_run) and r.epochs_run < PAPER_EPOCHS:
        out.append(f"{int(r.epochs_run)} epoch(s) (paper {PAPER_EPOCHS})")
    if r.metric in TIMING:
        out.append("different CPU: compare ratios between methods, not seconds")
        if r.extrapolated:
            out.append("epoch time extrapolated from a step-capped run")
    return "; ".join(out)


def compare(measured: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Measured rows that have a published counterpart, paper value beside measured value."""
    pub = published.rename(columns={"value": "paper", "unit": "paper_unit", "note": "paper_note"})
    pub = pub.drop(columns=["source"])
    m = measured.dropna(subset=["dataset"]).copy()
    m["hidden_layers"] = m["hidden_layers"].astype("Int64")
    out = m.merge(pub, on=KEYS, how="inner")
    out = out.rename(columns={"value": "measured"})
    out["comparable"] = out["differences"] == ""
    out["diff"] = out["measured"] - out["paper"]
    return out.sort_values(["table", "dataset", "metric", "method", "setting"])


def unmatched_tables(published: pd.DataFrame, comparison: pd.DataFrame) -> list[str]:
    """The paper's tables (and sections) that no measured row matched."""
    have = set(comparison["table"]) if len(comparison) else set()
    return [t for t in dict.fromkeys(published["table"]) if t not in have]


def protocol_differences(runs: pd.DataFrame, env: pd.DataFrame) -> list[str]:
    """Plain sentences: how this results set's protocol differs from the paper's."""
    out = [_batch_note(runs), _epoch_note(runs), _width_note(runs), _hardware_note(env)]
    for d in sorted(runs["dataset"].unique()):
        why = paper_dataset(d)[1]
        if why:
            out.append(f"Dataset {d}: {why}.")
    if runs["flush_denormal"].astype(bool).any():
        out.append("Some runs flush subnormal floats to zero; the paper did not.")
    return [s for s in out if s]


def _batch_note(runs: pd.DataFrame) -> str:
    sizes = ", ".join(str(b) for b in sorted(runs["batch_size"].unique()))
    return (f"Batch sizes run: {sizes}. The paper: 1 (S) for Standard, Dropout, "
            "Adaptive-Dropout and ALSH-approx; 20 (M) for MC-approx (and MC-approxS at 1).")


def _epoch_note(runs: pd.DataFrame) -> str:
    ep = runs["epochs_done"].dropna()
    caps = runs["max_steps"].dropna() if "max_steps" in runs else pd.Series([], dtype=float)
    s = (f"Epochs run: {int(ep.min())}-{int(ep.max())} (paper: {PAPER_EPOCHS})."
         if len(ep) else "")
    if len(caps):
        s += (f" {len(caps)} of {len(runs)} runs were capped at "
              f"{int(caps.min())}-{int(caps.max())} training steps.")
    return s.strip()


def _width_note(runs: pd.DataFrame) -> str:
    w = sorted(runs["width"].unique())
    if w == [PAPER_WIDTH]:
        return ""
    return f"Hidden width: {', '.join(map(str, w))} units (paper: {PAPER_WIDTH})."


def _hardware_note(env: pd.DataFrame) -> str:
    if env.empty:
        return f"Paper hardware: {PAPER_HARDWARE}."
    cpu = ", ".join(sorted(env["cpu_model"].dropna().astype(str).unique())) or "unknown CPU"
    return (f"Hardware: {cpu} (paper: {PAPER_HARDWARE}); seconds are not comparable across "
            "machines, ratios between methods are.")
