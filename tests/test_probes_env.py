"""`profkit env`'s capability checks: missing tools are reported missing with a reason."""

from __future__ import annotations

from profkit import capabilities


def test_missing_perf_and_valgrind_are_reported_with_how_to_install(monkeypatch):
    monkeypatch.setattr(capabilities.shutil, "which", lambda name: None)
    perf = capabilities.perf_tool()
    assert not perf[0]["available"] and "apt-get install linux-perf" in perf[0]["detail"]
    events = capabilities.perf_events(("task-clock", "cycles"))
    assert [c["available"] for c in events] == [False, False]
    assert not capabilities.valgrind()[0]["available"]


def test_every_perf_event_is_counted_or_missing_with_a_reason():
    for cap in capabilities.perf_events():
        if cap["available"]:
            assert cap["detail"] == "counts"
        else:
            assert cap["detail"] and cap["detail"] != "counts"


def test_torch_cpu_allocator_stats_are_reported_missing_not_zero():
    caps = {c["name"]: c for c in capabilities.memory()}
    torch_cap = caps["torch CPU allocator stats"]
    assert torch_cap["available"] is False and "CUDA-only" in torch_cap["detail"]
