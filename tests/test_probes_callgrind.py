"""The callgrind probe end to end: one real valgrind run (minutes), plus its dump parser."""

from __future__ import annotations

import subprocess
import sys

import pytest

from profkit import load
from profkit.probes.callgrind import EVENTS, attribute, parse_dump

DUMP = """# callgrind format
version: 1
part: 2
desc: Trigger: Client Request
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
summary: 47997 15152 2719 935 431 245
totals: 47987 15152 2713 933 431 245

fn=(1) f
0 4 2 0
"""


def test_parse_dump_pads_absent_trailing_counts_with_zero():
    part, counts = parse_dump(DUMP)
    assert part == 2
    assert counts["Ir"] == 47997 and counts["D1mw"] == 245  # summary wins over totals
    assert counts["DLmr"] == 0 and set(counts) == set(EVENTS)


def test_parse_dump_rejects_other_files():
    with pytest.raises(ValueError, match="not a callgrind dump"):
        parse_dump("hello\n")


def test_attribute_maps_part_k_to_the_kth_phase_interval_and_sums():
    dumps = [(1, {"Ir": 10.0}), (2, {"Ir": 5.0}), (3, {"Ir": 7.0})]
    seq = [(0, "forward"), (0, "backward"), (0, "forward")]
    df = attribute(dumps, seq)
    ir = df[df.event == "Ir"].set_index("phase").value
    assert ir["forward"] == 17.0 and ir["backward"] == 5.0
    assert df.simulated.all() and (df.backend == "callgrind").all()
    with pytest.raises(ValueError, match="no recorded phase"):
        attribute([(4, {"Ir": 1.0})], seq)


@pytest.mark.valgrind
def test_callgrind_run_gives_positive_simulated_misses_per_phase(tmp_path):
    res = tmp_path / "r"
    cmd = [sys.executable, "-m", "profkit", "run", "--dataset", "mnist-5k", "--width", "64",
           "--hidden-layers", "1", "--max-steps", "5", "--warmup-steps", "0",
           "--results", str(res), "--probe", "callgrind",
           "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "4 minutes" in r.stderr  # the user was told the cost before it started
    t = load(res)
    c = t["counters"]
    assert (c.backend == "callgrind").all() and c.simulated.all()
    phases = set(t["phases"].phase) - {"other"}
    assert set(c.phase) == phases
    for ev in ("Ir", "Dr", "D1mr"):  # every phase reads data, so it misses L1d sometimes
        per_phase = c[c.event == ev].set_index("phase").value
        assert (per_phase > 0).all(), (ev, per_phase)
    assert c[c.event == "DLmr"].value.sum() > 0  # the 15 MB training set exceeds the 8 MB LL
    assert t["runs"].clean_timing.iloc[0] == False  # noqa: E712
    meta = __import__("json").loads(next(res.rglob("run.json")).read_text())
    assert meta["callgrind"]["cache_geometry"]["LL"]["size_bytes"] == 8388608
    assert meta["config"]["threads"] == 1
