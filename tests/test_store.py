"""Atomic writes: a killed or failing writer never leaves a table part that loads as whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from profkit import store
from profkit.loading import LoadWarning
from profkit.store import RunDir, atomic_write_bytes


def test_failed_write_keeps_old_content_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "t.bin"
    atomic_write_bytes(target, b"old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.bin"]


_WRITER = """
import sys, numpy as np
from profkit.store import RunDir
rd = RunDir(sys.argv[1])
n = 200_000
i = 0
while True:
    rd.append("steps", {"epoch": np.zeros(n, np.int32), "step": np.arange(n) + i * n,
                        "worker": np.zeros(n, np.int32),
                        "batch_size": np.ones(n, np.int32), "wall_ns": np.arange(n),
                        "loss": np.random.rand(n), "warmup": np.zeros(n, bool)})
    i += 1
    print(i, flush=True)
"""


def test_sigkill_during_writes_leaves_only_whole_parts(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    for _ in range(3):  # let a few parts land, then kill at an arbitrary moment
        proc.stdout.readline()
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    parts = sorted((tmp_path / "steps").glob("part-*.parquet"))
    assert len(parts) >= 3
    for p in parts:
        assert pq.read_table(p).num_rows == 200_000  # every visible part is whole
    df = RunDir(tmp_path).read("steps")
    assert len(df) == 200_000 * len(parts)
    assert df.step.is_unique


def test_check_writable_names_the_directory_and_the_fix(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.geteuid() == 0:
            pytest.skip("root can write anywhere; the file-in-the-way case covers root")
        with pytest.raises(store.OutputDirError, match="--results"):
            store.check_writable(ro / "x")
    finally:
        ro.chmod(0o700)


def test_file_in_the_way_is_reported(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(store.OutputDirError, match=str(tmp_path / "f")):
        store.check_writable(tmp_path / "f")


def test_unreadable_run_json_is_skipped_with_a_warning_naming_it(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "run.json").write_text("{trunc")
    with pytest.warns(LoadWarning, match=r"r1/run.json: not valid JSON"):
        t = store.load(tmp_path)
    assert t["runs"].empty and t["load_warnings"].path.tolist() == [str(tmp_path / "r1/run.json")]


def test_empty_results_give_empty_frames_with_schema(tmp_path):
    t = store.load(tmp_path)
    assert t["runs"].empty
    assert list(t["phases"].columns) == ["run_id", "epoch", "step", "worker", "phase", "wall_ns",
                                        "warmup"]


def test_load_flattens_run_json_facts_once_and_analyses_do_not_reread_it(tmp_path, monkeypatch,
                                                                          tiny_cfg):
    from profkit.analyses.results import load_results

    from profkit.train import run

    cfg = tiny_cfg(max_steps=3, results=str(tmp_path))
    run(cfg, progress=False)
    meta = RunDir(tmp_path / cfg.run_id).read_meta()
    meta["warnings"] = ["first", "second"]
    RunDir(tmp_path / cfg.run_id).write_meta(meta)
    t = store.load(tmp_path, tables=[])
    row = t["runs"].iloc[0]
    assert (row["n_train"], row["steps_done"]) == (meta["dataset"]["sizes"]["train"], 3)
    assert list(t["run_warnings"].itertuples(index=False, name=None)) == [
        (cfg.run_id, "first"), (cfg.run_id, "second")]
    env = t["environment"].iloc[0]
    assert env["run_id"] == cfg.run_id and env["torch_threads"] == 1
    assert "thread_env" not in t["environment"]  # nested values are left out
    assert env["cpu_caches"] is None or "L1d" in env["cpu_caches"]
    (tmp_path / "empty").mkdir()
    empty = store.load(tmp_path / "empty")  # no runs: the frames exist with their columns
    assert list(empty["run_warnings"].columns) == ["run_id", "message"]
    assert list(empty["environment"].columns) == ["run_id"]
    # load_results reads every run.json once, through store.load
    import profkit.loading

    reads = []
    original = profkit.loading.read_meta
    monkeypatch.setattr(profkit.loading, "read_meta", lambda path: reads.append(path) or
                        original(path))
    monkeypatch.setattr(RunDir, "read_meta", lambda self: reads.append(self.path))
    r = load_results(tmp_path)
    assert reads == [tmp_path / cfg.run_id / "run.json"]
    assert list(r.frames["run_warnings"]["message"]) == ["first", "second"]
    assert r.runs.loc[0, "full_epoch_steps"] == -(-row["n_train"] // cfg.batch_size)


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664)])
def test_written_files_respect_the_umask(tmp_path, umask, mode):
    """mkstemp creates 0600; a shared results directory must be readable as the umask says."""
    old = os.umask(umask)
    try:
        rd = RunDir(tmp_path / "run")
        rd.write_meta({"run_id": "x"})
        rd.append("steps", {"epoch": [0], "step": [0], "worker": [0], "batch_size": [1],
                            "wall_ns": [5], "loss": [0.5], "warmup": [False]})
        atomic_write_bytes(tmp_path / "other.bin", b"x")
    finally:
        os.umask(old)
    files = [tmp_path / "run" / "run.json", *(tmp_path / "run" / "steps").glob("*.parquet"),
             tmp_path / "other.bin"]
    assert len(files) == 3
    assert {f: oct(f.stat().st_mode & 0o777) for f in files} == {f: oct(mode) for f in files}
