"""Build a small value that satisfies a JSON schema: JSON-mode answers and tool arguments."""

from __future__ import annotations

from typing import Any


def instance(schema: Any, depth: int = 0) -> Any:
    """A minimal deterministic instance: strings "x", numbers 1, every declared property."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("oneOf", "anyOf", "allOf"):
        if schema.get(key):
            return instance(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "string":
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 1))
        value = max(1, low) if isinstance(low, int | float) else 1
        high = schema.get("maximum")
        if isinstance(high, int | float) and value > high:
            value = high
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [instance(schema.get("items", {}), depth + 1) for _ in range(count)]
    props = schema.get("properties") or {}
    return {name: instance(sub, depth + 1) for name, sub in props.items()}
