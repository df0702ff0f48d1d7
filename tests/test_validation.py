"""The one validation module: every range check refuses NaN, inf and bools, and says the range."""

import math

import pytest

from profkit.config import RunConfig
from profkit.validation import (
    ConfigError,
    check_bool,
    check_choice,
    check_int,
    check_probability,
    check_real,
)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_real_refuses_non_finite_even_with_open_ends(value):
    # NaN compares false with every bound, so a range test alone would accept it.
    with pytest.raises(ConfigError, match=r"x must be a finite number in \[-1e\+06, 1e\+06\]"):
        check_real("x", value, -1e6, 1e6)


@pytest.mark.parametrize("value,ok",
                         [(0.0, False), (1e-12, True), (1.0, True), (1.0 + 1e-12, False)])
def test_probability_is_open_at_zero_closed_at_one(value, ok):
    if ok:
        assert check_probability("p", value) == value
    else:
        with pytest.raises(ConfigError, match=r"p must be in \(0, 1\], got"):
            check_probability("p", value)


def test_open_upper_end_and_unbounded_range_are_worded():
    with pytest.raises(ConfigError, match=r"U must be in \(0, 1\) \(norm\), got 1"):
        check_real("U", 1, 0.0, 1.0, lo_open=True, hi_open=True, what="norm")
    with pytest.raises(ConfigError, match="t must be > 0, got -2"):
        check_real("t", -2, 0.0, lo_open=True)


@pytest.mark.parametrize("check,args", [(check_real, (0.0, 1.0)), (check_int, (0, 10))])
def test_bool_is_not_a_number(check, args):
    with pytest.raises(ConfigError, match="must be a"):
        check("flag", True, *args)


def test_int_refuses_floats_and_names_range():
    with pytest.raises(ConfigError, match=r"K must be an integer in \[1, 16\] \(bits\), got 6.0"):
        check_int("K", 6.0, 1, 16, "bits")
    with pytest.raises(ConfigError, match="n must be >= 1, got 0"):
        check_int("n", 0, 1)
    assert check_int("n", 10**15, 1) == 10**15


def test_choice_and_bool_list_what_is_valid():
    with pytest.raises(ConfigError, match="mode must be one of a, b; got 'c'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(ConfigError, match="on must be true or false, got 1"):
        check_bool("on", 1)


@pytest.mark.parametrize("field,method,params", [
    ("lr", "standard", {}), ("momentum", "standard", {}),
    ("p", "dropout", None), ("alpha", "adaptive-dropout", None), ("epsilon", "mc-approx", None),
    ("U", "alsh-approx", None),
])
def test_config_and_method_params_refuse_nan(field, method, params):
    """Every user of the module inherits NaN refusal: config fields and each method's Params."""
    kwargs = {"method": method}
    if params is None:
        kwargs["method_params"] = {field: math.nan}
    else:
        kwargs[field] = math.nan
    with pytest.raises(ConfigError, match=f"{field} must be a finite number"):
        RunConfig(**kwargs)
