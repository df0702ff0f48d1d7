"""The probe contract: optional instruments the trainer starts, informs and collects from (I5).

The invariants I1-I7 are stated in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from profkit.phases import PhaseListener


@dataclass
class RunContext:
    """What a probe may read while a run goes on (updated by the trainer between steps)."""

    run_dir: Any  # profkit.store.RunDir
    timer: Any  # profkit.phases.PhaseTimer: `.current` is the phase now running, or None
    epoch: int = -1
    step: int = -1


class Probe:
    """Base probe: does nothing. Subclasses override what they need.

    name: the instrument's name, recorded in run.json's `instruments`.
    clean: whether timings taken with this probe on are still clean (I5, docs/architecture.md).
    listener: an object with enter(name)/exit(name) for phase boundaries, or None.
    """

    name = "probe"
    clean = True
    listener: PhaseListener | None = None

    def start(self, ctx: RunContext) -> None: ...

    def epoch_end(self, epoch: int) -> dict[str, pd.DataFrame]:
        """Rows to append to tables at the end of an epoch: {table_name: frame}."""
        return {}

    def stop(self) -> dict[str, pd.DataFrame]:
        """Stop and return the remaining rows: {table_name: frame}. Called on every exit path."""
        return {}

    def notes(self) -> list[str]:
        """Warnings for the run summary (e.g. an event this machine does not support)."""
        return []

    def info(self) -> list[str]:
        """Notes for the run summary that are not warnings (e.g. where a profile was written)."""
        return []
