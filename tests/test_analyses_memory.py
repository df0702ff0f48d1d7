"""Memory growth and cache misses: growth from samples, fallbacks, and NA that is never zero."""

from __future__ import annotations

import pandas as pd
import pytest
from analyses_frames import epochs, runs
from profkit.analyses import caches, memory

from profkit.schema import empty_frame

MB = 1_000_000


def _mem(run_id: str, samples: list[tuple[int, int]]) -> pd.DataFrame:
    """samples: (epoch, bytes) in time order."""
    return pd.DataFrame({"run_id": run_id, "t_ns": range(len(samples)),
                         "epoch": [e for e, _ in samples], "step": -1, "phase": "idle",
                         "source": "sampler", "metric": "rss", "bytes": [b for _, b in samples]})


@pytest.mark.parametrize("samples,rss,growth,source", [
    ([(-1, 10 * MB), (0, 100 * MB), (0, 130 * MB), (1, 160 * MB)], None, 60.0, "memory probe"),
    ([], [100 * MB, 150 * MB], 50.0, "epoch-end"),
    ([], [100 * MB, None], None, None),
])
def test_growth_last_minus_first_during_training(samples, rss, growth, source):
    r = runs({"run_id": "a"})
    mem = _mem("a", samples) if samples else empty_frame("memory")
    ep = epochs("a", [0.5, 0.6], rss=rss or [None, None])
    g = memory.memory_growth(mem, ep, r).iloc[0]
    if growth is None:
        assert pd.isna(g["growth_mb"]) and "memory probe" in g["na_reason"]
    else:
        assert g["growth_mb"] == pytest.approx(growth)
        assert g["growth_per_epoch_mb"] == pytest.approx(growth / 2)
        assert g["source"].startswith(source)


def _counters(rows):
    cols = ["run_id", "epoch", "phase", "event", "value", "unit", "percent_running",
            "multiplexed", "backend", "simulated", "na_reason"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def test_unavailable_counter_stays_na_with_reason_never_zero():
    r = runs({"run_id": "a"})
    c = _counters([("a", -1, "forward", "cache-misses", None, "count", None, False, "perf",
                    False, "<not supported> on this VM"),
                   ("a", -1, "forward", "instructions", 5.0, "count", 100.0, False, "perf",
                    False, None)])
    steps = pd.DataFrame({"run_id": ["a"] * 4})
    m = caches.cache_misses(c, steps, r)
    assert list(m["event"]) == ["cache-misses"]  # instructions is not a miss event
    assert pd.isna(m["value"].iloc[0]) and pd.isna(m["per_step"].iloc[0])
    assert caches.na_text(m["value"].iloc[0], m["na_reason"].iloc[0]) == (
        "unavailable (<not supported> on this VM)")


def test_misses_per_step_and_relative_to_mc_approx():
    r = runs({"run_id": "d", "method": "dropout"}, {"run_id": "m", "method": "mc-approx"})
    c = _counters([(rid, e, "backward", "D1mr", v, "count", None, False, "callgrind", True, None)
                   for rid, vals in (("d", (60.0, 64.0)), ("m", (50.0, 50.0)))
                   for e, v in enumerate(vals)])
    steps = pd.DataFrame({"run_id": ["d"] * 4 + ["m"] * 4})
    rel = caches.relative_to(caches.misses_by_method(caches.cache_misses(c, steps, r)))
    d = rel[rel["method"] == "dropout"].iloc[0]
    assert d["per_step"] == pytest.approx(31.0) and d["pct_more"] == pytest.approx(24.0)
    assert bool(d["simulated"])
