"""Dask sweeps on a real LocalCluster on 127.0.0.1 (two worker processes): placement, one run
per worker, retry after a worker is killed mid-run, a duplicate-free results directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

from profkit import load
from profkit.methods import METHODS
from profkit.methods.base import Standard
from profkit.sweep import ExecutorError, get_executor, parse, run_sweep
from profkit.sweep.state import STALE_DIR

SLOW = "slow-test"


class _Slow(Standard):
    """Standard with a 0.15 s sleep per step: a run long enough to kill its worker mid-run."""

    def train_step(self, x, y, phase):
        time.sleep(0.15)
        return super().train_step(x, y, phase)


class _RegisterSlow(WorkerPlugin):
    """Registers the slow method in every worker, including one restarted after a kill."""

    def setup(self, worker):
        from profkit.methods import METHODS as worker_methods

        worker_methods[SLOW] = _Slow


@pytest.fixture(scope="module")
def cluster():
    # two threads per worker, so only the `run` resource keeps runs from sharing a worker
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
                      dashboard_address=None, resources={"run": 1}) as lc, Client(lc) as client:
        client.register_plugin(_RegisterSlow(), name="profkit-slow-test")
        yield lc, client


@pytest.fixture
def slow_method(monkeypatch):
    monkeypatch.setitem(METHODS, SLOW, _Slow)


def spec(methods, depths, **fixed):
    base = {"dataset": "mnist-5k", "width": 32, "batch_size": 20, "max_steps": 20,
            "warmup_steps": 2}
    return parse({"fixed": {**base, **fixed},
                  "axes": {"method": list(methods), "hidden_layers": list(depths)}})


def metas(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in results.glob("*/run.json")]


def test_small_grid_runs_one_run_per_worker_and_records_where(cluster, tmp_path):
    results = tmp_path / "r"
    lc, client = cluster
    with get_executor("dask", scheduler=lc.scheduler_address) as ex:
        report = run_sweep(spec(["standard"], [1, 2, 3, 4]), results, ex, stream=None)
    assert report.counts == {"complete": 4}
    t = load(results)
    assert sorted(t["runs"].status) == ["complete"] * 4
    assert t["steps"].groupby("run_id").size().tolist() == [20] * 4
    ms = metas(results)
    workers = set(client.scheduler_info(n_workers=-1)["workers"])
    assert {m["sweep"]["worker"] for m in ms} <= workers
    assert {m["sweep"]["executor"] for m in ms} == {"dask"}
    assert {m["environment"]["hostname"] for m in ms} == {m["sweep"]["host"] for m in ms}
    # threads are pinned per run (the executor's default, 1) and recorded
    assert {(m["config"]["threads"], m["environment"]["torch_threads"]) for m in ms} == {(1, 1)}
    by_worker: dict[str, list] = {}
    for o in report.outcomes:
        by_worker.setdefault(o.worker, []).append(o)
    for runs in by_worker.values():  # runs on one worker never overlap in time
        runs.sort(key=lambda o: o.t_start)
        for a, b in zip(runs, runs[1:], strict=False):
            assert b.t_start >= a.t_start + a.wall_s - 1e-3


def _wait_for(pred, timeout: float, what: str):
    t0 = time.monotonic()
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _running_slow_attempt(results: Path) -> dict | None:
    """run.json of the slow run once it is mid-run with one epoch's parts written."""
    for m in metas(results):
        if (m["config"]["method"] == SLOW and m["status"] == "running"
                and m.get("epochs_done", 0) >= 1):
            return m
    return None


def test_killed_worker_run_is_retried_and_results_are_duplicate_free(cluster, tmp_path,
                                                                      slow_method):
    results = tmp_path / "r"
    # slow run: 3 epochs of 8 steps (batch 500 of 4000), ~1.2 s per epoch
    s = spec([SLOW, "standard"], [1], batch_size=500, epochs=3, max_steps=None)
    box: dict = {}

    def drive():
        with get_executor("dask", scheduler=cluster[0].scheduler_address) as ex:
            box["report"] = run_sweep(s, results, ex, stream=None)

    th = threading.Thread(target=drive)
    th.start()
    victim = _wait_for(lambda: _running_slow_attempt(results), 60, "the slow run's 1st epoch")
    os.kill(victim["sweep"]["pid"], signal.SIGKILL)
    th.join(timeout=120)
    assert not th.is_alive()
    report = box["report"]
    assert report.counts == {"complete": 2}
    t = load(results)
    runs = t["runs"]
    assert len(runs) == 2 and runs.run_id.is_unique and set(runs.status) == {"complete"}
    slow_id = runs.set_index("method").loc[SLOW, "run_id"]
    steps = t["steps"][t["steps"].run_id == slow_id]
    assert sorted(steps.step) == list(range(24))  # the dead attempt's epoch is not in it
    assert len(t["epochs"][t["epochs"].run_id == slow_id]) == 3
    final = next(m for m in metas(results) if m["run_id"] == slow_id)
    assert final["sweep"]["pid"] != victim["sweep"]["pid"]
    (kept,) = (results / STALE_DIR).glob(f"{slow_id}.*.json")  # the dead attempt, retired
    assert json.loads(kept.read_text())["sweep"]["attempt"] == victim["sweep"]["attempt"]


def test_scheduler_without_run_slots_is_refused_with_the_fix(tmp_path):
    # an in-process worker without the `run` resource (no process to start: fast)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as lc:
        with pytest.raises(ExecutorError, match="--resources run=1"):
            with get_executor("dask", scheduler=lc.scheduler_address):
                pass


def test_run_lost_to_repeated_worker_deaths_is_recorded_failed(tmp_path):
    """After Dask gives up (KilledWorker), the coordinator retires the partial directory and
    records the run as failed, so nothing partial loads as a finished run."""
    from distributed.scheduler import KilledWorker

    from profkit.sweep.executors import DaskExecutor
    from profkit.sweep.plan import plan

    (cfg,) = plan(spec(["standard"], [1]), tmp_path / "r")
    partial = Path(cfg.results) / cfg.run_id
    (partial / "steps").mkdir(parents=True)
    (partial / "steps" / "part-00000.parquet").write_bytes(b"half")
    (partial / "run.json").write_text(json.dumps({"run_id": cfg.run_id, "status": "running"}))

    class Lost:
        def result(self):
            worker = SimpleNamespace(address="tcp://127.0.0.1:1")
            raise KilledWorker(f"profkit-{cfg.run_id}", worker, 3)

    out = DaskExecutor(scheduler="tcp://127.0.0.1:1")._result(Lost(), cfg)
    assert out.status == "failed" and "KilledWorker" in out.error
    runs = load(tmp_path / "r")["runs"]
    assert runs.status.tolist() == ["failed"] and not (partial / "steps").exists()


@pytest.mark.slow
def test_cli_with_local_cluster(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[fixed]\ndataset = "digits"\nwidth = 32\nmax_steps = 20\n'
                 '[axes]\nhidden_layers = [1, 2]\nbatch_size = [10, 20]\n')
    results = tmp_path / "r"
    cmd = [sys.executable, "-m", "profkit", "sweep", str(f), "--results", str(results),
           "--local-cluster", "2", "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "4 done now, 0 failed" in r.stdout
    assert sorted(load(results)["runs"].status) == ["complete"] * 4
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert "4 already finished, 0 done now" in again.stdout
