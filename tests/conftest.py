"""Shared fixtures: tiny configs that train in well under a second."""

from __future__ import annotations

import pytest

from profkit.config import RunConfig


@pytest.fixture
def tiny_cfg(tmp_path):
    def make(**kw) -> RunConfig:
        base = dict(dataset="mnist-5k", hidden_layers=1, width=32, batch_size=20, epochs=1,
                    max_steps=20, warmup_steps=2, results=str(tmp_path / "results"))
        base.update(kw)
        return RunConfig(**base)

    return make
