"""Analysis: the analyses' front door answers with the same frames the report is built from."""

from pathlib import Path

import pandas as pd
import pytest
from profkit.analyses import Analysis, load_results
from profkit.analyses.computed import compute

import profkit


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("results")
    for method in ("standard", "mc-approx"):
        cfg = profkit.RunConfig(method=method, dataset="mnist-5k", hidden_layers=1, width=16,
                                batch_size=20, epochs=1, max_steps=12, warmup_steps=2,
                                results=str(root))
        profkit.run(cfg, progress=False)
    return root


def test_answers_are_the_shared_computed_frames(results):
    a = Analysis(results)
    ref = compute(load_results(results))
    pd.testing.assert_frame_equal(a.runtime(), ref.phase_table)
    pd.testing.assert_frame_equal(a.accuracy(), ref.acc_table)
    pd.testing.assert_frame_equal(a.memory(), ref.growth)
    assert set(a.runtime()["method"]) == {"standard", "mc-approx"}
    assert a.computed is a.computed  # computed once, on first use


def test_study_tables_are_frames_and_missing_is_empty(results):
    a = Analysis(results)
    assert "errorprop" in a.frames() and a.frames()["errorprop"].empty
    assert a.error_propagation().empty


def test_report_is_written_from_the_same_results(results, tmp_path):
    out = Analysis(results).report(tmp_path / "r.html", title="front door")
    text = out.read_text()
    assert out == tmp_path / "r.html" and "front door" in text and "<html" in text.lower()


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Analysis(tmp_path / "nope")
