"""How runs end and what bad input gets (issue 10, item 7): the divergence rule, a second
Ctrl-C during the final write, a full disk, and inputs that used to be ignored or crash."""

from __future__ import annotations

import errno
import json
import os
import signal

import pytest
import torch

import profkit.store
import profkit.train
from profkit.cli import main as cli
from profkit.config import ConfigError, RunConfig
from profkit.methods import METHODS
from profkit.methods.base import Standard
from profkit.store import RunDir, load
from profkit.train import run


class _Exploding(Standard):
    """Trains normally, then reports a loss of 1e28 from step 15 on (finite, but a blow-up)."""

    def train_step(self, x, y, phase):
        self.n = getattr(self, "n", 0) + 1
        loss = super().train_step(x, y, phase)
        return torch.tensor(1e28) if self.n >= 15 else loss


class _NanWeights(Standard):
    """Finite losses, but a weight becomes NaN at step 5 (seen at the epoch's end)."""

    def train_step(self, x, y, phase):
        self.n = getattr(self, "n", 0) + 1
        loss = super().train_step(x, y, phase)
        if self.n == 5:
            with torch.no_grad():
                next(self.model.parameters())[0, 0] = float("nan")
        return loss.nan_to_num(0.0)


def test_a_finite_but_exploding_loss_is_diverged_with_its_reason(tiny_cfg, monkeypatch):
    monkeypatch.setitem(METHODS, "exploding", _Exploding)
    r = run(tiny_cfg(method="exploding", max_steps=40), progress=False)
    assert r.status == "diverged"
    meta = RunDir(r.path).read_meta()
    assert profkit.train.REFERENCE_STEPS == 10
    assert "exceeds 1000 x the first 10 steps' mean loss" in meta["status_reason"]
    steps = load(r.path)["steps"]
    assert len(steps) == 15  # stopped at the first step over the limit
    limit = profkit.train.DIVERGE_FACTOR * max(steps.loss[:10].mean(), 1.0)
    assert (steps.loss[:14] <= limit).all() and steps.loss.iloc[-1] > limit
    assert any("exceeds" in w for w in meta["warnings"])


def test_non_finite_parameters_are_diverged(tiny_cfg, monkeypatch):
    monkeypatch.setitem(METHODS, "nanweights", _NanWeights)
    r = run(tiny_cfg(method="nanweights", max_steps=20), progress=False)
    meta = RunDir(r.path).read_meta()
    assert r.status == "diverged" and "parameter" in meta["status_reason"]
    assert "NaN/inf" in meta["status_reason"]


def test_a_second_ctrl_c_during_the_final_write_leaves_interrupted(tiny_cfg, monkeypatch):
    class _CtrlC(Standard):
        def train_step(self, x, y, phase):
            raise KeyboardInterrupt  # the first Ctrl-C

    monkeypatch.setitem(METHODS, "ctrlc", _CtrlC)
    real = profkit.train.summarise

    def second_ctrl_c(*a, **k):  # arrives while run.json's final version is being made
        os.kill(os.getpid(), signal.SIGINT)
        return real(*a, **k)

    monkeypatch.setattr(profkit.train, "summarise", second_ctrl_c)
    r = run(tiny_cfg(method="ctrlc"), progress=False)  # no traceback, no KeyboardInterrupt
    assert r.status == "interrupted"
    assert RunDir(r.path).read_meta()["status"] == "interrupted"


def _full_disk(monkeypatch, *, only_parts: bool):
    real = profkit.store.atomic_write_bytes

    def write(path, data):
        if not only_parts or path.suffix == ".parquet":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(profkit.store, "atomic_write_bytes", write)


ARGV = ["run", "--results", "r", "--width", "16", "--hidden-layers", "1", "--max-steps", "4",
        "--no-progress", "--threads", "1"]


def test_a_full_disk_is_one_line_and_the_run_is_marked_failed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _full_disk(monkeypatch, only_parts=True)
    assert cli(ARGV) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no space left" in err.lower() and "--results" in err
    (meta,) = [json.loads(p.read_text()) for p in tmp_path.glob("r/*/run.json")]
    assert meta["status"] == "failed" and "No space left" in meta["error"]


def test_a_full_disk_before_run_json_leaves_no_empty_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _full_disk(monkeypatch, only_parts=False)
    assert cli(ARGV) == 2
    assert "no space left" in capsys.readouterr().err.lower()
    assert [p.name for p in (tmp_path / "r").iterdir()] == []


def test_report_to_an_existing_directory_is_a_clear_error(tmp_path, capsys, report_results):
    out = tmp_path / "out"
    out.mkdir()
    assert cli(["report", str(report_results), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} is a directory" in err and "report.html" in err
    assert not (tmp_path / "out.tmp").exists() and list(out.iterdir()) == []


def _sweep_file(tmp_path, text: str | bytes):
    f = tmp_path / "s.toml"
    (f.write_bytes if isinstance(text, bytes) else f.write_text)(text)
    return str(f)


def test_sweep_local_cluster_0_is_an_error(tmp_path, capsys):
    f = _sweep_file(tmp_path, '[axes]\nmethod = ["standard"]\n')
    assert cli(["sweep", f, "--results", str(tmp_path / "r"), "--local-cluster", "0"]) == 2
    assert "--local-cluster needs N >= 1" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_sweep_params_of_an_unknown_method_are_an_error_listing_the_methods(tmp_path, capsys):
    f = _sweep_file(tmp_path, '[axes]\nmethod = ["dropout"]\n[params.dropuot]\np = 0.5\n')
    assert cli(["sweep", f, "--results", str(tmp_path / "r"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "[params.dropuot]" in err and all(m in err for m in METHODS)


def test_a_sweep_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    f = _sweep_file(tmp_path, b'[axes]\nmethod = ["caf\xe9"]\n')
    assert cli(["sweep", f, "--results", str(tmp_path / "r"), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not UTF-8" in err and f in err


def test_momentum_with_adam_is_an_error_saying_why():
    with pytest.raises(ConfigError, match="momentum only applies to --optimizer sgd"):
        RunConfig(optimizer="adam", momentum=0.9)
    assert RunConfig(optimizer="sgd", momentum=0.9).momentum == 0.9


def test_native_without_a_profiler_is_an_error_saying_why(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli([*ARGV, "--native"]) == 2
    assert "--native only changes what py-spy and scalene record" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() or list((tmp_path / "r").iterdir()) == []
