"""`POST /v1/moderations` through the local runtime and the emulated Llama Guard, with `openai`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import openai
import pytest

GUARD = "@cf/meta/llama-guard-3-8b"
KEYS = [
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic",
]  # fmt: skip


def only(*names: str) -> dict[str, bool]:
    return {k: k in names for k in KEYS}


def result(hazards: list[str], *names: str) -> dict:
    """One expected result in OpenAI's shape (with the hazard codes kept alongside)."""
    return {
        "flagged": bool(hazards),
        "categories": only(*names),
        "category_scores": {k: 1.0 if k in names else 0.0 for k in KEYS},
        "category_applied_input_types": {k: ["text"] for k in KEYS},
        "hazard_categories": hazards,
    }


def guard_runs(control) -> list[dict]:
    return [r for r in control.requests() if r["model"] == GUARD]


def fails(client, status: int, **kwargs) -> dict:
    with pytest.raises(openai.APIStatusError) as caught:
        client.moderations.create(**kwargs)
    assert caught.value.status_code == status
    assert caught.value.response.headers["content-type"] == "application/json"
    return caught.value.response.json()


def test_safe_text_whole_body(client, emulator_control):
    raw = client.moderations.with_raw_response.create(input="What a lovely afternoon.")
    assert raw.headers["content-type"] == "application/json"
    body = raw.http_response.json()
    assert body["id"].startswith("modr-")
    assert body == {"id": body["id"], "model": GUARD, "results": [result([])]}
    assert [r["inputs"] for r in guard_runs(emulator_control)] == [
        {"messages": [{"role": "user", "content": "What a lovely afternoon."}]}
    ]


def test_sdk_parses_flagged_categories(client):
    moderation = client.moderations.create(
        model="omni-moderation-latest", input="I will kill them all, I hate them"
    )
    assert moderation.model == GUARD
    (first,) = moderation.results
    assert first.flagged is True
    assert first.categories.violence is True
    assert first.categories.hate_threatening is True
    assert first.categories.sexual is False
    assert first.category_scores.hate == 1.0
    assert first.category_scores.self_harm == 0.0
    assert first.category_applied_input_types.violence == ["text"]


def test_list_input_one_call_each_order_kept(client, emulator_control):
    texts = [
        "Good morning!",
        "how do I kill my neighbour",
        "tell me about suicide methods",
        "share some porn",
        "a recipe for soup",
    ]
    raw = client.moderations.with_raw_response.create(model="text-moderation-latest", input=texts)
    assert raw.http_response.json()["results"] == [
        result([]),
        result(["S1"], "violence", "illicit", "illicit/violent"),
        result(["S11"], "self-harm"),
        result(["S12"], "sexual"),
        result([]),
    ]
    sent = sorted(r["inputs"]["messages"][0]["content"] for r in guard_runs(emulator_control))
    assert sent == sorted(texts)


def test_text_parts_are_one_input(client, emulator_control):
    moderation = client.moderations.create(
        input=[{"type": "text", "text": "first part"}, {"type": "text", "text": "build a bomb"}]
    )
    assert [r.flagged for r in moderation.results] == [True]
    assert [r["inputs"]["messages"][0]["content"] for r in guard_runs(emulator_control)] == [
        "first part\nbuild a bomb"
    ]


def test_hazard_without_openai_category_is_flagged(client):
    moderation = client.moderations.create(input="what dosage should I take")
    raw = moderation.results[0].model_dump(by_alias=True)
    assert raw["flagged"] is True
    assert raw["categories"] == only()
    assert raw["hazard_categories"] == ["S6"]


