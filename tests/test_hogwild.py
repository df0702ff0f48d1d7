"""HOGWILD-style training over worker processes (profkit/hogwild.py, --workers P)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from profkit import load
from profkit.config import RunConfig
from profkit.hogwild import epoch_counts
from profkit.store import RunDir
from profkit.train import run

SMALL = dict(dataset="mnist-5k", hidden_layers=2, width=200, batch_size=10, threads=1,
             warmup_steps=5)


def test_epoch_counts_share_the_epoch_and_the_step_cap():
    # 4000 samples in batches of 10 over 3 workers: shards of 1334, 1333, 1333 samples
    assert epoch_counts(4000, 10, 3, 0, None) == [134, 134, 134]
    assert epoch_counts(4000, 10, 1, 0, None) == [400]
    # a cap of 100 steps after 0 done: ids w, w + 3, ... below 100
    assert epoch_counts(4000, 10, 3, 0, 100) == [34, 33, 33]
    assert sum(epoch_counts(4000, 10, 3, 95, 100)) == 5
    assert epoch_counts(4000, 10, 2, 100, 100) == [0, 0]


@pytest.mark.parametrize("method", ["standard", "alsh-approx"])
def test_two_workers_train_above_chance_and_phases_cover_each_workers_steps(tmp_path, method):
    params = {"sparse_update": True} if method == "alsh-approx" else {}
    cfg = RunConfig(method=method, workers=2, max_steps=300, results=str(tmp_path),
                    method_params=params, **SMALL)
    r = run(cfg, progress=False)
    assert r.status == "complete"
    t = load(r.path)
    # 500 test samples; chance is 10% (sd 1.3 points): 30% is far above chance
    assert t["epochs"].test_accuracy.iloc[-1] > 0.3
    steps, phases = t["steps"], t["phases"]
    assert sorted(steps.worker.unique()) == [0, 1]
    assert steps.step.is_unique and len(steps) == 300
    assert (steps.step % 2 == steps.worker).all()  # worker w runs steps w, w + 2, ...
    assert steps.groupby("worker").size().tolist() == [150, 150]
    summed = phases.groupby("step").wall_ns.sum()
    assert (summed.reindex(steps.step).to_numpy() == steps.wall_ns.to_numpy()).all()
    assert (phases.groupby("step").worker.nunique() == 1).all()
    ep = t["epochs"].iloc[-1]
    assert ep.n_steps == 300 and ep.train_wall_ns > 0
    # each worker flags its own first warm-up steps
    assert steps[steps.warmup].groupby("worker").size().tolist() == [5, 5]


def test_one_worker_keeps_the_run_id_and_records_worker_zero(tmp_path):
    cfg = RunConfig(max_steps=10, results=str(tmp_path), **SMALL)
    assert cfg.run_id == cfg.replace(workers=1).run_id != cfg.replace(workers=2).run_id
    r = run(cfg, progress=False)
    steps = load(r.path)["steps"]
    assert steps.worker.tolist() == [0] * 10 and steps.step.tolist() == list(range(10))


def test_parts_written_before_the_worker_column_read_as_worker_zero(tmp_path):
    rd = RunDir(tmp_path)
    old = pa.table({"epoch": pa.array([0, 0], pa.int32()), "step": pa.array([0, 1], pa.int64()),
                    "batch_size": pa.array([1, 1], pa.int32()),
                    "wall_ns": pa.array([5, 6], pa.int64()), "loss": [1.0, 2.0],
                    "warmup": [True, True]})
    (tmp_path / "steps").mkdir()
    pq.write_table(old, tmp_path / "steps" / "part-00000.parquet")
    df = rd.read("steps")
    assert df.worker.tolist() == [0, 0] and df.worker.dtype == np.int32


def test_probes_are_refused_with_several_workers(tmp_path):
    from profkit.probes import make_probes
    from profkit.train import Trainer
    from profkit.validation import ConfigError

    cfg = RunConfig(workers=2, max_steps=4, results=str(tmp_path), **SMALL)
    with pytest.raises(ConfigError, match="--workers 1"):
        Trainer(cfg, probes=tuple(make_probes(["memory"])), progress=False)


def test_a_killed_worker_leaves_a_failed_run_with_its_finished_epochs(tmp_path):
    cmd = [sys.executable, "-m", "profkit", "run", "--dataset", "mnist-5k", "--hidden-layers",
           "2", "--width", "200", "--batch-size", "10", "--epochs", "200", "--workers", "2",
           "--threads", "1", "--results", str(tmp_path), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        meta_path = _wait_for_epochs(tmp_path, proc, epochs=2)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) >= 2
        os.kill(workers[-1].pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    meta = json.loads(meta_path.read_text())
    assert meta["status"] == "failed" and "killed by signal 9" in meta["error"]
    t = load(tmp_path)  # the run directory still loads: every part is whole
    done = len(t["epochs"])
    assert done >= 2
    steps = t["steps"]
    finished = steps[steps.epoch < done]
    assert finished.groupby("epoch").size().tolist() == [400] * done  # both workers' steps
    summed = t["phases"].groupby("step").wall_ns.sum()
    assert (summed.reindex(steps.step).to_numpy() == steps.wall_ns.to_numpy()).all()


def _wait_for_epochs(results: Path, proc: subprocess.Popen, epochs: int) -> Path:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        for p in results.glob("*/run.json"):
            try:
                if json.loads(p.read_text()).get("epochs_done", 0) >= epochs:
                    return p
            except json.JSONDecodeError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"the run did not finish {epochs} epochs in time")
