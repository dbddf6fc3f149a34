"""Moderations: Llama Guard verdict parsing, the hazard -> OpenAI category map, the handler."""

from __future__ import annotations

import pytest

from core.errors import ApiError
from mapping import moderation
from mapping.moderation import (
    CATEGORIES,
    HAZARD_CATEGORIES,
    HAZARDS,
    Verdict,
    openai_categories,
    parse_verdict,
)
from tests.unit.fakes import AUTH, FakeAi, body_json, make_call, run

GUARD = "@cf/meta/llama-guard-3-8b"
OPENAI_KEYS = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
]


def guard(verdicts: dict[str, str]):
    """A fake Llama Guard answering `verdicts[text]` (default "safe") as Workers AI does."""

    def answer(model, inputs):
        text = inputs["messages"][-1]["content"]
        return {"response": verdicts.get(text, "safe"), "usage": {"prompt_tokens": 5}}

    return FakeAi(answer=answer)


def post(body, ai=None):
    ai = ai or guard({})
    return run(make_call("POST", "/v1/moderations", body=body, headers=AUTH, ai=ai)), ai


def only(*names):
    return {k: k in names for k in OPENAI_KEYS}


# --- parse_verdict ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "verdict"),
    [
        ({"response": "safe"}, Verdict(False)),
        ({"response": "\n\nsafe"}, Verdict(False)),
        ({"response": "Safe."}, Verdict(False)),
        ({"response": "unsafe\nS1"}, Verdict(True, ("S1",))),
        ({"response": "unsafe\nS1,S10"}, Verdict(True, ("S1", "S10"))),
        ({"response": " unsafe\ns2, S14 "}, Verdict(True, ("S2", "S14"))),
        ({"response": "unsafe S9 S11"}, Verdict(True, ("S9", "S11"))),
        ({"response": "unsafe\nS1\nS1"}, Verdict(True, ("S1",))),
        ({"response": "unsafe\nS10: Hate"}, Verdict(True, ("S10",))),
        ({"response": "unsafe\nViolent Crimes, Suicide & Self Harm"}, Verdict(True, ("S1", "S11"))),
        ({"response": "unsafe"}, Verdict(True, ())),
        ({"response": {"safe": True, "categories": []}}, Verdict(False)),
        ({"response": {"safe": False, "categories": ["S1", "S12"]}}, Verdict(True, ("S1", "S12"))),
        ({"response": {"safe": False, "categories": []}}, Verdict(True, ())),
        ({"response": {"safe": False, "categories": "S3,S4"}}, Verdict(True, ("S3", "S4"))),
        ({"response": {"safe": False, "violated_categories": ["S5"]}}, Verdict(True, ("S5",))),
        ({"response": {"verdict": "unsafe", "categories": ["S7"]}}, Verdict(True, ("S7",))),
        ({"response": {"categories": ["S8"]}}, Verdict(True, ("S8",))),
        ({"response": '{"safe": false, "categories": ["S6"]}'}, Verdict(True, ("S6",))),
        ({"response": '{"safe": true, "categories": []}'}, Verdict(False)),
        ("unsafe\nS13", Verdict(True, ("S13",))),
        ({"safe": False, "categories": ["S2"]}, Verdict(True, ("S2",))),
        ({"choices": [{"message": {"content": "unsafe\nS4"}}]}, Verdict(True, ("S4",))),
    ],
)
def test_parse_verdict_variants(output, verdict):
    assert parse_verdict(output) == verdict


@pytest.mark.parametrize(
    "output",
    [
        None,
        3,
        {"response": ""},
        {"response": "I cannot help"},
        {"response": {"foo": 1}},
        {"response": None},
        {"choices": []},
        {"choices": [5]},
        {"choices": [{"message": 1}]},
        "{not json",
        ["safe"],
    ],
)
def test_unreadable_verdict_is_502(output):
    with pytest.raises(ApiError) as caught:
        parse_verdict(output)
    assert caught.value.body() == {
        "error": {
            "message": "The moderation model returned an answer that is neither 'safe' nor "
            "'unsafe'.",
            "type": "api_error",
            "param": None,
            "code": "upstream_error",
        }
    }
    assert caught.value.status == 502


# --- the category map ------------------------------------------------------------------------


def test_all_openai_keys_and_all_hazards_are_covered():
    assert list(CATEGORIES) == OPENAI_KEYS
    assert list(HAZARD_CATEGORIES) == list(HAZARDS) == [f"S{n}" for n in range(1, 15)]
    assert all(c in CATEGORIES for cats in HAZARD_CATEGORIES.values() for c in cats)


@pytest.mark.parametrize(
    ("hazards", "expected"),
    [
        ((), only()),
        (("S1",), only("violence", "illicit", "illicit/violent")),
        (("S2",), only("illicit")),
        (("S3",), only("sexual", "illicit")),
        (("S4",), only("sexual", "sexual/minors")),
        (("S5",), only("harassment")),
        (("S6",), only()),
        (("S7",), only()),
        (("S8",), only("illicit")),
        (("S9",), only("violence", "illicit", "illicit/violent")),
        (("S10",), only("hate")),
        (("S11",), only("self-harm")),
        (("S12",), only("sexual")),
        (("S13",), only()),
        (("S14",), only("illicit")),
        (("S1", "S10"), only("violence", "illicit", "illicit/violent", "hate", "hate/threatening")),
        (
            ("S5", "S9"),
            only("harassment", "harassment/threatening", "violence", "illicit", "illicit/violent"),
        ),
        (("S99",), only()),
    ],
)
def test_hazard_to_openai_categories(hazards, expected):
    assert openai_categories(Verdict(True, hazards)) == expected


# --- parse_input -----------------------------------------------------------------------------


