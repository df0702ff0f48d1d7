"""The trainer: phase coverage, tidy results, divergence, interrupts, unwritable output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from profkit import load
from profkit.data import load_dataset
from profkit.methods import METHODS
from profkit.methods.base import TrainingMethod
from profkit.store import OutputDirError, RunDir
from profkit.train import run


class _Sleepy(TrainingMethod):
    """Standard, plus known sleeps inside and outside phases, to check attribution."""

    name = "sleepy"
    phases = ("forward", "backward", "optimizer", "extra")
    sleep = staticmethod(time.sleep)  # the fake-clock test swaps in a clock advance

    def train_step(self, x, y, phase):
        with phase("extra"):
            self.sleep(0.004)
        self.sleep(0.003)  # outside any phase: must land in `other`
        return super().train_step(x, y, phase)


class _FakeClock:
    """perf_counter_ns that moves only when told: timings become exact, whatever the load."""

    def __init__(self):
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def sleep(self, seconds: float) -> None:
        self.ns += round(seconds * 1e9)


@pytest.fixture
def sleepy(monkeypatch):
    monkeypatch.setitem(METHODS, "sleepy", _Sleepy)


def _wide_phases(r):
    t = load(r.path)
    ph, steps = t["phases"], t["steps"]
    assert set(ph.phase) == {"data", "forward", "backward", "optimizer", "extra", "other"}
    per_step = ph.groupby("step").wall_ns.sum()  # phases add up to the step, exactly
    assert (per_step.values == steps.set_index("step").wall_ns.loc[per_step.index].values).all()
    assert (ph.wall_ns >= 0).all()
    return ph.pivot(index="step", columns="phase", values="wall_ns")


def test_phases_cover_each_step_and_attribute_known_sleeps(tiny_cfg, sleepy):
    # Real clock: a sleep never returns early, so lower bounds hold however loaded the machine
    # is; an upper bound would not.
    wide = _wide_phases(run(tiny_cfg(method="sleepy", max_steps=15), progress=False))
    assert (wide.extra >= 4e6).all()
    assert (wide.other >= 3e6).all()


def test_phase_attribution_is_exact_under_a_controlled_clock(tiny_cfg, sleepy, monkeypatch):
    clock = _FakeClock()
    for mod in ("profkit.phases", "profkit.train"):
        monkeypatch.setattr(f"{mod}.perf_counter_ns", clock)
    monkeypatch.setattr(_Sleepy, "sleep", staticmethod(clock.sleep))
    wide = _wide_phases(run(tiny_cfg(method="sleepy", max_steps=15), progress=False))
    assert len(wide) == 15
    assert (wide.extra == 4_000_000).all()
    assert (wide.other == 3_000_000).all()  # the sleep outside any phase, and nothing else
    assert (wide[["data", "forward", "backward", "optimizer"]] == 0).all().all()


def test_tidy_tables_and_run_json(tiny_cfg):
    cfg = tiny_cfg(epochs=2, max_steps=None, batch_size=500)  # 8 steps per epoch
    r = run(cfg, progress=False)
    assert r.status == "complete"
    t = load(Path(cfg.results))
    runs = t["runs"]
    assert runs.run_id.tolist() == [cfg.run_id] and runs.status.tolist() == ["complete"]
    ep = t["epochs"]
    assert ep.epoch.tolist() == [0, 1] and ep.complete.all()
    assert ep.n_steps.tolist() == [8, 8]
    assert ep.test_accuracy.between(0, 1).all() and ep.subnormal_fraction.notna().all()
    conf = t["confusion"]
    assert conf[(conf.split == "test") & (conf.epoch == 1)]["count"].sum() == 500
    assert t["steps"].warmup.sum() == cfg.warmup_steps
    assert (t["phases"].run_id == cfg.run_id).all()
    meta = RunDir(r.path).read_meta()
    for key in ("config", "environment", "schema_version", "status", "summary"):
        assert key in meta
    env = meta["environment"]
    for key in ("cpu_model", "torch_version", "torch_threads", "perf_event_paranoid",
                "profkit_version", "thread_env"):
        assert key in env
    assert meta["config"]["optimizer_impl"] == "default"
    assert meta["config"]["flush_denormal"] is False


def test_accuracy_matches_an_independent_evaluation(tiny_cfg):
    cfg = tiny_cfg(max_steps=30)
    r = run(cfg, progress=False)
    t = load(r.path)
    conf = t["confusion"][t["confusion"].split == "val"]
    acc = conf[conf.true_label == conf.pred_label]["count"].sum() / conf["count"].sum()
    assert t["epochs"].val_accuracy.iloc[0] == pytest.approx(acc)


def test_divergence_stops_and_keeps_results(tiny_cfg):
    ds = load_dataset("mnist-5k")
    ds.X_train = ds.X_train.clone()
    ds.X_train[ds.X_train.shape[0] // 2:] = float("nan")  # half the data poisons the loss
    cfg = tiny_cfg(max_steps=None, batch_size=100)
    r = run(cfg, progress=False, dataset=ds)
    assert r.status == "diverged"
    t = load(r.path)
    assert t["runs"].status.tolist() == ["diverged"]
    losses = torch.tensor(t["steps"].loss.to_numpy())
    assert torch.isfinite(losses[:-1]).all() and not torch.isfinite(losses[-1])
    assert len(t["steps"]) < 40  # stopped at the first non-finite loss, not at epoch end
    assert "diverged" in " ".join(RunDir(r.path).read_meta()["warnings"])


def test_unwritable_results_dir_fails_before_training(tmp_path, tiny_cfg):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputDirError, match="cannot write results"):
        run(tiny_cfg(results=str(blocker / "sub")), progress=False)


def test_phase_times_add_up_to_the_loop_on_fashion_mnist(tmp_path):
    """Steps cover the training loop: the sum of step times is the loop's wall time minus
    only the loop's own bookkeeping, measured by an independent clock around the loop."""
    from profkit.config import RunConfig
    from profkit.data.registry import get_spec

    spec = get_spec("fashion-mnist")
    if spec.available(spec, None) is None:
        pytest.skip("fashion-mnist files absent (apt-get install dataset-fashion-mnist)")
    cfg = RunConfig(dataset="fashion-mnist", hidden_layers=3, width=256, batch_size=20,
                    max_steps=400, results=str(tmp_path))
    r = run(cfg, progress=False)
    t = load(r.path)
    ep = t["epochs"].iloc[0]
    assert t["phases"].wall_ns.sum() == t["steps"].wall_ns.sum() == ep.steps_wall_ns
    assert ep.steps_wall_ns / ep.train_wall_ns == pytest.approx(1.0, abs=0.05)