@pytest.mark.parametrize(
    ("answer", "hazards", "names"),
    [
        ({"response": {"safe": False, "categories": ["S10"]}}, ["S10"], ("hate",)),
        ({"response": " unsafe\nS4, S9"}, ["S4", "S9"],
         ("sexual", "sexual/minors", "violence", "illicit", "illicit/violent")),
        ({"response": '{"safe": true, "categories": []}'}, [], ()),
        ({"response": "unsafe"}, [], ()),
    ],
)  # fmt: skip
def test_llama_guard_answer_variants(client, emulator_control, answer, hazards, names):
    emulator_control.script(model=GUARD, json=answer)
    body = client.moderations.with_raw_response.create(input="x").http_response.json()
    expected = result(hazards, *names)
    if answer["response"] == "unsafe":
        expected["flagged"] = True
    assert body["results"] == [expected]


def test_unreadable_answer_is_502(client, emulator_control):
    emulator_control.script(model=GUARD, json={"response": "I'm sorry, I can't judge that."})
    assert fails(client, 502, input="x") == {
        "error": {
            "message": "The moderation model returned an answer that is neither 'safe' nor "
            "'unsafe'.",
            "type": "api_error",
            "param": None,
            "code": "upstream_error",
        }
    }


def bad_request(message: str, param: str, code: str | None) -> dict:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


TYPE_MESSAGE = (
    "Invalid type for 'input': expected a string, an array of strings, or an array of text "
    "input objects."
)


@pytest.mark.parametrize(
    ("kwargs", "status", "body"),
    [
        ({"input": []}, 400, bad_request("'input' must not be an empty array.", "input", None)),
        ({"input": None, "extra_body": {"input": 7}}, 400, bad_request(TYPE_MESSAGE, "input", None)),
        ({"input": ["ok", 7]}, 400, bad_request(TYPE_MESSAGE, "input", None)),
        (
            {"input": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
            400,
            bad_request(
                "Image inputs are not supported: the moderation model (Llama Guard 3) reads "
                "text only.",
                "input",
                "unsupported_input",
            ),
        ),
        (
            {"input": ["x"] * 33},
            400,
            bad_request(
                "'input' has 33 items; at most 32 are allowed per request.", "input", "invalid_value"
            ),
        ),
        (
            {"input": "x", "model": "text-embedding-3-small"},
            400,
            bad_request(
                "`@cf/baai/bge-m3` is an embedding model; this endpoint needs a moderation model.",
                "model",
                "model_not_supported",
            ),
        ),
        (
            {"input": "x", "model": "omni-moderation-2099"},
            404,
            bad_request(
                "The model `omni-moderation-2099` does not exist or you do not have access to it.",
                "model",
                "model_not_found",
            ),
        ),
    ],
)  # fmt: skip
def test_bad_requests_make_no_upstream_call(client, emulator_control, kwargs, status, body):
    assert fails(client, status, **kwargs) == body
    assert guard_runs(emulator_control) == []


def test_missing_input_is_400(base_url, api_key):
    request = urllib.request.Request(
        f"{base_url}/v1/moderations",
        data=b"{}",
        method="POST",
        headers={"authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 400
    assert caught.value.headers["content-type"] == "application/json"
    assert json.loads(caught.value.read()) == bad_request(
        "Missing required parameter: 'input'.", "input", "missing_required_parameter"
    )


def test_capacity_fault_is_429(client, emulator_control):
    emulator_control.fault(model=GUARD, code=3040)
    assert fails(client, 429, input="hello") == {
        "error": {
            "message": "Workers AI rejected the request (3040): No more data centers to forward "
            "the request to",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_one_failing_input_fails_the_request(client, emulator_control):
    emulator_control.fault(model=GUARD, code=3046, times=1)
    error = fails(client, 504, input=["a", "b", "c"])["error"]
    assert (error["type"], error["code"]) == ("timeout_error", "upstream_timeout")
    # All three were sent at once; the other two may reach the emulator after the failure was
    # answered (workerd runs a request's subrequests concurrently, as production does).
    deadline = time.monotonic() + 5
    while len(guard_runs(emulator_control)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(guard_runs(emulator_control)) == 3
