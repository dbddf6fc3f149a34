"""Chat and legacy completions: request mapping and response normalisation, runtime-free."""

from __future__ import annotations

import json

import pytest

from core.config import load
from core.errors import ApiError
from mapping import catalog, chat
from tests.unit.fakes import AUTH, FakeAi, FakeStream, body_json, make_call, run

LLAMA = catalog.MODELS["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
SCOUT = catalog.MODELS["@cf/meta/llama-4-scout-17b-16e-instruct"]
QWEN3 = catalog.MODELS["@cf/qwen/qwen3-30b-a3b-fp8"]
R1 = catalog.MODELS["@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"]
USER = [{"role": "user", "content": "Hi"}]


def post_chat(body: dict, answer=None, vars=None):
    ai = FakeAi(answer) if answer else FakeAi()
    reply = run(
        make_call("POST", "/v1/chat/completions", body=body, headers=AUTH, ai=ai, vars=vars)
    )
    return reply, ai


def error_of(body: dict) -> dict:
    reply, ai = post_chat(body)
    assert reply.status == 400, reply.body
    assert not ai.calls
    return body_json(reply)["error"]


# ---- request mapping -------------------------------------------------------------------------


def test_default_max_tokens_is_never_workers_ais_256():
    request = chat.chat_request({"messages": USER}, LLAMA)
    assert request.inputs["max_tokens"] == LLAMA.max_tokens > 256


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("value", [2**53, 1e300])
def test_max_tokens_past_javascripts_integers_is_a_400(field, value):
    # Found by `make fuzz`: such a value cannot cross into JavaScript, and came back as a 502.
    with pytest.raises(ApiError) as raised:
        chat.chat_request({"messages": USER, field: value}, LLAMA)
    assert (raised.value.status, raised.value.param) == (400, field)
    assert chat.chat_request({"messages": USER, field: 2**53 - 1}, LLAMA).inputs["max_tokens"]


def test_default_max_tokens_fits_the_context_window():
    long = [{"role": "user", "content": "x" * 60000}]
    request = chat.chat_request({"messages": long}, LLAMA)
    assert request.inputs["max_tokens"] <= LLAMA.context_window - 20000


def test_max_completion_tokens_wins_and_sampling_is_mapped():
    body = {
        "messages": USER,
        "max_completion_tokens": 50,
        "max_tokens": 10,
        "temperature": 0.2,
        "top_p": 0,
        "seed": 0,
        "frequency_penalty": 0.5,
        "presence_penalty": -1,
        "top_k": 5,
        "user": "u1",
        "unknown_field": True,
    }
    inputs = chat.chat_request(body, LLAMA).inputs
    assert inputs["max_tokens"] == 50
    assert inputs["temperature"] == 0.2
    assert inputs["top_p"] == 0.001
    assert inputs["seed"] == 1
    assert (inputs["frequency_penalty"], inputs["presence_penalty"], inputs["top_k"]) == (
        0.5,
        -1,
        5,
    )
    assert "user" not in inputs and "unknown_field" not in inputs


def test_content_parts_and_developer_role():
    messages = [
        {"role": "developer", "content": "Be terse."},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    mapped = chat.chat_request({"messages": messages}, LLAMA).inputs["messages"]
    assert mapped == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "a\nb"},
    ]


def test_tool_history_gets_ids_every_schema_accepts():
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc_123",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc_123", "content": "cold"},
    ]
    mapped = chat.chat_request({"messages": messages}, SCOUT).inputs["messages"]
    upstream_id = mapped[1]["tool_calls"][0]["id"]
    assert len(upstream_id) == 9 and upstream_id.isalnum()
    assert mapped[2]["tool_call_id"] == upstream_id
    assert mapped[1]["content"] == ""


