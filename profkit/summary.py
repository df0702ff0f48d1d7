"""The short end-of-run summary: seconds by phase as measured and per epoch, accuracies, warnings.

A run capped by --max-steps measures part of an epoch; its per-epoch figure is extrapolated from
the mean steady-state (non-warm-up) step, as the report does, and both figures are labelled.
`diagnostic` time is not training time: it is reported apart, outside totals and shares.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from profkit.phases import DIAGNOSTIC

SUBNORMAL_WARN = 0.01  # a fraction of optimizer state above this slows Adam on x86 CPUs

DIVERGED = ("training diverged (non-finite loss or parameters, or loss > 1000 x its first "
            "steps'): the run stopped; try a lower --lr")
NOT_CLEAN = "timings were taken under a heavy instrument: not clean"


def phase_order(order: list[str] | None, present: set[str]) -> list[str]:
    """Training phases in the order the step runs them (run.json's `phases`), diagnostic apart."""
    head = [p for p in (order or []) if p in present and p != DIAGNOSTIC]
    return head + sorted(present - set(head) - {DIAGNOSTIC})


def epoch_phase_seconds(phases: pd.DataFrame, full_steps: int | None) -> pd.DataFrame:
    """Epochs x phases: seconds per full epoch; an epoch short of `full_steps` steps is
    extrapolated from its mean steady-state step (its mean step when all were warm-up)."""
    measured = phases.groupby(["epoch", "phase"]).wall_ns.sum().unstack(fill_value=0)
    steps = phases.groupby("epoch").step.nunique()
    steady_rows = phases[~phases.warmup.astype(bool)]
    steady = steady_rows.groupby(["epoch", "phase"]).wall_ns.sum().unstack(fill_value=0)
    steady = steady.reindex(index=measured.index, columns=measured.columns, fill_value=0)
    n_steady = steady_rows.groupby("epoch").step.nunique().reindex(measured.index, fill_value=0)
    per_step = measured.div(steps, axis=0)
    per_step[n_steady > 0] = steady.div(n_steady, axis=0)[n_steady > 0]
    short = steps < full_steps if full_steps else steps < 0
    out = measured.astype(float)
    out[short] = per_step[short] * full_steps
    return out / 1e9


def phase_summary(phases: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """Measured seconds over the run's steps and seconds per epoch, by phase, with shares."""
    if phases.empty:
        return {"steps_measured": 0, "phase_s_measured": {}, "phase_s_per_epoch": {},
                "phase_share": {}}
    full = _full_epoch_steps(meta)
    training = phases[phases.phase != DIAGNOSTIC]
    order = phase_order(meta.get("phases"), set(training.phase))
    measured = training.groupby("phase").wall_ns.sum().reindex(order) / 1e9
    per_epoch = epoch_phase_seconds(training, full)
    short = int((training.groupby("epoch").step.nunique() < (full or 0)).sum())
    per_epoch = per_epoch.mean().reindex(order)
    out = {"steps_measured": int(training.step.nunique()), "full_epoch_steps": full,
           "epochs_extrapolated": short,
           "phase_s_measured": _rounded(measured, 6),
           "phase_s_per_epoch": _rounded(per_epoch, 6),
           "phase_share": _rounded(per_epoch / per_epoch.sum(), 4)}
    diag = phases[phases.phase == DIAGNOSTIC]
    if not diag.empty:
        out["diagnostic_s_measured"] = round(float(diag.wall_ns.sum()) / 1e9, 6)
    return out


def _rounded(s: pd.Series, digits: int) -> dict[str, float]:
    return {str(k): round(float(v), digits) for k, v in s.items()}


def _full_epoch_steps(meta: dict[str, Any]) -> int | None:
    n = (meta.get("dataset") or {}).get("sizes", {}).get("train")
    b = (meta.get("config") or {}).get("batch_size")
    return math.ceil(n / b) if n and b else None


def subnormal_note(fraction: float | None) -> str | None:
    """The warning for a large subnormal fraction of the optimizer state, else None."""
    if fraction is None or fraction < SUBNORMAL_WARN:
        return None
    return (f"{100 * fraction:.1f}% of the optimizer state is subnormal floats: on x86 CPUs this "
            "slows the optimizer step several-fold. Compare with --flush-denormal.")


def summarise(rd, meta: dict[str, Any], epoch_rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"epochs_run": len(epoch_rows),
                               **phase_summary(rd.read("phases"), meta), "warnings": []}
    if epoch_rows:
        last = epoch_rows[-1]
        summary.update({k: last.get(k) for k in ("val_accuracy", "test_accuracy", "train_loss",
                                                 "subnormal_fraction")})
        note = subnormal_note(max((r["subnormal_fraction"] or 0.0) for r in epoch_rows))
        if note:
            summary["warnings"].append(note)
    if meta.get("status") == "diverged":
        reason = meta.get("status_reason")
        summary["warnings"].append(f"{DIVERGED} ({reason})" if reason else DIVERGED)
    if not meta.get("clean_timing", True):
        summary["warnings"].append(NOT_CLEAN)
    return summary


def _header(meta: dict[str, Any]) -> str:
    s, cfg = meta.get("summary", {}), meta["config"]
    return (f"run {meta['run_id']}: {meta['status']}  ({cfg['method']}, {cfg['dataset']}, "
            f"{cfg['hidden_layers']}x{cfg['width']}, batch {cfg['batch_size']}, "
            f"{s.get('epochs_run', 0)} epoch(s), flush_denormal={cfg['flush_denormal']}, "
            f"optimizer {cfg['optimizer']}/{cfg['optimizer_impl']}, "
            f"threads {meta.get('environment', {}).get('torch_threads', '?')})")


def _per_epoch_label(s: dict[str, Any]) -> str:
    full, short = s.get("full_epoch_steps"), s.get("epochs_extrapolated", 0)
    if short:
        return (f"per epoch, extrapolated to {full} steps from the mean steady-state step "
                f"({short} epoch(s) cut short)")
    return f"per epoch ({full} steps), mean over {s.get('epochs_run', 0)} epoch(s)"


def phase_lines(s: dict[str, Any], order: list[str] | None = None) -> list[str]:
    measured, per_epoch = s.get("phase_s_measured", {}), s.get("phase_s_per_epoch", {})
    shares = s.get("phase_share", {})
    lines = [f"  measured: {sum(measured.values()):.3f} s over {s.get('steps_measured', 0)} "
             "training steps",
             f"  {_per_epoch_label(s)}: {sum(per_epoch.values()):.3f} s",
             f"    {'phase':<12} {'measured s':>11} {'per epoch s':>12} {'share':>6}"]
    for ph in phase_order(order, set(per_epoch)):  # run.json stores its keys sorted
        sec = per_epoch[ph]
        lines.append(f"    {ph:<12} {measured.get(ph, 0):11.3f} {sec:12.3f} "
                     f"{100 * shares.get(ph, 0):5.1f}%")
    if "diagnostic_s_measured" in s:
        lines.append(f"    diagnostic {s['diagnostic_s_measured']:.3f} s measured, apart: not "
                     "training time, outside the totals and shares")
    return lines


def format_summary(meta: dict[str, Any]) -> str:
    """Human-readable summary for the terminal."""
    s = meta.get("summary", {})
    lines = [_header(meta), *phase_lines(s, meta.get("phases"))]
    for k in ("val_accuracy", "test_accuracy"):
        if s.get(k) is not None:
            lines.append(f"  {k.replace('_', ' ')}: {100 * s[k]:.2f}%")
    lines += [f"  note: {n}" for n in meta.get("notes", [])]
    lines += [f"  warning: {w}" for w in meta.get("warnings", [])]
    lines.append(f"  results: {meta.get('path', '')}")
    return "\n".join(lines)
