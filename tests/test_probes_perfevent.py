"""In-process perf counting (perf_event_open via ctypes): per-phase counts, NA reasons, fallback."""

from __future__ import annotations

import errno
import os
import sys
import time
from types import SimpleNamespace

import pytest

from profkit import load
from profkit.probes import perfevent
from profkit.probes.base import RunContext
from profkit.probes.perfevent import EventOpenError, ThreadCounters
from profkit.probes.perfstat import PerfProbe


def _can_count() -> bool:
    try:
        c = ThreadCounters(("task-clock",))
    except OSError:
        return False
    c.close()
    return bool(c.events)


needs_counting = pytest.mark.skipif(not _can_count(),
                                    reason="perf_event_open cannot count task-clock here")


def _spin(n: int = 3_000_000) -> int:
    x = 0
    for i in range(n):  # a fixed amount of CPU work, whatever the machine's load
        x += i
    return x


def _probe(tmp_path, phases, events, monkeypatch, backend="syscall"):
    monkeypatch.setenv("PROFKIT_PERF_BACKEND", backend)
    probe = PerfProbe(events=events)
    probe.start(RunContext(SimpleNamespace(path=tmp_path), SimpleNamespace(names=phases)))
    return probe


def _phase(probe, name, work):
    probe.listener.enter(name)
    work()
    probe.listener.exit(name)


@needs_counting
def test_spinning_phase_counts_cpu_time_and_sleeping_one_almost_none(tmp_path, monkeypatch):
    probe = _probe(tmp_path, ("spin", "sleep", "touch"),
                   ("task-clock", "page-faults", "context-switches"), monkeypatch)
    assert probe.inproc is not None  # counted in-process, no perf stat process
    _phase(probe, "spin", _spin)
    _phase(probe, "sleep", lambda: time.sleep(0.1))
    _phase(probe, "touch", lambda: bytearray(64 << 20))  # 64 MiB of fresh zeroed pages
    df = probe.stop()["counters"].set_index(["phase", "event"]).value
    spin, sleep = df[("spin", "task-clock")], df[("sleep", "task-clock")]
    assert spin > 20  # ms: 3e6 Python additions take well over 20 ms of CPU
    assert sleep < 20 and spin > 5 * sleep
    assert df[("sleep", "context-switches")] >= 1  # sleeping gives the CPU up
    # 64 MiB in 4 KiB pages is 16384 first touches (fewer with huge pages, still many)
    assert df[("touch", "page-faults")] > 100 > df[("sleep", "page-faults")]
    assert set(df.index.get_level_values("phase")) == {"spin", "sleep", "touch", "outside"}


def test_refused_events_are_na_with_the_kernel_reason(tmp_path, monkeypatch):
    real = perfevent.open_event

    def refuse_cycles(event, *a, **kw):
        if event == "cycles":
            raise EventOpenError(event, errno.ENOENT, perfevent._reason(event, errno.ENOENT))
        return real(event, *a, **kw)

    monkeypatch.setattr(perfevent, "open_event", refuse_cycles)
    if not _can_count():
        pytest.skip("perf_event_open cannot count task-clock here")
    probe = _probe(tmp_path, ("spin",), ("cycles", "task-clock"), monkeypatch)
    _phase(probe, "spin", _spin)
    df = probe.stop()["counters"]
    cyc = df[df.event == "cycles"]
    assert cyc.value.isna().all()  # never zero
    assert cyc.na_reason.str.contains("<not supported> \\(ENOENT").all()
    tc = df[df.event == "task-clock"]
    assert tc.value.notna().all() and tc.na_reason.isna().all()
    assert any("not counted here: cycles" in n for n in probe.notes())


@needs_counting
def test_hardware_events_count_or_are_na_with_a_reason_on_this_machine(tmp_path, monkeypatch):
    probe = _probe(tmp_path, ("spin",), ("cycles", "instructions", "task-clock"), monkeypatch)
    _phase(probe, "spin", _spin)
    df = probe.stop()["counters"]
    hw = df[(df.event != "task-clock") & (df.phase == "spin")]
    for _, r in hw.iterrows():  # counted on bare metal, refused in a VM: never a silent 0
        assert (r.value > 0) if r.na_reason is None else ("perf_event_open" in r.na_reason)


def test_no_countable_event_falls_back_to_perf_stat_or_says_why(tmp_path, monkeypatch):
    def refuse(event, *a, **kw):
        raise EventOpenError(event, errno.EACCES, perfevent._reason(event, errno.EACCES))

    monkeypatch.setattr(perfevent, "open_event", refuse)
    probe = _probe(tmp_path, ("a",), ("task-clock",), monkeypatch, backend="syscall")
    assert probe.inproc is None and probe.failure is not None
    assert "perf_event_paranoid" in probe.failure  # the fix is named
    df = probe.stop()["counters"]
    assert df.value.isna().all() and df.na_reason.str.contains("perf_event_open").all()
    auto = _probe(tmp_path / "auto", ("a",), ("task-clock",), monkeypatch, backend="auto")
    assert auto.inproc is None  # auto: the perf stat FIFO path (or its own reason) instead
    assert auto.control is not None or auto.failure is not None
    auto.stop()


def test_bad_backend_name_lists_valid_ones(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="PROFKIT_PERF_BACKEND must be one of auto, syscall"):
        _probe(tmp_path, ("a",), ("task-clock",), monkeypatch, backend="papi")


@needs_counting
def test_cli_run_counts_in_process_without_the_perf_binary(tmp_path):
    import subprocess

    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}  # no perf on PATH
    cmd = [sys.executable, "-m", "profkit", "run", "--dataset", "mnist-5k", "--width", "64",
           "--hidden-layers", "1", "--max-steps", "40", "--threads", "1", "--no-progress",
           "--results", str(tmp_path / "r"), "--probe", "perf"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    t = load(tmp_path / "r")
    c = t["counters"]
    tc = c[c.event == "task-clock"].set_index("phase").value
    phases = set(t["phases"].phase) - {"other"}
    assert (tc[list(phases)] > 0).all()
    wall_ms = t["phases"].groupby("phase").wall_ns.sum() / 1e6  # one thread: CPU <= wall
    assert tc["forward"] <= wall_ms["forward"] * 1.05 + 5
    assert c[c.event == "cache-misses"].pipe(
        lambda h: (h.value.isna() == h.na_reason.notna()).all())
