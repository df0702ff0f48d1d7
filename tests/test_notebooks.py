"""The notebooks: committed without outputs, and each runs cleanly on a small real results set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
# notebook -> (least PNG outputs, least HTML tables, strings some output must contain)
EXPECT = {
    "00_overview": (0, 4, ["standard", "mnist-5k"]),
    "01_runtime": (2, 3, ["forward"]),
    "02_accuracy": (3, 2, ["effective_labels"]),
    "03_memory_and_caches": (1, 2, ["growth_mb"]),
    "04_error_propagation": (3, 4, ["topk-terms", "topk-units", "theory_pooled", "0.728"]),
    "05_decision_tree": (1, 2, ["winner"]),
    "06_compare": (1, 3, ["ratio_lo", "diff_pts", "verdict", "matched on"]),
}


def test_every_notebook_is_expected_and_committed_without_outputs():
    assert {p.stem for p in PATHS} == set(EXPECT)
    for p in PATHS:
        nb = nbformat.read(p, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), p.name
        assert "parameters" in code[0].metadata.get("tags", []), p.name
        assert 'results = "results/demo"' in code[0].source, p.name


def _make_results(root: Path) -> None:
    import profkit
    from profkit import errorprop
    from profkit.config import RunConfig
    from profkit.methods import METHODS
    from profkit.probes.memory import MemoryProbe

    base = dict(dataset="mnist-5k", width=32, batch_size=10, epochs=1, max_steps=12,
                warmup_steps=2, results=str(root))
    plan = [("standard", 1), ("standard", 2), ("dropout", 1), ("adaptive-dropout", 1),
            ("mc-approx", 1), ("alsh-approx", 1)]
    for method, depth in plan:
        if method not in METHODS:
            continue
        params = {"recall_every": 3} if method == "alsh-approx" else {}
        cfg = RunConfig(method=method, hidden_layers=depth, method_params=params, **base)
        probes = (MemoryProbe(),) if (method, depth) == ("standard", 1) else ()
        profkit.run(cfg, probes=probes, progress=False)
    errorprop.run_study(RunConfig(**{**base, "width": 16}), depths=(1, 2), seeds=(0,), steps=2,
                        batch=4, oracles=tuple(errorprop.ORACLES), results=root)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("nb_results")
    _make_results(root)
    return root


def _outputs(nb) -> tuple[int, int, str]:
    outs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    png = sum("image/png" in o.get("data", {}) for o in outs)
    html = sum("text/html" in o.get("data", {}) for o in outs)
    return png, html, json.dumps([o.get("data", o.get("text", "")) for o in outs])


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_on_a_small_results_dir(path, results_dir, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.fail("no python3 Jupyter kernel; install one: "
                    ".venv/bin/python -m ipykernel install --sys-prefix --name python3")
    monkeypatch.setenv("PROFKIT_RESULTS", str(results_dir))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    png, html, text = _outputs(nb)
    least_png, least_html, strings = EXPECT[path.stem]
    assert png >= least_png and html >= least_html, (png, html)
    assert str(results_dir) in text  # the parameter cell's override took effect
    for s in strings:
        assert s in text, s
    assert "Traceback" not in text and os.environ["PROFKIT_RESULTS"] == str(results_dir)