def test_tools_and_tool_choice():
    tools = [
        {
            "type": "function",
            "function": {
                "name": "a",
                "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "b"}},
    ]
    inputs = chat.chat_request({"messages": USER, "tools": tools}, LLAMA).inputs
    assert [t["function"]["name"] for t in inputs["tools"]] == ["a", "b"]
    assert (
        inputs["tools"][0]["function"]["parameters"]["properties"]["x"]["description"] == "X"
    )  # the property name in words (tool_schema)
    none = chat.chat_request({"messages": USER, "tools": tools, "tool_choice": "none"}, LLAMA)
    assert "tools" not in none.inputs
    named = chat.chat_request(
        {
            "messages": USER,
            "tools": tools,
            "tool_choice": {"type": "function", "function": {"name": "b"}},
        },
        LLAMA,
    )
    assert [t["function"]["name"] for t in named.inputs["tools"]] == ["b"]


def test_json_schema_wrapper_is_unwrapped_for_native_models():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": True}}
    native = chat.chat_request({"messages": USER, "response_format": fmt}, LLAMA).inputs
    assert native["response_format"] == {"type": "json_schema", "json_schema": schema}
    shaped = chat.chat_request({"messages": USER, "response_format": fmt}, QWEN3).inputs
    assert shaped["response_format"] == fmt


def test_native_json_mode_does_not_stream_upstream():
    body = {"messages": USER, "stream": True, "response_format": {"type": "json_object"}}
    request = chat.chat_request(body, LLAMA)
    assert request.stream and "stream" not in request.inputs


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": USER, "temperature": 3}, "temperature"),
        ({"messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"messages": USER, "n": 2}, "n"),
        ({"messages": USER, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"messages": USER, "stream": "yes"}, "stream"),
        ({"messages": USER, "response_format": {"type": "xml"}}, "response_format.type"),
        (
            {
                "messages": USER,
                "tool_choice": "sometimes",
                "tools": [{"type": "function", "function": {"name": "a"}}],
            },
            "tool_choice",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}
                        ],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
    ],
)
def test_bad_requests_are_400_naming_the_param(body, param):
    body.setdefault("model", "@cf/meta/llama-3.3-70b-instruct-fp8-fast")
    error = error_of(body)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_wrong_task_model_is_400():
    error = error_of({"model": "text-embedding-3-small", "messages": USER})
    assert (error["param"], error["code"]) == ("model", "model_not_supported")


# ---- responses -------------------------------------------------------------------------------


def test_native_answer_becomes_chat_completion():
    reply, ai = post_chat(
        {"model": "gpt-4o-mini", "messages": USER},
        lambda m, i: {
            "response": "Hello!",
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        },
    )
    body = body_json(reply)
    assert reply.headers["content-type"] == "application/json"
    assert body["object"] == "chat.completion"
    assert body["id"] == "chatcmpl-test"
    assert body["model"] == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert ai.calls[0][0] == "@cf/meta/llama-3.1-8b-instruct-fast"


def test_native_tool_calls_get_ids_and_string_arguments():
    reply, _ = post_chat(
        {"messages": USER, "tools": [{"type": "function", "function": {"name": "f"}}]},
        lambda m, i: {"response": "", "tool_calls": [{"name": "f", "arguments": {"q": "x"}}]},
    )
    choice = body_json(reply)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["id"].startswith("call_")
    assert call["function"] == {"name": "f", "arguments": '{"q": "x"}'}
    assert choice["message"]["content"] is None


def test_openai_shaped_answer_keeps_reasoning_separate():
    answer = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "4", "reasoning_content": "2+2"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    reply, _ = post_chat(
        {"model": "@cf/qwen/qwen3-30b-a3b-fp8", "messages": USER}, lambda m, i: answer
    )
    message = body_json(reply)["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "4", "reasoning_content": "2+2"}


def test_responses_shaped_answer_from_gpt_oss():
    answer = {
        "object": "response",
        "output": [
            {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "hmm"}]},
            {"type": "message", "content": [{"type": "output_text", "text": "Done."}]},
        ],
        "usage": {"input_tokens": 4, "output_tokens": 6, "total_tokens": 10},
    }
    reply, _ = post_chat({"model": "gpt-oss-120b", "messages": USER}, lambda m, i: answer)
    body = body_json(reply)
    assert body["choices"][0]["message"]["content"] == "Done."
    assert body["choices"][0]["message"]["reasoning_content"] == "hmm"
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}


def test_deepseek_inline_thought_without_opening_tag():
    reply, _ = post_chat(
        {"model": R1.id, "messages": USER}, lambda m, i: {"response": "Okay, 2+2.\n</think>\n\n4"}
    )
    message = body_json(reply)["choices"][0]["message"]
    assert (message["reasoning_content"], message["content"]) == ("Okay, 2+2.", "4")


def test_json_mode_object_response_is_serialised():
    reply, _ = post_chat(
        {"messages": USER, "response_format": {"type": "json_object"}},
        lambda m, i: {"response": {"a": 1}},
    )
    assert json.loads(body_json(reply)["choices"][0]["message"]["content"]) == {"a": 1}


def test_stop_is_enforced_by_the_gateway():
    reply, _ = post_chat(
        {"messages": USER, "stop": "END"}, lambda m, i: {"response": "abc END xyz"}
    )
    choice = body_json(reply)["choices"][0]
    assert choice["message"]["content"] == "abc "
    assert choice["finish_reason"] == "stop"


