"""Field validation for request bodies: plain functions that return the value or raise a 400
naming the field (`param`), in OpenAI's wording where OpenAI has one."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from core.errors import invalid, missing

MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer a JavaScript number holds exactly

_MISSING = object()


def _type_error(param: str, expected: str, value: Any) -> Exception:
    return invalid(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)}.", param
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def required_str(body: Mapping[str, Any], param: str, *, allow_empty: bool = False) -> str:
    """A present string field."""
    value = body.get(param, _MISSING)
    if value is _MISSING or value is None:
        raise missing(param)
    if not isinstance(value, str):
        raise _type_error(param, "a string", value)
    if not allow_empty and not value.strip():
        raise invalid(f"'{param}' must not be empty.", param)
    return value


def optional_str(body: Mapping[str, Any], param: str, default: str | None = None) -> str | None:
    """A string field, or `default` when absent or null."""
    value = body.get(param)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _type_error(param, "a string", value)
    return value


def optional_bool(body: Mapping[str, Any], param: str, default: bool = False) -> bool:
    """A boolean field."""
    value = body.get(param)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _type_error(param, "a boolean", value)
    return value


def optional_number(
    body: Mapping[str, Any],
    param: str,
    low: float | None = None,
    high: float | None = None,
    default: float | None = None,
) -> float | None:
    """A number field within [low, high]."""
    value = body.get(param)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _type_error(param, "a number", value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(_range_message(param, value, low, high), param, "invalid_value")
    return value


def optional_int(
    body: Mapping[str, Any],
    param: str,
    low: int | None = None,
    high: int | None = None,
    default: int | None = None,
) -> int | None:
    """An integer field within [low, high] (integral floats such as 2.0 are accepted)."""
    value = body.get(param)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(param, "an integer", value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(_range_message(param, value, low, high), param, "invalid_value")
    if abs(value) > MAX_SAFE_INTEGER:
        # Past 2^53 a number is not exact in JavaScript, and so cannot reach Workers AI.
        limit = MAX_SAFE_INTEGER
        raise invalid(_range_message(param, value, -limit, limit), param, "invalid_value")
    return value


def one_of(
    body: Mapping[str, Any], param: str, choices: Collection[str], default: str | None = None
) -> str | None:
    """A string field restricted to `choices`."""
    value = optional_str(body, param)
    if value is None:
        return default
    if value not in choices:
        listed = ", ".join(f"'{c}'" for c in choices)
        raise invalid(
            f"Invalid value for '{param}': '{value}'. Supported values are: {listed}.",
            param,
            "invalid_value",
        )
    return value


def _range_message(param: str, value: Any, low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"Invalid '{param}': {value} is not between {low} and {high}."
    if low is not None:
        return f"Invalid '{param}': {value} is less than the minimum of {low}."
    return f"Invalid '{param}': {value} is greater than the maximum of {high}."
