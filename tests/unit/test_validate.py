"""Field validation names the field and says what was wrong."""

from __future__ import annotations

import pytest

from core import validate
from core.errors import ApiError


def _error(fn, *args, **kw) -> ApiError:
    with pytest.raises(ApiError) as caught:
        fn(*args, **kw)
    assert caught.value.status == 400
    return caught.value


def test_required_str_missing_wrong_type_and_empty():
    assert _error(validate.required_str, {}, "input").code == "missing_required_parameter"
    assert (
        "expected a string, but got a number"
        in _error(validate.required_str, {"input": 3}, "input").message
    )
    assert _error(validate.required_str, {"input": "  "}, "input").param == "input"
    assert validate.required_str({"input": "x"}, "input") == "x"


def test_numbers_respect_ranges_and_reject_booleans():
    assert validate.optional_number({"t": 0.5}, "t", 0, 2) == 0.5
    assert validate.optional_number({}, "t", 0, 2, default=1) == 1
    assert "between 0 and 2" in _error(validate.optional_number, {"t": 3}, "t", 0, 2).message
    assert _error(validate.optional_number, {"t": True}, "t").param == "t"


def test_int_accepts_integral_floats_only():
    assert validate.optional_int({"n": 2.0}, "n", 1) == 2
    assert "integer" in _error(validate.optional_int, {"n": 2.5}, "n").message
    assert "minimum of 1" in _error(validate.optional_int, {"n": 0}, "n", 1).message


def test_one_of_lists_choices():
    assert validate.one_of({"f": "json"}, "f", ("json", "text")) == "json"
    err = _error(validate.one_of, {"f": "xml"}, "f", ("json", "text"))
    assert "'json', 'text'" in err.message
    assert err.param == "f"


def test_bool():
    assert validate.optional_bool({"s": True}, "s") is True
    assert _error(validate.optional_bool, {"s": "yes"}, "s").param == "s"