def _start(cfg_args: list[str], results: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "profkit", "run", "--dataset", "digits", "--width", "64",
           "--hidden-layers", "1", "--batch-size", "1", "--epochs", "50", "--no-progress",
           "--results", str(results), *cfg_args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_first_epoch(results: Path, timeout: float) -> Path | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for meta in results.glob("*/run.json"):
            if json.loads(meta.read_text()).get("epochs_done", 0) >= 1:
                return meta
        time.sleep(0.1)
    return None


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 130), (signal.SIGINT, 130)])
def test_signal_marks_interrupted_and_keeps_partial_epoch(tmp_path, sig, code):
    proc = _start([], tmp_path)
    try:
        meta_path = _wait_for_first_epoch(tmp_path, timeout=300)
        assert meta_path is not None, "the run wrote no epoch within 300 s"
        time.sleep(0.3)  # inside epoch 1 (an epoch of digits at batch 1 takes over a second)
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    meta = json.loads(meta_path.read_text())
    assert meta["status"] == "interrupted"
    steps = RunDir(meta_path.parent).read("steps")
    assert (steps.epoch == 0).sum() == 1258
    assert (steps.epoch == 1).sum() > 0  # the partial epoch's steps were kept
    assert "interrupted" in out


def test_load_of_many_runs_is_tidy(tiny_cfg):
    a = run(tiny_cfg(seed=1), progress=False)
    b = run(tiny_cfg(seed=2), progress=False)
    t = load(a.path.parent)
    assert sorted(t["runs"].run_id) == sorted([a.run_id, b.run_id])
    assert set(t["phases"].run_id) == {a.run_id, b.run_id}
    assert isinstance(t["phases"], pd.DataFrame) and t["phases"].columns[0] == "run_id"


def test_progress_bar_shows_epoch_of_total_and_the_runs_steps(tiny_cfg, capsys):
    # 4000 training images at batch 500: 8 steps per epoch; 2 epochs, capped at 12 steps
    run(tiny_cfg(epochs=2, max_steps=12, batch_size=500), progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err
    assert "/12 steps" in err and "run ETA" in err  # one bar over the whole run
