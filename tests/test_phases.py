"""PhaseTimer: disjoint named phases, `other` for the rest (I1, I2 of docs/architecture.md)."""

import time

import numpy as np
import pytest

from profkit.phases import NullMarker, PhaseError, PhaseTimer
from profkit.recorder import StepRecorder


def test_nested_phase_is_an_error():
    t = PhaseTimer(("a", "b"))
    with pytest.raises(PhaseError, match="disjoint"):
        with t("a"):
            with t("b"):
                pass


def test_undeclared_phase_names_declared_ones():
    t = PhaseTimer(("data", "forward"))
    with pytest.raises(PhaseError, match="declared: data, forward"):
        t("lsh_query")


def test_other_is_reserved():
    with pytest.raises(PhaseError):
        PhaseTimer(("forward", "other"))


def test_repeated_phase_accumulates_and_reset_clears():
    t = PhaseTimer(("a",))
    for _ in range(3):
        with t("a"):
            time.sleep(0.002)
    assert t.acc[0] >= 6_000_000
    t.reset()
    assert t.acc == [0]


def test_recorder_other_fills_the_step_exactly():
    rec = StepRecorder(("data", "forward"), warmup_steps=1)
    rec.clear(epoch=2, first_step=10)
    rec.add(1000, [100, 600], 0.5, 20)
    rec.add(2000, [300, 1500], 0.4, 20)
    tables = rec.tables()
    ph = tables["phases"]
    walls = np.asarray(ph["wall_ns"]).reshape(2, 3)
    assert walls[:, 2].tolist() == [300, 200]  # other = wall - named phases
    assert walls.sum(axis=1).tolist() == [1000, 2000]
    assert list(ph["phase"][:3]) == ["data", "forward", "other"]
    assert tables["steps"]["warmup"].tolist() == [False, False]  # steps 10, 11 >= 1


def test_listeners_are_told_outside_the_timed_interval(monkeypatch):
    # A clock that moves only when a listener runs: the phase must get exactly none of it
    # (a real clock and an upper bound would fail on a loaded machine).
    now = [0]
    monkeypatch.setattr("profkit.phases.perf_counter_ns", lambda: now[0])
    seen = []

    class L:
        def enter(self, name):
            seen.append(("enter", name))
            now[0] += 10_000_000

        def exit(self, name):
            seen.append(("exit", name))
            now[0] += 10_000_000

    t = PhaseTimer(("a",), listeners=(L(),))
    with t("a"):
        now[0] += 1_000
    assert seen == [("enter", "a"), ("exit", "a")]
    assert t.acc == [1_000]  # the phase's own microsecond, not the listeners' 20 ms


def test_null_marker_measures_nothing():
    m = NullMarker()
    with m("anything"):
        pass


def test_take_hands_over_the_step_and_starts_a_fresh_list():
    """The recorder keeps the list take() returns: the next step must not write into it."""
    t = PhaseTimer(("a",))
    with t("a"):
        pass
    first = t.take()
    kept = list(first)
    with t("a"):
        time.sleep(0.001)
    assert first == kept and first is not t.acc
    assert t.take()[0] >= 1_000_000 and t.acc == [0]
