"""External profilers: a missing py-spy leaves a clear note and a finished run; torch's trace."""

from __future__ import annotations

import json

import pytest

from profkit.instrumented import run_with_instruments, wrapper_of
from profkit.probes import ProbeError, profilers


def test_missing_pyspy_is_reported_and_the_run_completes_without_it(tiny_cfg, monkeypatch,
                                                                     capsys):
    monkeypatch.setattr(profilers, "find_tool", lambda name: None)
    path, status = run_with_instruments(tiny_cfg(max_steps=5), "memory", "py-spy")
    assert status == "complete"
    assert "py-spy not found on PATH" in capsys.readouterr().err
    meta = json.loads((path / "run.json").read_text())
    assert any("py-spy requested but not available" in w for w in meta["warnings"])
    assert meta["instruments"] == ["clock", "memory"] and meta["clean_timing"] is True
    assert not (path / "profiles" / profilers.PYSPY_OUT).exists()


def test_torch_profiler_writes_a_chrome_trace_with_phase_ranges(tiny_cfg):
    path, status = run_with_instruments(tiny_cfg(max_steps=12), None, "torch")
    assert status == "complete"
    trace = json.loads((path / "profiles" / profilers.TORCH_OUT).read_text())
    names = {e.get("name") for e in trace["traceEvents"]}
    assert {"forward", "backward", "optimizer"} <= names
    meta = json.loads((path / "run.json").read_text())
    assert "torch-profiler" in meta["instruments"] and meta["clean_timing"] is False


def test_two_wrappers_cannot_nest():
    assert wrapper_of(["memory", "perf"], "torch") is None
    assert wrapper_of(["callgrind"], None) == "callgrind"
    with pytest.raises(ProbeError, match="choose one"):
        wrapper_of(["callgrind"], "scalene")
