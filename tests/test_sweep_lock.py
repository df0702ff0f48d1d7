"""The sweep lock is an flock: two sweeps starting together never both hold it, even over a
lock file left by a dead sweep (issue 10, item 6; the pid-file takeover it replaces let both
win in 56 of 300 such trials)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os

import pytest

from profkit.locks import held_by_other
from profkit.sweep.state import LOCK_FILE, SweepLockedError, sweep_lock

TRIALS = 40


def _contender(results, start, tried, out):
    start.wait()  # both processes try at the same moment
    try:
        with sweep_lock(results):
            out.put(1)
            tried.wait()  # hold it until the other has tried too
    except SweepLockedError:
        out.put(0)
        tried.wait()


def _trial(results) -> int:
    """How many of two processes starting together held the lock."""
    ctx = mp.get_context("fork")
    start, tried, out = ctx.Barrier(2), ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_contender, args=(results, start, tried, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    return out.get(timeout=5) + out.get(timeout=5)


def test_exactly_one_of_two_simultaneous_sweeps_holds_the_lock(tmp_path):
    held = []
    for i in range(TRIALS):
        results = tmp_path / f"r{i}"
        results.mkdir()
        # a lock file left by a sweep that died: its content names a process that is gone
        (results / LOCK_FILE).write_text(json.dumps({"host": os.uname().nodename,
                                                     "pid": 2**22 + 7, "created": 0}))
        held.append(_trial(results))
    assert held == [1] * TRIALS


def test_the_kernel_releases_the_lock_of_a_killed_holder(tmp_path):
    ctx = mp.get_context("fork")
    ready = ctx.Event()

    def hold():
        with sweep_lock(tmp_path):
            ready.set()
            os.kill(os.getpid(), 9)  # dies holding it: no cleanup code runs

    p = ctx.Process(target=hold)
    p.start()
    assert ready.wait(30)
    p.join(30)
    assert p.exitcode == -9 and not held_by_other(tmp_path / LOCK_FILE)
    with sweep_lock(tmp_path):
        assert held_by_other(tmp_path / LOCK_FILE)
        with pytest.raises(SweepLockedError, match=f"pid {os.getpid()}"), sweep_lock(tmp_path):
            pass
