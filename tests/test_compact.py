"""`profkit compact`: long runs reduced to blocks of steps, read like raw results, with the
report's numbers unchanged except the per-step statistics it documents as unavailable."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from profkit.analyses.computed import compute
from profkit.analyses.results import load_results

from profkit.cli import main as cli
from profkit.compact import compact, phase_blocks, reduce_memory
from profkit.config import RunConfig
from profkit.data.registry import get_spec
from profkit.probes.memory import MemoryProbe
from profkit.store import RunDir
from profkit.train import run

KEEP, BLOCK = 100, 25
STEPS = 3 * math.ceil(get_spec("digits").split[0] / 20)  # a long run: 3 epochs at batch 20


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """Two long runs (STEPS steps: 3 epochs of digits at batch 20, memory probe) and three
    capped repeats of a short one (30 steps, width 12)."""
    results = tmp_path_factory.mktemp("raw")
    base = dict(dataset="digits", hidden_layers=1, width=16, batch_size=20, warmup_steps=5,
                threads=1, results=str(results))
    for m in ("standard", "mc-approx"):
        run(RunConfig(method=m, epochs=3, **base), probes=(MemoryProbe(),), progress=False)
    for r in range(3):  # width 12: a configuration of its own in the report's tables
        run(RunConfig(method="standard", epochs=1, max_steps=30, repeat=r,
                      **{**base, "width": 12}), progress=False)
    return results


@pytest.fixture(scope="module")
def packed(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("c") / "compact"
    return out, compact(raw, out, BLOCK, KEEP)


def _long(results: Path) -> list[Path]:
    return sorted(p for p in results.iterdir() if p.is_dir() and "-r0" in p.name
                  and json.loads((p / "run.json").read_text())["config"]["max_steps"] is None)


def test_long_runs_are_reduced_and_marked_short_ones_copied_whole(raw, packed):
    out, info = packed
    assert (info["runs_compacted"], info["runs_copied"]) == (2, 3)
    for d in _long(out):
        meta = json.loads((d / "run.json").read_text())
        assert meta["compacted"]["block_steps"] == BLOCK and meta["compacted"]["steps"] == STEPS
        assert not (d / "phases").exists() and not (d / "steps").exists()
        assert (d / "phase_blocks").is_dir() and (d / "epochs").is_dir()
    for d in raw.iterdir():
        if "compacted" in json.loads((out / d.name / "run.json").read_text()):
            continue
        files = sorted(p.relative_to(d) for p in d.rglob("*") if p.is_file())
        assert files and all((d / f).read_bytes() == (out / d.name / f).read_bytes()
                             for f in files)
    assert info["bytes_after"] < info["bytes_before"]


def test_blocks_hold_exact_sums_and_keep_warmup_apart():
    rng = np.random.default_rng(0)
    steps = np.arange(60)
    ph = pd.DataFrame({"epoch": np.repeat([0, 1], 30)[steps].repeat(2),
                       "step": steps.repeat(2), "phase": ["forward", "backward"] * 60,
                       "wall_ns": rng.integers(1, 10_000, 120), "warmup": (steps < 5).repeat(2)})
    b = phase_blocks(ph, 10)
    fwd = b[b["phase"] == "forward"]
    # epoch 0: 5 warm-up steps (block 0), then 25 steady steps in blocks of 10, 10, 5
    assert fwd[fwd.epoch == 0]["n_steps"].tolist() == [5, 10, 10, 5]
    assert fwd[fwd.epoch == 0]["warmup"].tolist() == [True, False, False, False]
    assert fwd[fwd.epoch == 1]["n_steps"].tolist() == [10, 10, 10]  # no warm-up in epoch 1
    for phase in ("forward", "backward"):
        assert b.loc[b.phase == phase, "sum_ns"].sum() == ph.loc[ph.phase == phase,
                                                                  "wall_ns"].sum()
    total = ph.groupby("step")["wall_ns"].sum()
    tb = b[(b.phase == "total") & (b.epoch == 0) & (b.block == 1)].iloc[0]
    assert tb["median_ns"] == np.median(total.iloc[5:15])
    assert tb["max_ns"] == total.iloc[5:15].max() and tb["first_step"] == 5


def test_memory_keeps_sampler_rows_and_the_first_last_and_largest_boundaries():
    mem = pd.DataFrame({"t_ns": range(8), "epoch": [0, 0, 0, 0, 1, 1, 1, 1],
                        "step": range(8),
                        "phase": ["idle", "forward", "forward", "backward", "idle",
                                  *["backward"] * 3],
                        "source": ["sampler", "boundary", "boundary", "boundary"] * 2,
                        "metric": "rss", "bytes": [5, 1, 9, 2, 5, 3, 1, 4]})
    kept = reduce_memory(mem)
    assert kept["t_ns"].tolist() == [0, 1, 2, 3, 4, 5, 7]  # 6: neither first, last nor max


def test_a_long_sampler_series_is_thinned_keeping_first_last_and_peak():
    n = 10_000  # a 10 Hz sampler over ~17 minutes
    rss = np.arange(n, dtype=float)
    rss[4321] = 1e9  # a peak between the evenly spaced picks
    mem = pd.DataFrame({"t_ns": range(n), "epoch": 0, "step": range(n), "phase": "forward",
                        "source": "sampler", "metric": "rss", "bytes": rss})
    kept = reduce_memory(mem, max_sampler_rows=100)
    assert 100 <= len(kept) <= 103
    assert kept["t_ns"].iloc[0] == 0 and kept["t_ns"].iloc[-1] == n - 1
    assert kept["bytes"].max() == 1e9
    growth = kept["bytes"].iloc[-1] - kept["bytes"].iloc[0]
    assert growth == rss[-1] - rss[0]


def test_the_analyses_give_the_same_numbers_except_the_documented_ones(raw, packed):
    a, b = compute(load_results(raw)), compute(load_results(packed[0]))
    keys = ["run_id", "epoch", "phase"]
    ea, eb = (x.epoch_seconds.sort_values(keys).reset_index(drop=True) for x in (a, b))
    assert ea[keys].equals(eb[keys]) and ea["n_steps"].tolist() == eb["n_steps"].tolist()
    assert np.allclose(ea["seconds"], eb["seconds"], rtol=1e-12)
    assert ea["extrapolated"].tolist() == eb["extrapolated"].tolist()
    ta, tb = (x.phase_table.sort_values(["method", "width", "phase"]).reset_index(drop=True)
              for x in (a, b))
    assert np.allclose(ta["s_per_epoch"], tb["s_per_epoch"], rtol=1e-12)
    assert np.allclose(ta["standard_s"], tb["standard_s"], rtol=1e-12, equal_nan=True)
    three = ta["n_runs"] >= 3  # the capped repeats: copied whole, every statistic as before
    assert np.allclose(ta.loc[three, ["ci_lo", "ci_hi"]], tb.loc[three, ["ci_lo", "ci_hi"]])
    one = ~three  # the compacted runs: no within-run interval, and the table says why
    assert tb.loc[one, ["ci_lo", "ci_hi"]].isna().all().all()
    assert tb.loc[one, "ci_method"].str.contains("compacted").all()
    sa, sb = (x.step_stats.sort_values(["run_id", "phase"]).reset_index(drop=True)
              for x in (a, b))
    assert np.allclose(sa["mean_ms"], sb["mean_ms"], rtol=1e-9)
    packed_rows = sb["compacted"].astype(bool)
    assert sb.loc[packed_rows, "median_ms"].isna().all()
    assert np.allclose(sa.loc[~packed_rows, "median_ms"], sb.loc[~packed_rows, "median_ms"])
    pd.testing.assert_frame_equal(a.final.reset_index(drop=True),
                                  b.final.reset_index(drop=True))
    ga, gb = (x.growth.sort_values("run_id").reset_index(drop=True) for x in (a, b))
    assert np.allclose(ga["growth_mb"], gb["growth_mb"], equal_nan=True)
    assert ga["growth_mb"].notna().sum() == 2  # the two memory-probe runs


def test_cli_writes_it_and_refuses_a_non_empty_or_nested_output(raw, tmp_path, capsys):
    out = tmp_path / "c"
    assert cli(["compact", str(raw), "-o", str(out), "--keep-steps", str(KEEP)]) == 0
    assert "2 runs compacted, 3 copied whole" in capsys.readouterr().out
    assert cli(["compact", str(raw), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("exists and is not empty; remove it or choose another -o")
    assert cli(["compact", str(raw), "-o", str(raw / "inside")]) == 2
    assert "inside the results" in capsys.readouterr().err


def test_a_compacted_run_loads_with_its_tables(packed):
    d = _long(packed[0])[0]
    rd = RunDir(d)
    assert len(rd.read("phases")) == 0 and len(rd.read("phase_blocks")) > 0
    assert rd.read("epochs")["n_steps"].sum() == STEPS


def test_compacting_compact_data_again_keeps_it_and_thins_its_memory(packed, tmp_path):
    out, _ = packed
    again = compact(out, tmp_path / "again", BLOCK, KEEP)
    before, after = load_results(out), load_results(tmp_path / "again")
    assert again["runs_compacted"] == 2  # the two long runs are recognised as compacted
    assert not list((tmp_path / "again").rglob("mprofile.dat"))
    for name in ("phase_blocks", "epochs"):
        pd.testing.assert_frame_equal(before[name].sort_values(list(before[name].columns))
                                      .reset_index(drop=True),
                                      after[name].sort_values(list(after[name].columns))
                                      .reset_index(drop=True))
    assert len(after["memory"]) <= len(before["memory"])
