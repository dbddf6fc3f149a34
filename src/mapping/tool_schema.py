"""Tool parameter schemas from pydantic, zod or OpenAI strict mode, made acceptable to Workers
AI's native tool schema without changing what they mean.

The native schema (every `@cf/meta/llama-*` model JSON in cloudflare-docs, e.g.
llama-3.3-70b-instruct-fp8-fast.json @ 15888915: `tools[].parameters.properties`
`additionalProperties: {type: string, description: string, required: [type, description]}`)
wants each property to have a *string* `type` and a `description`. Generated schemas use
`$ref`/`$defs`, `anyOf`/`oneOf` (nullable unions), `"type": ["string", "null"]`, `allOf`,
`enum`/`const` without `type`, and leave descriptions out. `normalise(parameters)`:

    $ref            -> the definition, inlined (a cycle becomes an object described as such)
    allOf           -> its members merged
    X | null        -> X, "(may be null)" in the description
    X | Y           -> X's type, the alternatives listed in the description
    enum/const      -> type inferred from the values
    no description  -> the title, else the property name in words
    nested objects and arrays are normalised the same way (properties, items).
Pure: returns a new dict, never mutates its input.
"""

from __future__ import annotations

import json
from typing import Any

_JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
_MAX_DEPTH = 16


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "string"


def _words(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip() or "value"


Resolved = tuple[dict, list[str], tuple[str, ...]]


def _resolve(schema: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Resolved:
    """`schema` with $ref and allOf resolved, notes for the description, and the refs followed
    (so a recursive definition stops instead of unfolding forever)."""
    notes: list[str] = []
    if not isinstance(schema, dict):
        return ({} if schema is True or schema is None else {"not": {}}), notes, seen
    schema = dict(schema)
    ref = schema.pop("$ref", None)
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if ref in seen or len(seen) > _MAX_DEPTH:
            recursive = {"type": "object", "description": f"A {_words(name)} (recursive)."}
            return recursive, notes, seen
        target, more, seen = _resolve(defs.get(name, {}), defs, (*seen, ref))
        notes += more
        schema = {**target, **schema}
    members = schema.pop("allOf", None)
    if isinstance(members, list):
        merged: dict[str, Any] = {}
        for member in members:
            part, more, _ = _resolve(member, defs, seen)
            notes += more
            for key, value in part.items():
                if key in ("properties",) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                elif key == "required" and isinstance(merged.get(key), list):
                    merged[key] = [*merged[key], *[v for v in value if v not in merged[key]]]
                else:
                    merged.setdefault(key, value)
        schema = {**merged, **schema}
    return schema, notes, seen


def _property(schema: Any, name: str, defs: dict[str, Any], seen: tuple[str, ...]) -> dict:
    """One property schema with a string `type` and a `description`."""
    schema, notes, seen = _resolve(schema, defs, seen)
    union = schema.pop("anyOf", None)
    if union is None:
        union = schema.pop("oneOf", None)
    if isinstance(union, list) and union:
        branches = [_property(b, name, defs, seen) for b in union]
        kept = [b for b in branches if b.get("type") != "null"]
        if len(kept) < len(branches):
            notes.append("may be null")
        if len(kept) == 1:
            inner = dict(kept[0])
            inner.pop("description", None)
            schema = {**inner, **schema}
        elif kept:
            alternatives = " | ".join(_summary(b) for b in kept)
            notes.append(f"one of: {alternatives}")
            # The native rule wants one string type: the first alternative's, the rest named.
            schema = {**{k: v for k, v in kept[0].items() if k != "description"}, **schema}
        else:
            schema.setdefault("type", "null")
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or ["null"]
        if len(kinds) < len(kind):
            notes.append("may be null")
        if len(kinds) > 1:
            notes.append("one of the types " + ", ".join(kinds))
        kind = kinds[0]
    if not isinstance(kind, str) or kind not in _JSON_TYPES:
        kind = _infer(schema)
    schema["type"] = kind
    if kind == "object" and isinstance(schema.get("properties"), dict):
        schema["properties"] = {
            key: _property(value, key, defs, seen) for key, value in schema["properties"].items()
        }
    if kind == "array" and "items" in schema:
        schema["items"] = _property(schema["items"], f"{name} item", defs, seen)
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        notes.append("may be null")
    schema.pop("$defs", None)
    schema.pop("definitions", None)
    description = schema.get("description")
    if not isinstance(description, str) or not description.strip():
        title = schema.get("title")
        description = title if isinstance(title, str) and title.strip() else _words(name)
        description = description[:1].upper() + description[1:]
    extra = [n for n in dict.fromkeys(notes) if n not in description]
    if extra:
        description = f"{description.rstrip('.')} ({'; '.join(extra)})."
    schema["description"] = description
    return schema


def _infer(schema: dict) -> str:
    """The type a schema without one means, from its values or keywords."""
    values = schema.get("enum") if isinstance(schema.get("enum"), list) else None
    if "const" in schema:
        values = [schema["const"]]
    if values:
        kinds = {_type_of(v) for v in values if v is not None} or {"null"}
        if kinds <= {"integer", "number"} and "number" in kinds:
            return "number"
        return kinds.pop() if len(kinds) == 1 else "string"
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return "string"


def _summary(schema: dict) -> str:
    if isinstance(schema.get("enum"), list):
        return json.dumps(schema["enum"], ensure_ascii=False)
    return str(schema.get("type", "value"))


def normalise(parameters: Any) -> dict:
    """A tool's `parameters` in the form native Workers AI models accept (see module doc)."""
    if not isinstance(parameters, dict):
        return {"type": "object", "properties": {}}
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        if isinstance(parameters.get(key), dict):
            defs.update(parameters[key])
    root, _, _ = _resolve(parameters, defs, ())
    properties = root.get("properties") if isinstance(root.get("properties"), dict) else {}
    out: dict[str, Any] = {
        k: v for k, v in root.items() if k not in ("$defs", "definitions", "$schema", "$id")
    }
    out["type"] = "object"
    out["properties"] = {name: _property(spec, name, defs, ()) for name, spec in properties.items()}
    required = root.get("required")
    if isinstance(required, list):
        out["required"] = [r for r in required if isinstance(r, str) and r in properties]
    return out
