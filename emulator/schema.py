"""A small JSON-schema validator that reports the first failure the way Workers AI does.

Workers AI answers schema failures with 5006 and texts such as
`required properties at '/' are 'prompt'`,
`Additional or unevaluated properties '/seed' at '/' not allowed`,
`Type mismatch of '/messages/1/content', 'string' not in 'array'` and
`oneOf at '/' not met, 0 matches: ...`. The keywords supported are the ones the model schemas
use: type, enum, const, minLength/maxLength, pattern, minimum/maximum, minItems/maxItems, items,
required, properties, additionalProperties (bool or schema), oneOf, anyOf.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.errors import AiError, bad_input


def type_name(value: Any) -> str:
    """The JSON type name of a parsed value (integral floats count as integers, as in JS)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "binary"  # raw bytes from a binary request body


def _type_ok(value: Any, expected: str) -> bool:
    actual = type_name(value)
    if expected == "number":
        return actual in ("number", "integer")
    return actual == expected


def _child(path: str, key: str | int) -> str:
    return f"{path.rstrip('/')}/{key}"


def first_error(value: Any, schema: dict, path: str = "/") -> str | None:
    """Return the first validation failure of `value` against `schema`, or None."""
    expected = schema.get("type")
    if expected is not None:
        allowed = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(value, t) for t in allowed):
            # JS names: an integral number is still a 'number' when reporting the mismatch.
            actual = type_name(value)
            actual = "number" if actual == "integer" else actual
            return f"Type mismatch of '{path}', '{actual}' not in '{','.join(allowed)}'"
    if "const" in schema and value != schema["const"]:
        return f"const at '{path}' not met"
    if "enum" in schema and value not in schema["enum"]:
        return f"enum at '{path}' not met, expected one of {schema['enum']!r}"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return f"minLength at '{path}' not met"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"maxLength at '{path}' not met"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"pattern at '{path}' not met"
    if type_name(value) in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"minimum at '{path}' not met, {value} < {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"maximum at '{path}' not met, {value} > {schema['maximum']}"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return f"minItems at '{path}' not met"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"maxItems at '{path}' not met, {len(value)} > {schema['maxItems']}"
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                err = first_error(item, items, _child(path, i))
                if err:
                    return err
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", []) if k not in value]
        if missing:
            quoted = ", ".join(f"'{k}'" for k in missing)
            return f"required properties at '{path}' are {quoted}"
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            errs = [first_error(value, branch, path) for branch in schema[keyword]]
            matches = errs.count(None)
            if keyword == "oneOf" and matches != 1:
                detail = "; ".join(e for e in errs if e)
                return f"oneOf at '{path}' not met, {matches} matches" + (
                    f": {detail}" if detail else ""
                )
            if keyword == "anyOf" and matches == 0:
                return f"anyOf at '{path}' not met: {'; '.join(e for e in errs if e)}"
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, sub in props.items():
            if key in value:
                err = first_error(value[key], sub, _child(path, key))
                if err:
                    return err
        extra = schema.get("additionalProperties")
        for key in value:
            if key in props:
                continue
            if extra is False:
                return (
                    f"Additional or unevaluated properties '{_child(path, key)}' at "
                    f"'{path}' not allowed"
                )
            if isinstance(extra, dict):
                err = first_error(value[key], extra, _child(path, key))
                if err:
                    return err
    return None


def validate(value: Any, schema: dict) -> None:
    """Raise 5006 with Workers AI's text when `value` does not satisfy `schema`."""
    err = first_error(value, schema)
    if err:
        raise bad_input(err)


def check(value: Any, schema: dict) -> AiError | None:
    """Like `validate` but return the error instead of raising it."""
    err = first_error(value, schema)
    return bad_input(err) if err else None
