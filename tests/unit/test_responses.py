"""The Responses API: request mapping, Response objects, the stream transcoder and stored
responses, runtime-free."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import config
from core.auth import fingerprint
from core.errors import ApiError
from handlers.responses import response_stream
from mapping import catalog, chat, responses
from mapping.chatstream import SPLICE
from mapping.responses_stream import ResponsesStream
from tests.chunking import split_at
from tests.unit.fakes import AUTH, FakeAi, FakeKv, FakeStream, body_json, make_call, run

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GPT_OSS = "@cf/openai/gpt-oss-20b"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
NATIVE_STREAM = (
    b'data: {"response":"Hel","p":"abc"}\n\n'
    b'data: {"response":"lo \xc3\xa9t\xc3\xa9","p":"ab"}\n\n'
    b'data: {"response":"","usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}\n\n'
    b"data: [DONE]\n\n"
)


def respond(body: dict, answer=None, kv: FakeKv | None = None, headers=AUTH, vars=None):
    ai = FakeAi(answer) if answer else FakeAi()
    call = make_call("POST", "/v1/responses", body=body, headers=headers, ai=ai, kv=kv, vars=vars)
    return run(call), ai


def error_of(body: dict) -> dict:
    reply, ai = respond(body)
    assert reply.status == 400, reply.body
    assert not ai.calls
    return body_json(reply)["error"]


def events_of(raw: str) -> list[dict]:
    """The events of a Responses stream, checking each frame's `event:` line."""
    out = []
    for frame in raw.split("\n\n"):
        if frame:
            head, data = frame.split("\n")
            event = json.loads(data.removeprefix("data: "))
            assert head == "event: " + event["type"]
            out.append(event)
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    for event in out:
        if "response" in event:
            event["response"]["created_at"] = 0  # runs may straddle a second
    return out


# ---- requests ----------------------------------------------------------------------------------


def test_string_input_becomes_one_user_message_after_the_instructions():
    reply, ai = respond({"model": LLAMA, "input": "Hi", "instructions": "Be brief."})
    assert reply.status == 200
    _, inputs, _ = ai.calls[0]
    assert inputs["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert inputs["max_tokens"] > 256


def test_items_map_to_chat_messages():
    items = [
        {"role": "developer", "content": "Rules"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Go"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Calling"}]},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call", "call_id": "call_2", "name": "g", "arguments": {"a": 1}},
        {"type": "function_call_output", "call_id": "call_1", "output": "one"},
        {
            "type": "function_call_output",
            "call_id": "call_2",
            "output": [{"type": "input_text", "text": "two"}],
        },
    ]
    request = responses.parse({"input": items})
    assert responses.chat_messages("Sys", request.items) == [
        {"role": "system", "content": "Sys"},
        {"role": "developer", "content": "Rules"},
        {"role": "user", "content": "Go"},
        {
            "role": "assistant",
            "content": "Calling",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "g", "arguments": '{"a": 1}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "one"},
        {"role": "tool", "tool_call_id": "call_2", "content": "two"},
    ]


def test_images_stay_image_parts():
    part = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
    request = responses.parse({"input": [{"role": "user", "content": [part]}]})
    assert responses.chat_messages(None, request.items) == [
        {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": part["image_url"]}}],
        }
    ]


def test_request_fields_map_to_chat_fields():
    body = {
        "model": LLAMA,
        "input": "Hi",
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "max_output_tokens": 40,
        "temperature": 0.3,
        "top_p": 0.5,
        "reasoning": {"effort": "minimal"},
        "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
    }
    chat = responses.chat_body(responses.parse(body), responses.parse(body).items)
    assert chat["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "",
                "parameters": WEATHER["parameters"],
            },
        }
    ]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert chat["max_completion_tokens"] == 40
    assert (chat["temperature"], chat["top_p"]) == (0.3, 0.5)
    assert chat["reasoning_effort"] == "low"
    assert chat["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": False},
    }


