"""Shared fixtures: tiny configs that train in well under a second."""

from __future__ import annotations

import pytest
import torch

from profkit.config import RunConfig


@pytest.fixture
def tiny_cfg(tmp_path):
    def make(**kw) -> RunConfig:
        base = dict(dataset="mnist-5k", hidden_layers=1, width=32, batch_size=20, epochs=1,
                    max_steps=20, warmup_steps=2, results=str(tmp_path / "results"))
        base.update(kw)
        return RunConfig(**base)

    return make


@pytest.fixture
def one_thread():
    """Tiny matmuls: one torch thread keeps thread wake-ups from dominating (and, on a busy
    shared machine, multiplying) the run time of method tests."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



@pytest.fixture(scope="session")
def report_results(tmp_path_factory):
    """A small real results set for the report and its figures, made once per session."""
    from report_results import make_results

    return make_results(tmp_path_factory.mktemp("report-results"))
