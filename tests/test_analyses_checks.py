"""The report's warnings (analyses/checks.py): each fact said once, under a kind that says
where it came from."""

from __future__ import annotations

import pandas as pd
from profkit.analyses import checks


def test_a_runs_own_subnormal_note_is_not_repeated_beside_the_subnormal_check():
    epochs = pd.DataFrame({"run_id": ["a", "a", "b"], "subnormal_fraction": [0.1, 0.3, 0.0]})
    said = pd.DataFrame({"run_id": ["a", "a", "b"], "message": [
        "30.0% of the optimizer state is subnormal floats: ...",
        "perf not found on PATH",
        "1.0% of the optimizer state is subnormal floats: ..."]})  # b: not flagged by the check
    sub = checks.subnormal_warnings(epochs)
    assert list(sub["run_id"]) == ["a"] and "30.0%" in sub["message"].iloc[0]
    w = checks.run_json_warnings(said, sub)
    assert list(zip(w["run_id"], w["message"], strict=True)) == [
        ("a", "perf not found on PATH"),
        ("b", "1.0% of the optimizer state is subnormal floats: ...")]
    assert set(w["kind"]) == {"said by the run"}
    assert len(checks.run_json_warnings(said, checks.subnormal_warnings(epochs.iloc[:0]))) == 3