@pytest.mark.parametrize("kind", responses.BUILT_IN_TOOLS)
def test_built_in_tools_are_refused_by_name(kind):
    error = error_of({"model": LLAMA, "input": "x", "tools": [WEATHER, {"type": kind}]})
    assert error["param"] == "tools[1].type"
    assert error["code"] == "unsupported_value"
    assert f"'{kind}' tool is not supported" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": LLAMA}, "input"),
        ({"model": LLAMA, "input": 3}, "input"),
        ({"model": LLAMA, "input": []}, "input"),
        (
            {
                "model": LLAMA,
                "input": [
                    {"role": "user", "content": "Look"},
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_image", "image_url": "data:image/png;base64,AA"}
                        ],
                    },
                ],
            },
            "input[1].content[0]",
        ),
        ({"model": LLAMA, "input": [{"type": "web_search_call"}]}, "input[0].type"),
        ({"model": LLAMA, "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        (
            {"model": LLAMA, "input": [{"role": "user", "content": [{"type": "input_file"}]}]},
            "input[0].content[0].type",
        ),
        ({"model": LLAMA, "input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id"),
        ({"model": LLAMA, "input": "x", "tool_choice": {"type": "file_search"}}, "tool_choice"),
        ({"model": LLAMA, "input": "x", "text": {"format": {"type": "xml"}}}, "text.format.type"),
        ({"model": LLAMA, "input": "x", "reasoning": {"effort": "max"}}, "reasoning.effort"),
        # Echoed in the Response, so typed: a number here was echoed as is.
        (
            {"model": LLAMA, "input": "x", "tools": [{**WEATHER, "description": 5}]},
            "tools[0].description",
        ),
        (
            {
                "model": LLAMA,
                "input": "x",
                "text": {"format": {"type": "json_schema", "schema": {}, "name": 5}},
            },
            "text.format.name",
        ),
        (
            {
                "model": LLAMA,
                "input": "x",
                "text": {"format": {"type": "json_schema", "schema": {}, "description": []}},
            },
            "text.format.description",
        ),
        # Regressions (schemathesis): unhashable or non-string values were 500s.
        ({"model": LLAMA, "input": "x", "reasoning": {"effort": ["low"]}}, "reasoning.effort"),
        (
            {
                "model": LLAMA,
                "input": [
                    {"type": "function_call_output", "call_id": "c", "output": [{"text": 1}]}
                ],
            },
            "input[0].output",
        ),
        ({"model": LLAMA, "input": "x", "temperature": 3}, "temperature"),
        ({"model": LLAMA, "input": "x", "metadata": {"k": 1}}, "metadata.k"),
    ],
)
def test_invalid_requests_name_the_field(body, param):
    assert error_of(body)["param"] == param


@pytest.mark.parametrize("name", responses.PLATFORM_FIELDS)
def test_what_only_openai_keeps_is_refused(name):
    error = error_of({"model": LLAMA, "input": "x", name: {"id": "x"}})
    assert (error["param"], error["code"]) == (name, "unsupported_parameter")


# ---- whole answers -------------------------------------------------------------------------------


def test_response_object():
    answer = {
        "response": "Hello",
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    reply, _ = respond({"model": LLAMA, "input": "Hi", "metadata": {"a": "b"}}, lambda m, i: answer)
    body = body_json(reply)
    assert reply.headers["content-type"] == "application/json"
    assert body["id"] == "resp_test" and body["object"] == "response"
    assert body["status"] == "completed" and body["model"] == LLAMA
    assert body["output"] == [responses.message_item("msg_test0000", "Hello")]
    assert body["usage"] == {
        "input_tokens": 5,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 2,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 7,
    }
    assert body["metadata"] == {"a": "b"} and body["store"] is False  # no KV binding


def test_tool_calls_and_reasoning_become_items():
    answer = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "reasoning_content": "think",
                    "tool_calls": [
                        {"id": "call_9", "function": {"name": "get_weather", "arguments": "{}"}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "total_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 2},
            "completion_tokens_details": {"reasoning_tokens": 1},
        },
    }
    model = "@cf/qwen/qwen3-30b-a3b-fp8"
    reply, _ = respond({"model": model, "input": "Hi", "tools": [WEATHER]}, lambda m, i: answer)
    body = body_json(reply)
    assert body["output"] == [
        responses.reasoning_item("rs_test0000", "think"),
        responses.function_call_item("fc_test0001", "call_9", "get_weather", "{}"),
    ]
    assert body["usage"]["input_tokens_details"] == {"cached_tokens": 2}
    assert body["usage"]["output_tokens_details"] == {"reasoning_tokens": 1}


def test_length_makes_an_incomplete_response():
    answer = {
        "response": "Hel",
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    reply, _ = respond({"model": LLAMA, "input": "Hi", "max_output_tokens": 2}, lambda m, i: answer)
    body = body_json(reply)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["status"] == "incomplete"


GPT_OSS_ANSWER = {
    "output": [
        {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "Plan."}]},
        {"type": "function_call", "call_id": "call_x", "name": "get_weather", "arguments": "{}"},
    ],
    "usage": {
        "input_tokens": 9,
        "output_tokens": 4,
        "output_tokens_details": {"reasoning_tokens": 2},
    },
}


