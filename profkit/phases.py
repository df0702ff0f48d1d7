"""PhaseTimer: the marker methods use to name phases, timed with a monotonic clock (I1, I2).

The invariants I1-I7 are stated in docs/architecture.md.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import Protocol

DATA, OTHER, DIAGNOSTIC = "data", "other", "diagnostic"


class PhaseError(RuntimeError):
    pass


class PhaseListener(Protocol):
    """Told at phase boundaries, outside the timed interval (e.g. a perf counter switch)."""

    def enter(self, name: str) -> None: ...
    def exit(self, name: str) -> None: ...


class _Phase:
    __slots__ = ("timer", "index", "name", "t0")

    def __init__(self, timer: PhaseTimer, index: int, name: str):
        self.timer, self.index, self.name, self.t0 = timer, index, name, 0

    def __enter__(self) -> _Phase:
        t = self.timer
        if t.current is not None:
            raise PhaseError(f"phase {self.name!r} entered inside {t.current!r}: phases are "
                             "disjoint; end the outer one first")
        t.current = self.name
        for listener in t.listeners:
            listener.enter(self.name)
        self.t0 = perf_counter_ns()
        return self

    def __exit__(self, *exc: object) -> None:
        t1 = perf_counter_ns()
        t = self.timer
        t.acc[self.index] += t1 - self.t0
        t.current = None
        for listener in t.listeners:
            listener.exit(self.name)


class PhaseTimer:
    """Accumulates wall time per named phase within one step.

    `timer("forward")` returns a reusable context manager, so marking a phase allocates
    nothing. The trainer reads `acc` at the end of a step and calls `reset()`.
    """

    def __init__(self, names: tuple[str, ...], listeners: tuple[PhaseListener, ...] = ()):
        if OTHER in names or len(set(names)) != len(names):
            raise PhaseError(f"phase names must be unique and not {OTHER!r}: {names}")
        self.names = names
        self.listeners = listeners
        self.acc = [0] * len(names)
        self.current: str | None = None
        self._phases = {n: _Phase(self, i, n) for i, n in enumerate(names)}

    def __call__(self, name: str) -> _Phase:
        try:
            return self._phases[name]
        except KeyError:
            raise PhaseError(f"phase {name!r} is not declared; declared: {', '.join(self.names)}"
                             ) from None

    def reset(self) -> None:
        self.acc = [0] * len(self.names)

    def take(self) -> list[int]:
        """Hand over this step's phase times and start the next step's in a new list.

        The caller keeps the returned list (the recorder stores it as is): a new list, not
        zeroing in place, is what keeps a recorded step's times from being overwritten.
        """
        acc = self.acc
        self.acc = [0] * len(self.names)
        return acc


class NullMarker:
    """A marker that measures nothing: for tests and for analysis-only uses of a method."""

    class _Null:
        def __enter__(self) -> NullMarker._Null:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    _null = _Null()

    def __call__(self, name: str) -> _Null:
        return self._null
