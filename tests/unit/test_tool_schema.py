"""Tool schemas from pydantic, zod and OpenAI strict mode, normalised for native models: every
generated schema passes the published native tool rule and still accepts what it accepted."""

from __future__ import annotations

import copy
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.schema import first_error
from emulator.text import _FLAT_TOOL
from mapping import catalog, chat, tool_schema

NAMES = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8)
LEAVES = {
    "string": st.text(max_size=5),
    "integer": st.integers(-5, 5),
    "number": st.floats(-5, 5, allow_nan=False),
    "boolean": st.booleans(),
}


@st.composite
def leaf(draw):
    kind = draw(st.sampled_from(sorted(LEAVES)))
    if kind == "string" and draw(st.booleans()):
        values = draw(st.lists(st.text(string.ascii_letters, max_size=4), min_size=1, max_size=4))
        return {"enum": values}, st.sampled_from(values)  # enum without type
    schema = {"type": kind}
    if draw(st.booleans()):
        schema["description"] = draw(st.text(max_size=10))
    return schema, LEAVES[kind]


def wrap(draw, pair, defs):
    """Optionally make a schema nullable (three spellings) or move it behind a $ref."""
    schema, values = pair
    how = draw(st.sampled_from(["plain", "anyOf", "oneOf", "type-list", "ref", "allOf"]))
    if how in ("anyOf", "oneOf"):
        branches = [schema, {"type": "null"}]
        return {how: draw(st.permutations(branches))}, values
    if how == "type-list" and isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}, values
    if how == "ref":
        name = draw(NAMES).title() + str(len(defs))
        defs[name] = schema
        return {"$ref": f"#/$defs/{name}"}, values
    if how == "allOf":
        return {"allOf": [schema]}, values
    return schema, values


def schemas(defs):
    @st.composite
    def node(draw, depth=0):
        if depth >= 2 or draw(st.booleans()):
            return wrap(draw, draw(leaf()), defs)
        if draw(st.booleans()):
            items, values = draw(node(depth + 1))
            return wrap(
                draw, ({"type": "array", "items": items}, st.lists(values, max_size=2)), defs
            )
        names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
        children = [draw(node(depth + 1)) for _ in names]
        schema = {
            "type": "object",
            "properties": {n: s for n, (s, _) in zip(names, children, strict=True)},
        }
        values = st.fixed_dictionaries({n: v for n, (_, v) in zip(names, children, strict=True)})
        return wrap(draw, (schema, values), defs)

    return node()


@st.composite
def tool_parameters(draw):
    defs: dict = {}
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    props = [draw(schemas(defs)) for _ in names]
    parameters = {
        "type": "object",
        "properties": {n: s for n, (s, _) in zip(names, props, strict=True)},
        "required": draw(st.lists(st.sampled_from(names), unique=True)),
        "additionalProperties": False,
    }
    if defs:
        parameters["$defs"] = defs
    instance = draw(st.fixed_dictionaries({n: v for n, (_, v) in zip(names, props, strict=True)}))
    return parameters, instance


def every_property(schema):
    for name, spec in (schema.get("properties") or {}).items():
        yield name, spec
        yield from every_property(spec)
        if isinstance(spec.get("items"), dict):
            yield from every_property(spec["items"])


@settings(max_examples=150, deadline=None)
@given(tool_parameters())
def test_normalised_schemas_pass_the_native_rule_and_mean_the_same(case):
    parameters, instance = case
    original = copy.deepcopy(parameters)
    normalised = tool_schema.normalise(parameters)
    assert parameters == original  # pure
    tool = {"name": "t", "description": "d", "parameters": normalised}
    assert first_error(tool, _FLAT_TOOL) is None
    for _, spec in every_property(normalised):
        assert isinstance(spec["type"], str) and spec["description"].strip()
        assert not {"$ref", "anyOf", "oneOf", "allOf"} & set(spec)
    assert "$ref" not in str(normalised)
    assert first_error(instance, normalised) is None
    assert set(normalised["properties"]) == set(parameters["properties"])
    assert normalised["required"] == parameters["required"]
    assert tool_schema.normalise(normalised) == normalised


def test_pydantic_style_schema():
    pydantic = {
        "$defs": {
            "Unit": {"enum": ["c", "f"], "title": "Unit", "type": "string"},
            "Place": {
                "properties": {"city": {"title": "City", "type": "string"}},
                "required": ["city"],
                "title": "Place",
                "type": "object",
            },
        },
        "properties": {
            "place": {"$ref": "#/$defs/Place"},
            "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}], "default": None},
            "days": {"type": ["integer", "null"], "minimum": 1},
            "mode": {"enum": [1, 2]},
        },
        "required": ["place"],
        "title": "Args",
        "type": "object",
    }
    out = tool_schema.normalise(pydantic)
    assert out["properties"]["place"]["properties"]["city"] == {
        "title": "City",
        "type": "string",
        "description": "City",
    }
    unit = out["properties"]["unit"]
    assert unit["type"] == "string" and unit["enum"] == ["c", "f"]
    assert unit["description"] == "Unit (may be null)."
    days = out["properties"]["days"]
    assert days["type"] == "integer" and days["minimum"] == 1 and "null" in days["description"]
    assert out["properties"]["mode"]["type"] == "integer"


def test_multi_type_unions_name_the_alternatives():
    out = tool_schema.normalise(
        {"properties": {"x": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}
    )
    assert out["properties"]["x"] == {
        "type": "string",
        "description": "X (one of: string | integer).",
    }


def test_native_chat_requests_carry_normalised_tools():
    tool = {
        "type": "function",
        "function": {
            "name": "f",
            "parameters": {"type": "object", "properties": {"q": {"type": ["string", "null"]}}},
        },
    }
    body = {"messages": [{"role": "user", "content": "f"}], "tools": [tool]}
    llama = catalog.MODELS["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
    sent = chat.chat_request(body, llama).inputs["tools"][0]["function"]["parameters"]
    assert sent["properties"]["q"] == {"type": "string", "description": "Q (may be null)."}