def test_gpt_oss_is_asked_in_its_own_responses_form():
    body = {
        "model": GPT_OSS,
        "instructions": "Sys",
        "input": [
            {"role": "user", "content": "Weather?"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
        "tools": [WEATHER],
        "reasoning": {"effort": "high"},
        "max_output_tokens": 100,
    }
    reply, ai = respond(body, lambda m, i: GPT_OSS_ANSWER)
    _, inputs, _ = ai.calls[0]
    assert inputs == {
        "input": [
            {"role": "user", "content": "Weather?"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
        "max_output_tokens": 100,
        "instructions": "Sys",
        "reasoning": {"effort": "high"},
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "",
                "parameters": WEATHER["parameters"],
            }
        ],
    }
    output = body_json(reply)["output"]
    assert [item["type"] for item in output] == ["reasoning", "function_call"]
    assert body_json(reply)["usage"]["output_tokens_details"] == {"reasoning_tokens": 2}


def test_gpt_oss_json_formats_go_through_chat():
    body = {"model": GPT_OSS, "input": "Hi", "text": {"format": {"type": "json_object"}}}
    _, ai = respond(body, lambda m, i: {"choices": [{"message": {"content": "{}"}}]})
    assert "messages" in ai.calls[0][1] and "input" not in ai.calls[0][1]


# ---- streams -------------------------------------------------------------------------------------


def stream_of(body: dict, chunks: list[bytes], kv=None, fail_after=None):
    answer = lambda m, i: FakeStream(chunks, fail_after)  # noqa: E731
    reply, ai = respond({"stream": True, **body}, answer, kv=kv)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
    return events_of(reply.body), ai


def test_stream_event_order():
    events, ai = stream_of({"model": LLAMA, "input": "Hi"}, [NATIVE_STREAM])
    assert ai.calls[0][1]["stream"] is True
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[4] == {
        "type": "response.output_text.delta",
        "sequence_number": 4,
        "item_id": "msg_test0000",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hel",
        "logprobs": [],
    }
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["output"] == [responses.message_item("msg_test0000", "Hello été")]
    assert final["usage"]["total_tokens"] == 7


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(NATIVE_STREAM)), max_size=6))
def test_any_chunking_gives_the_same_events(cuts):
    whole, _ = stream_of({"model": LLAMA, "input": "Hi"}, [NATIVE_STREAM])
    split, _ = stream_of({"model": LLAMA, "input": "Hi"}, split_at(NATIVE_STREAM, cuts))
    assert split == whole


