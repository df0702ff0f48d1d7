"""The memory probe: a known allocation shows up as growth; samples carry phase labels."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from profkit import load
from profkit.probes import UnknownProbeError, make_probes, parse_probe_list
from profkit.probes.base import RunContext
from profkit.probes.memory import IDLE, MemoryProbe
from profkit.train import run

MB = 2**20


class _Timer:
    names = ("forward",)
    current = None


def _ctx(tmp_path: Path) -> RunContext:
    return RunContext(SimpleNamespace(path=tmp_path), _Timer(), epoch=0, step=0)


def test_a_200_mb_allocation_held_across_samples_shows_as_200_mb_growth(tmp_path):
    ctx = _ctx(tmp_path)
    probe = MemoryProbe(interval_s=0.01, boundary_every=1)
    probe.start(ctx)
    time.sleep(0.1)
    ctx.timer.current = "forward"
    probe.listener.enter("forward")
    held = np.ones(200 * MB // 8)  # 200 MiB, every page written  # (26214400,)
    time.sleep(0.2)
    probe.listener.exit("forward")
    ctx.timer.current = None
    df = probe.stop()["memory"]
    rss = df[(df.source == "sampler") & (df.metric == "rss")]
    before = rss[rss.phase == IDLE].bytes.iloc[0]
    during = rss[rss.phase == "forward"].bytes.max()
    assert (during - before) / MB == pytest.approx(200, abs=20)  # other threads' noise < 20 MiB
    b = df[df.source == "boundary"].set_index("metric").bytes
    assert (b["rss_at_exit"] - b["rss_at_enter"]) / MB == pytest.approx(200, abs=20)
    assert (df[df.metric == "peak_rss"].bytes >= during - MB).all()  # kernel hiwater lags
    assert held.sum() == len(held)
    assert (tmp_path / "profiles" / "mprofile.dat").read_text().startswith("CMDLINE")


def test_boundary_samples_only_on_every_nth_step(tmp_path):
    ctx = _ctx(tmp_path)
    probe = MemoryProbe(interval_s=10, boundary_every=3)
    probe.start(ctx)
    for step in range(7):
        ctx.step = step
        probe.listener.enter("forward")
        probe.listener.exit("forward")
    df = probe.stop()["memory"]
    assert sorted(set(df[df.source == "boundary"].step)) == [0, 3, 6]


def test_tracemalloc_sees_a_python_heap_allocation(tmp_path):
    ctx = _ctx(tmp_path)
    probe = MemoryProbe(interval_s=10, trace_python=True)
    probe.start(ctx)
    blob = [bytes(1000) for _ in range(20_000)]  # ~20 MB of Python objects
    df = probe.epoch_end(0)["memory"]
    probe.stop()
    cur = df[df.metric == "traced_current"].bytes.iloc[0]
    assert cur > 20_000 * 1000 and len(blob) == 20_000


def test_a_training_run_labels_samples_with_its_phases(tiny_cfg):
    cfg = tiny_cfg(max_steps=40, width=64)
    r = run(cfg, probes=(MemoryProbe(interval_s=0.002, boundary_every=10),), progress=False)
    mem = load(r.path)["memory"]
    phases = set(load(r.path)["phases"].phase) - {"other"}
    boundary = mem[mem.source == "boundary"]
    assert set(boundary.phase) == phases
    assert set(boundary.step) == {0, 10, 20, 30}
    assert set(mem[mem.source == "sampler"].phase) & phases  # at 500 Hz some land in a phase
    assert mem.bytes.notna().all() and (mem.bytes > 0).all()


def test_unknown_probe_names_list_the_valid_ones():
    with pytest.raises(UnknownProbeError, match="valid probes: memory, perf, callgrind"):
        parse_probe_list("memory,cachegrind")
    with pytest.raises(UnknownProbeError, match="valid profilers: py-spy, scalene, torch"):
        make_probes([], "vtune")
    assert parse_probe_list(" memory , memory") == ["memory"]