def test_inputs():
    assert moderation.parse_input("a") == ["a"]
    assert moderation.parse_input(["a", "b"]) == ["a", "b"]
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert moderation.parse_input(parts) == ["a\nb"]


PART_MESSAGE = 'Each input object must be {"type": "text", "text": "..."}.'
TYPE_MESSAGE = (
    "Invalid type for 'input': expected a string, an array of strings, or an array of text "
    "input objects."
)


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        (None, "Missing required parameter: 'input'.", "missing_required_parameter"),
        ([], "'input' must not be an empty array.", None),
        (5, TYPE_MESSAGE, None),
        ({"text": "a"}, TYPE_MESSAGE, None),
        (["a", 1], TYPE_MESSAGE, None),
        (["a", {"type": "text", "text": "b"}], TYPE_MESSAGE, None),
        ([[1, 2]], TYPE_MESSAGE, None),
        ([{"type": "text"}], PART_MESSAGE, None),
        ([{"type": "audio", "text": "x"}], PART_MESSAGE, None),
        (
            [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
            "Image inputs are not supported: the moderation model (Llama Guard 3) reads text only.",
            "unsupported_input",
        ),
        (["a"] * 33, "'input' has 33 items; at most 32 are allowed per request.", "invalid_value"),
    ],
)
def test_bad_inputs_name_input(value, message, code):
    with pytest.raises(ApiError) as caught:
        moderation.parse_input(value)
    assert caught.value.body() == {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "input",
            "code": code,
        }
    }


# --- the handler -----------------------------------------------------------------------------


def test_safe_string():
    reply, ai = post({"input": "hello there"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    body = body_json(reply)
    assert body["id"].startswith("modr-") and len(body["id"]) == 29
    assert body["model"] == GUARD
    assert body["results"] == [
        {
            "flagged": False,
            "categories": only(),
            "category_scores": dict.fromkeys(OPENAI_KEYS, 0.0),
            "category_applied_input_types": {k: ["text"] for k in OPENAI_KEYS},
            "hazard_categories": [],
        }
    ]
    assert ai.calls == [(GUARD, {"messages": [{"role": "user", "content": "hello there"}]}, None)]


def test_unsafe_list_keeps_order_one_call_each():
    verdicts = {"b": "unsafe\nS1,S10", "d": "unsafe\nS11"}
    reply, ai = post(
        {"input": ["a", "b", "c", "d"], "model": "omni-moderation-latest"}, guard(verdicts)
    )
    body = body_json(reply)
    assert [r["flagged"] for r in body["results"]] == [False, True, False, True]
    assert body["results"][1]["categories"] == only(
        "violence", "illicit", "illicit/violent", "hate", "hate/threatening"
    )
    assert body["results"][1]["category_scores"]["hate"] == 1.0
    assert body["results"][1]["category_scores"]["sexual"] == 0.0
    assert body["results"][1]["hazard_categories"] == ["S1", "S10"]
    assert body["results"][3]["categories"] == only("self-harm")
    assert sorted(c[1]["messages"][0]["content"] for c in ai.calls) == ["a", "b", "c", "d"]
    assert len(ai.calls) == 4


def test_unsafe_without_an_openai_category_is_still_flagged():
    reply, _ = post({"input": "x"}, guard({"x": "unsafe\nS6"}))
    result = body_json(reply)["results"][0]
    assert result["flagged"] is True
    assert result["categories"] == only()
    assert result["hazard_categories"] == ["S6"]


def test_blank_input_is_not_flagged_without_an_upstream_call():
    reply, ai = post({"input": ["", "  "]})
    assert [r["flagged"] for r in body_json(reply)["results"]] == [False, False]
    assert ai.calls == []


@pytest.mark.parametrize("name", ["omni-moderation-latest", "text-moderation-latest", GUARD, None])
def test_model_names(name):
    body = {"input": "a"} if name is None else {"input": "a", "model": name}
    reply, ai = post(body)
    assert body_json(reply)["model"] == GUARD
    assert ai.calls[0][0] == GUARD


def test_unknown_model_is_404():
    reply, ai = post({"input": "a", "model": "omni-moderation-9"})
    assert reply.status == 404
    assert body_json(reply) == {
        "error": {
            "message": "The model `omni-moderation-9` does not exist or you do not have access "
            "to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert ai.calls == []


def test_embedding_model_is_400():
    reply, ai = post({"input": "a", "model": "text-embedding-3-small"})
    assert reply.status == 400
    assert body_json(reply) == {
        "error": {
            "message": "`@cf/baai/bge-m3` is an embedding model; this endpoint needs a "
            "moderation model.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_supported",
        }
    }
    assert ai.calls == []


def test_bad_input_is_400():
    reply, ai = post({"input": 42})
    assert reply.status == 400
    assert body_json(reply)["error"]["param"] == "input"
    assert ai.calls == []


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("3040: No more data centers to forward the request to", 429, "rate_limit_exceeded"),
        (
            "5021: The estimated number of input and maximum output tokens",
            413,
            "context_length_exceeded",
        ),
        ("3046: Request timeout", 504, "upstream_timeout"),
        ("5007: No such model", 404, "model_not_found"),
    ],
)
def test_upstream_faults_are_mapped(fault, status, code):
    reply, _ = post({"input": ["a", "b"]}, FakeAi(answer=lambda m, i: Exception(fault)))
    assert reply.status == status
    assert body_json(reply)["error"]["code"] == code


def test_unreadable_answer_is_502():
    reply, _ = post({"input": "a"}, FakeAi(answer=lambda m, i: {"response": "maybe"}))
    assert reply.status == 502
    assert body_json(reply)["error"]["code"] == "upstream_error"
