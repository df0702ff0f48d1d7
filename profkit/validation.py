"""Range checks for the settings a user gives: config fields, method parameters, sweep counts.

One place for the rules, torch-free so that config, methods' Params and sweep files share them:
a number must be finite (NaN and inf are refused: every comparison with NaN is false, so a
range check alone would let it through), a bool is not a number, and each message names the
setting, the valid range, what the setting means, and the value given.
"""

from __future__ import annotations

import math
from typing import Any


class ConfigError(ValueError):
    """A setting has an impossible value; the message names the setting and the valid range."""


def _fmt(x: float) -> str:
    return f"{x:g}"


def _what(what: str) -> str:
    return f" ({what})" if what else ""


def _int_range(lo: int, hi: int | None) -> str:
    return f">= {lo}" if hi is None else f"in [{lo}, {hi}]"


def check_int(name: str, value: Any, lo: int, hi: int | None = None, what: str = "") -> int:
    """An integer (not a bool) in [lo, hi]; hi None means no upper bound."""
    rng = _int_range(lo, hi)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer {rng}{_what(what)}, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ConfigError(f"{name} must be {rng}{_what(what)}, got {value}")
    return value


def _real_range(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    if math.isinf(hi):
        return f"{'>' if lo_open else '>='} {_fmt(lo)}"
    return f"in {'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"


def check_real(name: str, value: Any, lo: float, hi: float = math.inf, *, lo_open: bool = False,
               hi_open: bool = False, what: str = "") -> float:
    """A finite number (int or float, not a bool) in the range [lo, hi]; either end may be open."""
    rng = _real_range(lo, hi, lo_open, hi_open)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number {rng}{_what(what)}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number {rng}{_what(what)}, got {value!r}")
    if value < lo or value > hi or (lo_open and value == lo) or (hi_open and value == hi):
        raise ConfigError(f"{name} must be {rng}{_what(what)}, got {value}")
    return value


def check_probability(name: str, value: Any, what: str = "") -> float:
    """A probability in (0, 1]: 0 would keep nothing (and 1/p is undefined)."""
    return check_real(name, value, 0.0, 1.0, lo_open=True, what=what)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of `choices`; the message lists them."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def check_bool(name: str, value: Any) -> bool:
    """True or False (not 0/1, not "yes")."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value
