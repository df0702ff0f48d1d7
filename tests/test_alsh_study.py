"""The ALSH recall study (profkit.alsh_study) and the report's ALSH section."""

from __future__ import annotations

import pytest
from profkit.analyses.report import write_report

from profkit.alsh_study import grid_points, read_study, run_study
from profkit.config import RunConfig
from profkit.schema import STUDY_TABLES
from profkit.train import run


def test_grid_rejects_unknown_keys_and_invalid_points():
    with pytest.raises(ValueError, match="unknown grid key"):
        grid_points({"tables": (5,)})
    with pytest.raises(ValueError, match="bin_size"):
        grid_points({"family": ("dwta",), "K": (9,)})
    assert len(grid_points({"K": (2, 4), "L": (5, 10, 20)})) == 6


def test_study_writes_its_schema_and_the_report_shows_the_alsh_section(tmp_path):
    cfg = RunConfig(method="alsh-approx", dataset="digits", hidden_layers=2, width=40,
                    batch_size=1, max_steps=30, threads=1, results=str(tmp_path),
                    method_params={"sparse_update": True, "recall_every": 5})
    run(cfg, progress=False)
    grid = {"family": ("simple-lsh", "dwta"), "K": (1, 2), "L": (4,), "rerank": (0, 40)}
    study = run_study(cfg, grid=grid, steps=10, batch=8, results=tmp_path)
    assert list(study.columns) == STUDY_TABLES["alsh_study"].column_names
    assert len(study) == 8 * 2  # grid points x hidden layers
    assert study.recall.between(0, 1).all()
    # rerank 40 shortlists 40 x cap >= all 40 units, then keeps the exact top: recall 1
    assert (study[study.rerank == 40].recall == 1.0).all()
    assert len(read_study(tmp_path)) == len(study)
    html = write_report(tmp_path, tmp_path / "r.html").read_text()
    assert "ALSH-approx: what explains its recall" in html
    assert "Recall study: every configuration" in html
    # headers are readable labels (analyses/labels.py), not raw column names
    assert "tables probed" in html and "recall of top-5%" in html
    assert "<th>tables_probed</th>" not in html and "<th>recall_topk</th>" not in html
