"""The short end-of-run summary: seconds per epoch by phase, accuracies, and plain warnings."""

from __future__ import annotations

from typing import Any

import pandas as pd


def phase_seconds(phases: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Per phase: mean seconds per epoch (over epochs) and share of the step time, warm-up kept."""
    if phases.empty:
        return pd.DataFrame(columns=["phase", "s_per_epoch", "share"])
    per_epoch = phases.groupby(["epoch", "phase"]).wall_ns.sum().unstack(fill_value=0)
    s = per_epoch.mean() / 1e9
    if order:
        s = s.reindex([p for p in order if p in s.index])
    out = pd.DataFrame({"phase": s.index, "s_per_epoch": s.values})
    out["share"] = out.s_per_epoch / out.s_per_epoch.sum()
    return out


def summarise(rd, meta: dict[str, Any], epoch_rows: list[dict[str, Any]]) -> dict[str, Any]:
    from profkit.train import subnormal_note

    ph = phase_seconds(rd.read("phases"), meta.get("phases"))
    summary: dict[str, Any] = {
        "epochs_run": len(epoch_rows),
        "phase_s_per_epoch": dict(zip(ph.phase, ph.s_per_epoch.round(6), strict=True)),
        "phase_share": dict(zip(ph.phase, ph.share.round(4), strict=True)),
        "warnings": [],
    }
    if epoch_rows:
        last = epoch_rows[-1]
        summary.update({k: last.get(k) for k in ("val_accuracy", "test_accuracy", "train_loss",
                                                 "subnormal_fraction")})
        note = subnormal_note(max((r["subnormal_fraction"] or 0.0) for r in epoch_rows))
        if note:
            summary["warnings"].append(note)
    if meta.get("status") == "diverged":
        summary["warnings"].append("training loss became NaN/inf: the run stopped (diverged); "
                                   "try a lower --lr")
    if not meta.get("clean_timing", True):
        summary["warnings"].append("timings were taken under a heavy instrument: not clean")
    return summary


def format_summary(meta: dict[str, Any]) -> str:
    """Human-readable summary for the terminal."""
    s, cfg = meta.get("summary", {}), meta["config"]
    lines = [f"run {meta['run_id']}: {meta['status']}  ({cfg['method']}, {cfg['dataset']}, "
             f"{cfg['hidden_layers']}x{cfg['width']}, batch {cfg['batch_size']}, "
             f"{s.get('epochs_run', 0)} epoch(s), flush_denormal={cfg['flush_denormal']}, "
             f"optimizer {cfg['optimizer']}/{cfg['optimizer_impl']})"]
    shares = s.get("phase_share", {})
    total = sum(s.get("phase_s_per_epoch", {}).values())
    lines.append(f"  seconds per epoch by phase (total {total:.3f} s):")
    for ph, sec in s.get("phase_s_per_epoch", {}).items():
        lines.append(f"    {ph:<12} {sec:10.3f} s  {100 * shares.get(ph, 0):5.1f}%")
    for k in ("val_accuracy", "test_accuracy"):
        if s.get(k) is not None:
            lines.append(f"  {k.replace('_', ' ')}: {100 * s[k]:.2f}%")
    for w in meta.get("warnings", []):
        lines.append(f"  warning: {w}")
    lines.append(f"  results: {meta.get('path', '')}")
    return "\n".join(lines)
