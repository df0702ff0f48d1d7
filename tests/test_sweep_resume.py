"""In-process sweeps: completion, resume, failures, stale attempts, the lock, SIGINT."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import profkit.train
from profkit import load
from profkit.locks import held_by_other
from profkit.methods import METHODS
from profkit.methods.base import Standard
from profkit.store import RunDir
from profkit.sweep import SweepLockedError, get_executor, parse, plan, run_sweep
from profkit.sweep.state import LOCK_FILE, STALE_DIR, sweep_lock


class _Boom(Standard):
    """Standard that raises on its third step: a run that fails mid-training."""

    def train_step(self, x, y, phase):
        self.n = getattr(self, "n", 0) + 1
        if self.n == 3:
            raise RuntimeError("boom at step 3")
        return super().train_step(x, y, phase)


def spec(methods=("standard",), depths=(1, 2), **fixed):
    base = {"dataset": "mnist-5k", "width": 32, "batch_size": 20, "max_steps": 20,
            "warmup_steps": 2}
    return parse({"fixed": {**base, **fixed},
                  "axes": {"method": list(methods), "hidden_layers": list(depths)}})


def sweep(s, results):
    with get_executor("inprocess") as ex:
        return run_sweep(s, results, ex, stream=None)


@pytest.fixture
def counted_runs(monkeypatch):
    """Count calls of the trainer (what a sweep actually executes)."""
    calls = []
    real = profkit.train.run

    def counting(cfg, **kw):
        calls.append(cfg.run_id)
        return real(cfg, **kw)

    monkeypatch.setattr(profkit.train, "run", counting)
    return calls


def mtimes(results: Path) -> dict[str, int]:
    return {str(p.relative_to(results)): p.stat().st_mtime_ns
            for p in results.rglob("*") if p.is_file() and p.name != LOCK_FILE}


def test_small_grid_completes_and_a_rerun_does_nothing(tmp_path, counted_runs):
    results = tmp_path / "r"
    report = sweep(spec(depths=(1, 2, 3)), results)
    assert report.counts == {"complete": 3} and report.skipped == 0
    # typed outcomes: one per run, naming it, its status and wall time; picklable for Dask
    assert sorted(o.run_id for o in report.outcomes) == sorted(
        p.parent.name for p in results.glob("*/run.json"))
    o = report.outcomes[0]
    assert pickle.loads(pickle.dumps(o)) == o and o.wall_s > 0 and not o.skipped
    assert o.worker is None and o.error is None
    t = load(results)
    assert sorted(t["runs"].status) == ["complete"] * 3
    assert t["steps"].groupby("run_id").size().tolist() == [20, 20, 20]
    assert {m["sweep"]["executor"] for m in _metas(results)} == {"inprocess"}
    before, n_calls = mtimes(results), len(counted_runs)
    again = sweep(spec(depths=(1, 2, 3)), results)
    assert again.skipped == 3 and again.outcomes == []
    assert len(counted_runs) == n_calls and mtimes(results) == before
    assert not held_by_other(results / LOCK_FILE)  # the file may stay; nobody holds it


def _metas(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in results.glob("*/run.json")]


def test_a_failing_run_is_recorded_and_the_sweep_continues(tmp_path, monkeypatch):
    monkeypatch.setitem(METHODS, "boom", _Boom)
    results = tmp_path / "r"
    report = sweep(spec(methods=("boom", "standard"), depths=(1,)), results)
    assert report.counts == {"failed": 1, "complete": 1}
    runs = load(results)["runs"].set_index("method")
    assert runs.loc["boom", "status"] == "failed" and runs.loc["standard", "status"] == "complete"
    boom = next(m for m in _metas(results) if m["config"]["method"] == "boom")
    assert "RuntimeError: boom at step 3" in boom["error"] and "Traceback" in boom["error"]
    # a later sweep re-runs the failed one (it fails again) and keeps the old attempt's record
    again = sweep(spec(methods=("boom", "standard"), depths=(1,)), results)
    assert again.skipped == 1 and again.counts == {"failed": 1}
    kept = list((results / STALE_DIR).glob("boom-*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["status"] == "failed"
    assert len(load(results)["runs"]) == 2  # the retired attempt does not load as a run


def test_failure_before_training_is_recorded(tmp_path, monkeypatch):
    def no_data(*a, **k):
        raise OSError("dataset files vanished")

    monkeypatch.setattr(profkit.train, "load_dataset", no_data)
    results = tmp_path / "r"
    report = sweep(spec(depths=(1,)), results)
    assert report.counts == {"failed": 1}
    (meta,) = _metas(results)
    assert meta["status"] == "failed" and "dataset files vanished" in meta["error"]
    assert load(results)["runs"].status.tolist() == ["failed"]


@pytest.mark.parametrize("status", ["running", "interrupted", "broken"])
def test_stale_attempts_are_moved_aside_and_rerun_cleanly(tmp_path, status, counted_runs):
    """A partial directory (dead worker, Ctrl-C, killed before run.json) is replaced whole:
    the new attempt's tables never include the old attempt's parts."""
    results = tmp_path / "r"
    s = spec(depths=(1,), epochs=2, max_steps=None, batch_size=1000)  # 4 steps per epoch
    (cfg,) = plan(s, results)
    d = results / cfg.run_id
    sweep(s, results)
    meta = RunDir(d).read_meta()
    if status == "broken":
        (d / "run.json").unlink()
    else:
        RunDir(d).write_meta({**meta, "status": status})
    n_calls = len(counted_runs)
    report = sweep(s, results)
    assert report.counts == {"complete": 1} and len(counted_runs) == n_calls + 1
    t = load(results)
    assert t["runs"].status.tolist() == ["complete"]
    assert sorted(t["steps"].step) == list(range(8))  # not 16: no part of the old attempt
    assert len(list((results / STALE_DIR).iterdir())) == (0 if status == "broken" else 1)


def test_one_sweep_per_results_directory(tmp_path):
    results = tmp_path / "r"
    with sweep_lock(results), pytest.raises(SweepLockedError, match="another sweep"):
        sweep(spec(depths=(1,)), results)
    # a lock left by a dead process on this host is taken over
    (results / LOCK_FILE).write_text(json.dumps({"host": os.uname().nodename, "pid": 2**22 + 7,
                                                 "created": 0}))
    assert sweep(spec(depths=(1,)), results).counts == {"complete": 1}


def _wait_for(pred, timeout: float, what: str) -> None:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigint_stops_the_sweep_and_a_rerun_resumes_where_it_stopped(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[fixed]\ndataset = "mnist-5k"\nwidth = 64\nmax_steps = 200\n'
                 'threads = 1\n'
                 '[axes]\nhidden_layers = [1, 2, 3]\n')
    results = tmp_path / "r"
    cmd = [sys.executable, "-m", "profkit", "sweep", str(f), "--results", str(results),
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: "complete" in {m["status"] for m in _metas(results)}, 60,
                  "the first run to complete")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "(interrupted)" in out
    first = [m for m in _metas(results) if m["status"] == "complete"]
    assert len(first) == 1
    done_before = mtimes(results)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "1 already finished, 2 done now" in r.stdout
    runs = load(results)["runs"]
    assert sorted(runs.status) == ["complete"] * 3 and runs.run_id.is_unique
    key = f"{first[0]['run_id']}/run.json"
    assert mtimes(results)[key] == done_before[key]  # the finished run was not redone
