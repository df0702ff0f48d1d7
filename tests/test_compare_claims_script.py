"""scripts/compare_claims.py: two results directories' claims side by side."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_claims.py"


def _load():
    spec = importlib.util.spec_from_file_location("compare_claims", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _claims(rows):
    return pd.DataFrame(rows, columns=["id", "section", "paper", "measured", "verdict"])


def test_compare_pairs_claims_counts_agreement_and_drops_missing_in_both():
    mod = _load()
    a = _claims([("r1", "Table 3", "2.23x", "1.22x [0.86, 1.74], epoch", "explained"),
                 ("r2", "Table 3", "1.17x", "1.13x [0.81, 1.59], epoch", "reproduced"),
                 ("m", "Table 2", "90%", "", "missing"),
                 ("x", "§9.4", "45 MB", "31 MB", "not reproduced")])
    b = _claims([("r2", "Table 3", "1.17x", "1.01x [0.92, 1.11], epoch", "reproduced"),
                 ("r1", "Table 3", "2.23x", "1.25x [1.15, 1.37], epoch", "reproduced"),
                 ("m", "Table 2", "90%", "", "missing")])
    t = mod.compare(a, b).set_index("id")
    assert list(t.index) == ["r1", "r2", "x"]  # missing in both: dropped
    assert not t.loc["r1", "same"] and t.loc["r2", "same"]
    assert t.loc["r2", "measured_b"].startswith("1.01x")  # matched by id, not by position
    assert t.loc["x", "verdict_b"] == "missing"  # absent from b: missing there
    assert list(mod.compare(a, b, ["Table 3"])["id"]) == ["r1", "r2"]
    assert list(mod.compare(a, b, ["Table 3"], ids="^x$")["id"]) == ["r1", "r2", "x"]
    assert list(mod.compare(a, b, ids="^r2")["id"]) == ["r2"]
    assert mod._short("1.22x [0.86, 1.74], epoch extrapolated") == "1.22x [0.86, 1.74]"