def test_length_finish_reason():
    reply, _ = post_chat(
        {"messages": USER, "max_tokens": 2},
        lambda m, i: {"response": "a b", "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    )
    assert body_json(reply)["choices"][0]["finish_reason"] == "length"


def test_upstream_errors_are_mapped():
    reply, _ = post_chat(
        {"messages": USER}, lambda m, i: RuntimeError("3040: No more data centers")
    )
    assert reply.status == 429
    assert body_json(reply)["error"]["code"] == "rate_limit_exceeded"


def test_streaming_reply_is_sse_and_incrementally_transcoded():
    upstream = FakeStream([b'data: {"response":"He', b'y","p":"ab"}\n\ndata: [DONE]\n\n'])
    reply, ai = post_chat({"messages": USER, "stream": True}, lambda m, i: upstream)
    assert ai.calls[0][1]["stream"] is True
    assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert '"content":"Hey"' in reply.body
    assert reply.body.endswith("data: [DONE]\n\n")


def test_streaming_request_answered_whole_is_replayed_as_chunks():
    reply, _ = post_chat(
        {
            "model": "gpt-oss-20b",
            "messages": USER,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        lambda m, i: {"choices": [{"message": {"content": "Whole"}, "finish_reason": "stop"}]},
    )
    blocks = [json.loads(b[6:]) for b in reply.body.split("\n\n") if b and b != "data: [DONE]"]
    assert blocks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert any(b["choices"] and b["choices"][0]["delta"].get("content") == "Whole" for b in blocks)
    assert blocks[-1]["choices"] == [] and blocks[-1]["usage"]["total_tokens"] > 0


def test_stream_broken_mid_way_ends_with_error_event():
    upstream = FakeStream([b'data: {"response":"a","p":"x"}\n\n', b"never"], fail_after=1)
    reply, _ = post_chat({"messages": USER, "stream": True}, lambda m, i: upstream)
    assert '"code":"upstream_stream_error"' in reply.body
    assert reply.body.endswith("data: [DONE]\n\n")


def test_gateway_option_when_configured():
    _, ai = post_chat({"messages": USER}, vars={"API_KEYS": "sk-a", "AI_GATEWAY_ID": "gw"})
    assert ai.calls[0][2] == {"gateway": {"id": "gw"}}


# ---- legacy completions ----------------------------------------------------------------------


def completion(body: dict, answer=None):
    ai = FakeAi(answer) if answer else FakeAi()
    return run(make_call("POST", "/v1/completions", body=body, headers=AUTH, ai=ai)), ai


def test_legacy_completion_with_several_prompts_in_order():
    reply, ai = completion(
        {"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"], "echo": True},
        lambda m, i: {"response": i["messages"][0]["content"].upper()},
    )
    body = body_json(reply)
    assert body["object"] == "text_completion"
    assert [c["text"] for c in body["choices"]] == ["aA", "bB"]
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert len(ai.calls) == 2


def test_legacy_completion_refuses_token_prompts():
    reply, _ = completion({"prompt": [[1, 2, 3]]})
    assert reply.status == 400
    assert body_json(reply)["error"]["param"] == "prompt"


def test_model_resolution_rejects_unknown_names():
    with pytest.raises(ApiError):
        catalog.resolve("nonsense-model", catalog.CHAT, load({}))


def test_chat_completions_models_are_asked_for_the_stream_usage_chunk():
    body = {"messages": USER, "stream": True}
    assert chat.chat_request(body, QWEN3).inputs["stream_options"] == {"include_usage": True}
    assert "stream_options" not in chat.chat_request(body, LLAMA).inputs  # native: not in schema
    assert "stream_options" not in chat.chat_request({"messages": USER}, QWEN3).inputs


def test_legacy_completions_ask_chat_completions_models_for_the_usage_chunk():
    streamed = {"prompt": "hi", "stream": True}
    assert chat.completion_request(streamed, QWEN3, "hi").inputs["stream_options"] == {
        "include_usage": True
    }
    assert "stream_options" not in chat.completion_request(streamed, LLAMA, "hi").inputs
    assert "stream_options" not in chat.completion_request({"prompt": "hi"}, QWEN3, "hi").inputs


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
            "tools[0].function.parameters",
        ),
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "f",
                            "parameters": {"type": "object", "properties": "none"},
                        },
                    }
                ]
            },
            "tools[0].function.parameters",
        ),
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {"name": "f", "parameters": {"properties": {"a": "x"}}},
                    }
                ]
            },
            "tools[0].function.parameters",
        ),
        (
            {
                "tools": [
                    {"type": "function", "function": {"name": "f", "parameters": {"required": "a"}}}
                ]
            },
            "tools[0].function.parameters",
        ),
        (
            {
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": "f"},
            },
            "tool_choice",
        ),
    ],
)
@pytest.mark.parametrize("model", ["gpt-4o-mini", "@cf/qwen/qwen3-30b-a3b-fp8"])
def test_malformed_tools_are_400s_naming_the_field_not_500s(extra, param, model):
    body = {"model": model, "messages": USER, **extra}
    reply = run(make_call("POST", "/v1/chat/completions", body=body, headers=AUTH))
    assert reply.status == 400, reply.body
    assert body_json(reply)["error"]["param"] == param


def test_a_non_json_answer_to_a_whole_chat_is_a_502_not_content():
    # Before, the text of an answer that was neither JSON nor an event stream became the reply.
    reply, _ = post_chat({"messages": USER}, lambda m, i: FakeStream([b"<html>oops</html>"]))
    assert reply.status == 502
    assert body_json(reply)["error"] == {
        "message": "Workers AI answered with something other than JSON.",
        "type": "api_error",
        "param": None,
        "code": "upstream_error",
    }