def test_streamed_thought_and_tool_calls():
    def chunk(delta: dict, finish=None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return b"data: " + json.dumps({"choices": [choice]}).encode() + b"\n\n"

    call = {"index": 0, "id": "call_a", "function": {"name": "get_weather", "arguments": ""}}
    chunks = [
        chunk({"reasoning_content": "Hmm"}),
        chunk({"content": "Let me check."}),
        chunk({"tool_calls": [call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
        b"data: [DONE]\n\n",
    ]
    body = {"model": "@cf/qwen/qwen3-30b-a3b-fp8", "input": "Hi", "tools": [WEATHER]}
    events, _ = stream_of(body, chunks)
    kinds = [e["type"] for e in events]
    assert kinds[2:] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[14]["item"] == {
        "id": "fc_test0002",
        "type": "function_call",
        "status": "in_progress",
        "arguments": "",
        "call_id": "call_a",
        "name": "get_weather",
    }
    assert events[17] == {
        "type": "response.function_call_arguments.done",
        "sequence_number": 17,
        "item_id": "fc_test0002",
        "output_index": 2,
        "arguments": '{"city":"Paris"}',
    }
    assert [i["type"] for i in events[-1]["response"]["output"]] == [
        "reasoning",
        "message",
        "function_call",
    ]


def test_a_broken_stream_ends_with_response_failed():
    events, _ = stream_of({"model": LLAMA, "input": "Hi"}, [NATIVE_STREAM[:40], b""], fail_after=1)
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "server_error",
        "message": "The upstream stream failed before it finished.",
    }
    assert [e["type"] for e in events].count("response.failed") == 1


def test_a_stream_cut_short_by_the_budget_is_incomplete():
    usage = b'data: {"response":"","usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\n'
    chunks = [b'data: {"response":"Hi","p":"a"}\n\n', usage, b"data: [DONE]\n\n"]
    events, _ = stream_of({"model": LLAMA, "input": "Hi", "max_output_tokens": 2}, chunks)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert events[-2]["item"]["status"] == "incomplete"


def test_a_whole_answer_is_replayed_as_a_stream():
    reply, _ = respond(
        {"model": GPT_OSS, "input": "Hi", "stream": True}, lambda m, i: GPT_OSS_ANSWER
    )
    events = events_of(reply.body)
    assert "response.reasoning_text.delta" in [e["type"] for e in events]
    final = events[-1]["response"]
    assert [i["type"] for i in final["output"]] == ["reasoning", "function_call"]
    assert final["usage"]["output_tokens_details"] == {"reasoning_tokens": 2}


# ---- stored responses ----------------------------------------------------------------------------


def request(method: str, path: str, kv: FakeKv | None, key: str = "sk-a", body=None, query=None):
    call = make_call(
        method,
        path,
        body=body,
        headers={"authorization": f"Bearer {key}"},
        kv=kv,
        query=query,
        vars={"API_KEYS": "sk-a,sk-b", "RESPONSES_TTL_SECONDS": "3600"},
    )
    return run(call)


def test_stored_responses_are_scoped_to_the_key():
    kv = FakeKv()
    created = body_json(request("POST", "/v1/responses", kv, body={"model": LLAMA, "input": "Hi"}))
    assert created["store"] is True
    [(key, ttl)] = kv.ttls.items()
    assert key == f"resp:{fingerprint('sk-a')}:resp_test" and ttl == 3600
    assert "sk-a" not in key
    assert body_json(request("GET", "/v1/responses/resp_test", kv)) == created
    for method, path in (("GET", "/v1/responses/resp_test"), ("DELETE", "/v1/responses/resp_test")):
        reply = request(method, path, kv, key="sk-b")
        assert reply.status == 404
        assert body_json(reply)["error"]["message"] == "Response with id 'resp_test' not found."
    deleted = request("DELETE", "/v1/responses/resp_test", kv)
    assert body_json(deleted) == {"id": "resp_test", "object": "response.deleted", "deleted": True}
    assert request("GET", "/v1/responses/resp_test", kv).status == 404


def test_store_false_keeps_nothing():
    kv = FakeKv()
    body = {"model": LLAMA, "input": "Hi", "store": False}
    assert body_json(request("POST", "/v1/responses", kv, body=body))["store"] is False
    assert kv.data == {}


def sent_messages(kv: FakeKv, body: dict) -> tuple[dict, list[dict]]:
    """The Response and the chat messages Workers AI was sent for `body`."""
    ai = FakeAi()
    reply = run(make_call("POST", "/v1/responses", body=body, headers=AUTH, ai=ai, kv=kv))
    return body_json(reply), ai.calls[0][1]["messages"]


def test_previous_response_and_item_references_continue_the_conversation():
    kv = FakeKv()
    first = [{"role": "user", "content": "One"}, {"role": "user", "content": "Two"}]
    request("POST", "/v1/responses", kv, body={"model": LLAMA, "input": first})
    three = {"role": "user", "content": "Three"}
    body, messages = sent_messages(
        kv, {"model": LLAMA, "previous_response_id": "resp_test", "input": [three]}
    )
    assert body["previous_response_id"] == "resp_test"
    assert messages == [*first, {"role": "assistant", "content": "ok"}, three]
    reference = {"type": "item_reference", "id": "msg_test0000"}
    _, messages = sent_messages(kv, {"model": LLAMA, "input": [reference, three]})
    assert messages == [{"role": "assistant", "content": "ok"}, three]


def test_input_items_are_listed_newest_first():
    kv = FakeKv()
    items = [{"role": "user", "content": str(n)} for n in range(3)]
    request("POST", "/v1/responses", kv, body={"model": LLAMA, "input": items})
    listed = body_json(request("GET", "/v1/responses/resp_test/input_items", kv))
    ids = [f"msg_test{0x8000 + n:04x}" for n in range(3)]
    assert [i["id"] for i in listed["data"]] == ids[::-1]
    assert listed["data"][0] == {
        "id": ids[2],
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "2"}],
        "status": "completed",
    }
    page = body_json(
        request(
            "GET",
            "/v1/responses/resp_test/input_items",
            kv,
            query={"order": "asc", "limit": "1", "after": ids[0]},
        )
    )
    assert [i["id"] for i in page["data"]] == [ids[1]]
    assert (page["first_id"], page["last_id"], page["has_more"]) == (ids[1], ids[1], True)


@pytest.mark.parametrize("limit", ["\u00b2", "\u0663", "0", "101", "-1", "x"])
def test_input_items_limit_out_of_range_is_a_400(limit):
    # Regression: '²' passed str.isdigit() and int() raised, a 500.
    kv = FakeKv()
    request("POST", "/v1/responses", kv, body={"model": LLAMA, "input": "x"})
    reply = request("GET", "/v1/responses/resp_test/input_items", kv, query={"limit": limit})
    assert reply.status == 400, reply.body
    assert body_json(reply)["error"]["param"] == "limit"


def test_without_storage_state_is_refused_with_how_to_enable_it():
    reply = request(
        "POST",
        "/v1/responses",
        None,
        body={"model": LLAMA, "input": "x", "previous_response_id": "resp_1"},
    )
    error = body_json(reply)["error"]
    assert reply.status == 400
    assert (error["param"], error["code"]) == ("previous_response_id", "storage_not_configured")
    assert '[[kv_namespaces]] binding = "RESPONSES"' in error["message"]
    missing = request("GET", "/v1/responses/resp_1", None)
    assert missing.status == 404
    assert body_json(missing)["error"]["code"] == "storage_not_configured"
    reference = {"model": LLAMA, "input": [{"type": "item_reference", "id": "msg_1"}]}
    assert (
        body_json(request("POST", "/v1/responses", None, body=reference))["error"]["param"]
        == "input[0].id"
    )


def test_unknown_previous_response_is_a_400():
    reply = request(
        "POST",
        "/v1/responses",
        FakeKv(),
        body={"model": LLAMA, "input": "x", "previous_response_id": "resp_1"},
    )
    assert reply.status == 400
    assert body_json(reply)["error"] == {
        "message": "Previous response with id 'resp_1' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": None,
    }


def test_ttl_is_configurable_and_has_a_floor():
    assert config.load({}).responses_ttl_s == 30 * 24 * 3600
    assert config.load({"RESPONSES_TTL_SECONDS": "5"}).responses_ttl_s == 60
    with pytest.raises(ApiError):
        config.load({"RESPONSES_TTL_SECONDS": "a week"})


# ---- the splice protocol (what sse_splice.mjs does, played on CPython) ---------------------


def js_splice(stream: ResponsesStream, upstream: bytes) -> tuple[bytes, int]:
    """`upstream` through `stream` as sse_splice.mjs runs it: while `mode` is SPLICE a native
    text event is written from `delta_head` and `tail` without Python, and reported to
    `absorb` before Python's next call; `end` hears how much text went by. Also says how many
    events were spliced."""
    tail = stream.splice_heads().tail
    out, literals, chars, count = [stream.feed(b"")], [], 0, 0
    for event in upstream.split(b"\n\n")[:-1]:
        native = event.startswith(b'data: {"response":"') and b'","p":"' in event
        if native and stream.mode == SPLICE:
            literal = event[19 : event.index(b'","p":"')]
            if literal:
                head = stream.delta_head.replace("\0", str(stream.sequence + len(literals)))
                out.append(head.encode() + literal + tail)
                literals.append(literal)
                chars += len(literal)
                count += 1
            continue
        if literals:
            stream.absorb(f"{len(literals)}\n".encode() + b"".join(literals))
            literals = []
        out.append(stream.feed(event + b"\n\n"))
    if literals:
        stream.absorb(f"{len(literals)}\n".encode() + b"".join(literals))
    return b"".join(out) + stream.end(chars), count


def test_spliced_deltas_equal_pythons():
    def fresh() -> ResponsesStream:
        request = responses.parse({"input": "Hi", "stream": True})
        body = responses.chat_body(request, request.items)
        chat_request = chat.chat_request(body, catalog.MODELS[LLAMA])
        return response_stream(request, chat_request, "Hi", "resp_x", 1, False)

    upstream = (
        b'data: {"response":"One","p":"ab"}\n\n'
        + b"".join(b'data: {"response":" w\\u00e9rd%d","p":"abc"}\n\n' % n for n in range(5))
        + b'data: {"response":"","p":"a"}\n\n'
        + b'data: {"response":"","tool_calls":[{"name":"f","arguments":{}}]}\n\n'
        + b'data: {"response":" after","p":"a"}\n\n'
        + b"data: [DONE]\n\n"
    )
    python = fresh()
    whole = python.feed(b"") + python.feed(upstream) + python.end()
    spliced = fresh()
    assert js_splice(spliced, upstream) == (whole, 5)  # the first opens the message in Python
    assert b"\\u00e9" in whole  # the upstream's literal, as it came
    assert spliced.sequence == python.sequence
