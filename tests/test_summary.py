"""The end-of-run summary: measured vs per-epoch seconds, step order, diagnostic apart, notes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from profkit.cli import main as cli
from profkit.summary import format_summary, phase_summary

ORDER = ["data", "lsh_query", "forward", "diagnostic", "other"]
NS = {"data": 1_000, "lsh_query": 2_000, "forward": 3_000, "diagnostic": 50_000, "other": 500}


def _phases(epoch: int, steps: range, warmup: int, warm_factor: int = 10) -> pd.DataFrame:
    """Every phase of every step, warm-up steps `warm_factor` times slower."""
    rows = [{"epoch": epoch, "step": s, "phase": p,
             "wall_ns": ns * (warm_factor if s < warmup else 1), "warmup": s < warmup}
            for s in steps for p, ns in NS.items()]
    return pd.DataFrame(rows)


def _meta(train: int, batch: int) -> dict:
    return {"phases": ORDER, "dataset": {"sizes": {"train": train}},
            "config": {"batch_size": batch}}


def test_a_capped_epoch_is_measured_and_extrapolated_from_steady_steps():
    ph = _phases(0, range(10), warmup=2)  # 10 of 40 steps, 2 warm-up
    s = phase_summary(ph, _meta(train=800, batch=20))
    assert s["steps_measured"] == 10 and s["full_epoch_steps"] == 40
    assert s["epochs_extrapolated"] == 1
    # measured: exact sums, warm-up included
    assert s["phase_s_measured"]["forward"] == pytest.approx((2 * 10 + 8) * 3_000 / 1e9)
    # per epoch: the steady step (1x) times the full epoch's 40 steps
    assert s["phase_s_per_epoch"]["forward"] == pytest.approx(40 * 3_000 / 1e9)
    assert list(s["phase_s_per_epoch"]) == ["data", "lsh_query", "forward", "other"]


def test_diagnostic_is_apart_from_totals_and_shares():
    s = phase_summary(_phases(0, range(10), warmup=0), _meta(train=200, batch=20))
    assert "diagnostic" not in s["phase_s_per_epoch"] and "diagnostic" not in s["phase_share"]
    assert sum(s["phase_share"].values()) == pytest.approx(1.0, abs=1e-3)
    assert s["phase_share"]["forward"] == pytest.approx(3_000 / 6_500, abs=1e-4)
    assert s["diagnostic_s_measured"] == pytest.approx(10 * 50_000 / 1e9)


def test_full_epochs_are_not_extrapolated_and_average_over_epochs():
    ph = pd.concat([_phases(0, range(10), warmup=2), _phases(1, range(10, 20), warmup=2)])
    s = phase_summary(ph, _meta(train=200, batch=20))  # 10 steps: every epoch complete
    assert s["epochs_extrapolated"] == 0
    per_epoch_0 = (2 * 10 + 8) * 3_000 / 1e9  # warm-up steps are part of epoch 0's time
    per_epoch_1 = 10 * 3_000 / 1e9
    assert s["phase_s_per_epoch"]["forward"] == pytest.approx((per_epoch_0 + per_epoch_1) / 2)


def test_format_labels_both_figures_and_tells_notes_from_warnings():
    ph = _phases(0, range(10), warmup=2)
    meta = {**_meta(train=800, batch=20), "run_id": "x", "status": "complete", "path": "p",
            "config": {"method": "alsh-approx", "dataset": "d", "hidden_layers": 1,
                       "width": 8, "batch_size": 20, "flush_denormal": False,
                       "optimizer": "adam", "optimizer_impl": "default"},
            "summary": {"epochs_run": 1, **phase_summary(ph, _meta(800, 20))},
            "notes": ["py-spy: profile written"], "warnings": ["perf: not counted"]}
    # as run.json stores it: keys sorted
    meta = json.loads(json.dumps(meta, sort_keys=True))
    text = format_summary(meta)
    assert "measured: " in text and "over 10 training steps" in text
    assert "per epoch, extrapolated to 40 steps from the mean steady-state step" in text
    assert "note: py-spy: profile written" in text and "warning: py-spy" not in text
    assert "warning: perf: not counted" in text
    rows = [ln.split()[0] for ln in text.splitlines() if ln.startswith("    ")]
    assert rows[1:5] == ["data", "lsh_query", "forward", "other"]
    assert rows[5] == "diagnostic"  # apart, after the training phases


def test_run_json_gives_scripts_the_run(capsys, tmp_path):
    rc = cli(["run", "--hidden-layers", "1", "--width", "16", "--max-steps", "5",
              "--warmup-steps", "1", "--threads", "1", "--results", str(tmp_path), "--json",
              "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["status"] == "complete"
    assert set(out) == {"run_id", "path", "status", "warnings", "notes", "summary"}
    run_json = json.loads((tmp_path / out["run_id"] / "run.json").read_text())
    assert out["path"] == str(tmp_path / out["run_id"])
    assert out["summary"] == run_json["summary"] and out["summary"]["steps_measured"] == 5
