"""One attempt per run directory: re-runs reuse a finished run, retire anything else; paths with
colons are paths (issue 10, items 1 and 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import profkit
from profkit.attempts import RUN_LOCK, STALE_DIR, RunInProgressError, prepare
from profkit.cli import main as cli
from profkit.locks import FileLock
from profkit.store import RunDir, load


def _parts(run_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(run_dir)): p.stat().st_mtime_ns
            for p in run_dir.rglob("part-*.parquet")}


def test_a_complete_run_is_reused_and_force_starts_a_new_attempt(tiny_cfg):
    cfg = tiny_cfg(max_steps=6)
    first = profkit.run(cfg, progress=False)
    assert first.status == "complete" and not first.reused
    before = _parts(first.path)
    again = profkit.run(cfg, progress=False)
    assert again.reused and again.status == "complete" and again.path == first.path
    assert again.summary == first.summary and _parts(first.path) == before
    assert len(load(cfg.results)["steps"]) == 6  # not 12: nothing appended
    forced = profkit.run(cfg, progress=False, force=True)
    assert not forced.reused and forced.status == "complete"
    assert len(load(cfg.results)["steps"]) == 6
    (kept,) = (Path(cfg.results) / STALE_DIR).glob(f"{cfg.run_id}.*.json")
    assert json.loads(kept.read_text())["status"] == "complete"


@pytest.mark.parametrize("status", ["interrupted", "failed", "running"])
def test_an_unfinished_attempt_is_retired_and_rerun(tiny_cfg, status):
    """`running` with its lock free is a dead run (its process is gone)."""
    cfg = tiny_cfg(max_steps=6)
    rd = RunDir(profkit.run(cfg, progress=False).path)
    rd.write_meta({**rd.read_meta(), "status": status})
    r = profkit.run(cfg, progress=False)
    assert not r.reused and r.status == "complete"
    t = load(cfg.results)
    assert t["runs"].status.tolist() == ["complete"]
    assert sorted(t["steps"].step) == list(range(6))  # one attempt's steps, once each
    assert len(list((Path(cfg.results) / STALE_DIR).glob("*.json"))) == 1


def test_a_run_being_trained_now_is_left_alone(tiny_cfg):
    cfg = tiny_cfg(max_steps=4)
    rd = RunDir(profkit.run(cfg, progress=False).path)
    rd.write_meta({**rd.read_meta(), "status": "running"})
    lock = FileLock(rd.path / RUN_LOCK)
    assert lock.acquire()  # as the trainer holds it while it trains
    try:
        with pytest.raises(RunInProgressError, match="being trained by another process"):
            prepare(Path(cfg.results), cfg.run_id)
        assert rd.read_meta()["status"] == "running"  # untouched
    finally:
        lock.release()


def test_cli_rerun_says_where_the_run_is_and_how_to_force(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--results", "r", "--width", "16", "--hidden-layers", "1", "--max-steps",
            "4", "--no-progress", "--threads", "1"]
    assert cli(argv) == 0
    capsys.readouterr()
    assert cli(argv) == 0
    err = capsys.readouterr().err
    assert "already complete in r/" in err and "--force" in err and "r/.stale" in err
    assert len(load("r")["steps"]) == 4
    assert cli([*argv, "--force"]) == 0
    assert "already" not in capsys.readouterr().err and len(load("r")["steps"]) == 4


def test_a_relative_results_directory_with_a_colon(tmp_path, monkeypatch, tiny_cfg):
    """pyarrow would parse the string `res-12:30/...` as a URI with scheme `res-12`."""
    monkeypatch.chdir(tmp_path)
    r = profkit.run(tiny_cfg(max_steps=4, results="res-12:30"), progress=False)
    assert r.status == "complete" and r.summary
    t = load("res-12:30")
    assert t["runs"].status.tolist() == ["complete"] and len(t["steps"]) == 4
    assert os.path.isdir(Path("res-12:30") / r.run_id)
