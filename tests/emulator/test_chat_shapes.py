"""Chat Completions-shaped models and gpt-oss (Chat Completions and Responses)."""

from __future__ import annotations

import json

import pytest

from tests.emulator.conftest import error_body

QWEN3 = "@cf/qwen/qwen3-30b-a3b-fp8"
GLM = "@cf/zai-org/glm-4.7-flash"
GPT_OSS = "@cf/openai/gpt-oss-120b"
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}


def test_chat_completion_object(run):
    result = run(QWEN3, {"messages": [{"role": "user", "content": "hello there"}]}).json()["result"]
    assert result["object"] == "chat.completion" and result["model"] == QWEN3
    (choice,) = result["choices"]
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"].startswith("Echo: hello there")
    assert message["reasoning_content"]
    usage = result["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_thinking_can_be_disabled(run):
    inputs = {
        "messages": [{"role": "user", "content": "hi"}],
        "chat_template_kwargs": {"enable_thinking": False},
    }
    message = run(GLM, inputs).json()["result"]["choices"][0]["message"]
    assert "reasoning_content" not in message


def test_reasoning_can_use_the_whole_budget(run):
    inputs = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    choice = run(QWEN3, inputs).json()["result"]["choices"][0]
    assert choice["finish_reason"] == "length" and choice["message"]["content"] == ""


def test_chat_tool_calls_have_string_arguments(run):
    inputs = {"messages": [{"role": "user", "content": "please lookup"}], "tools": [TOOL]}
    choice = run(GLM, inputs).json()["result"]["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"q": "x"}


def test_chat_stream_order(run):
    inputs = {
        "messages": [{"role": "user", "content": "a b c"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    events = run(QWEN3, inputs).events()
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    kinds = [next(iter(k for k in d if k != "role"), "none") for d in deltas]
    # reasoning deltas come before content deltas
    assert kinds.index("content", 1) > max(
        i for i, k in enumerate(kinds) if k == "reasoning_content"
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    content = "".join(d.get("content", "") for d in deltas)
    plain = run(QWEN3, {"messages": [{"role": "user", "content": "a b c"}]}).json()
    assert content == plain["result"]["choices"][0]["message"]["content"]


def test_qwen3_prompt_branch_is_text_completion(run):
    result = run(QWEN3, {"prompt": "hello"}).json()["result"]
    assert result["object"] == "text_completion"
    assert result["choices"][0]["text"].startswith("Echo: hello")


def test_chat_model_requires_messages(run):
    reply = run(GLM, {"prompt": "hi"})
    assert reply.json() == error_body(
        5006, "Bad input: Error: required properties at '/' are 'messages'"
    )


@pytest.mark.parametrize("model", ["@cf/moonshotai/kimi-k2.6", "@cf/moonshotai/kimi-k2.5"])
def test_kimi_requires_workers_paid(run, model):
    reply = run(model, {"messages": [{"role": "user", "content": "hi"}]})
    assert reply.status == 403 and reply.json()["errors"][0]["code"] == 5035


def test_gpt_oss_responses_shape(run):
    result = run(GPT_OSS, {"input": "hello", "reasoning": {"effort": "low"}}).json()["result"]
    assert result["object"] == "response"
    reasoning, message = result["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["content"][0]["type"] == "reasoning_text"
    assert message["type"] == "message"
    assert message["content"][0]["type"] == "output_text"
    assert message["content"][0]["text"].startswith("Echo: hello")
    usage = result["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_gpt_oss_answers_an_empty_json_result_to_stream_true(run):
    # /ai/run: gpt-oss and Kimi do not stream (cloudflare/ai workers-ai-provider 3.1.1, #396).
    reply = run(GPT_OSS, {"messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert reply.content_type == "application/json"
    assert reply.json()["result"] == {}


def test_gpt_oss_without_stream_answers_the_whole_json(run):
    reply = run(GPT_OSS, {"messages": [{"role": "user", "content": "hi"}]})
    assert reply.json()["result"]["object"] == "chat.completion"


@pytest.mark.parametrize("stream", [True, False])
def test_unstreamed_models_quirk_sse_answers_an_event_stream(run, control, stream):
    control.quirks(unstreamed_models="sse", paid_plan=True)
    inputs = {"messages": [{"role": "user", "content": "hi"}], "stream": stream}
    for model in (GPT_OSS, "@cf/moonshotai/kimi-k2.6"):
        reply = run(model, inputs)
        assert reply.content_type == "text/event-stream"
        events = reply.events()
        assert events[-1] == "[DONE]"
        assert json.loads(events[0])["object"] == "chat.completion.chunk"
    responses = run(GPT_OSS, {"input": "hi there"})
    kinds = [json.loads(e)["type"] for e in responses.events()[:-1]]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds


def test_kimi_is_paid_only_unless_the_quirk_says_paid(run, control):
    inputs = {"messages": [{"role": "user", "content": "hi"}]}
    assert run("@cf/moonshotai/kimi-k2.6", inputs).json()["errors"][0]["code"] == 5035
    control.quirks(paid_plan=True)
    assert run("@cf/moonshotai/kimi-k2.6", inputs).json()["result"]["object"] == "chat.completion"


def test_gpt_oss_input_xor_messages(run):
    reply = run(GPT_OSS, {"input": "a", "messages": [{"role": "user", "content": "b"}]})
    assert reply.json()["errors"][0]["code"] == 5006


def test_chat_shaped_json_schema_needs_openais_envelope(run):
    bare = {"type": "json_schema", "json_schema": {"type": "object", "properties": {}}}
    inputs = {"messages": [{"role": "user", "content": "hi"}], "response_format": bare}
    reply = run("@cf/zai-org/glm-4.7-flash", inputs)
    assert reply.status == 400
    assert reply.json()["errors"][0]["message"].endswith(
        "required properties at '/response_format/json_schema' are 'name'"
    )


@pytest.mark.parametrize(("quirk", "options", "usage"), [
    ("when_asked", None, False),
    ("when_asked", {"include_usage": False}, False),
    ("when_asked", {"include_usage": True}, True),
    ("always", None, True),
])  # fmt: skip
def test_chat_stream_usage_chunk_only_when_asked(run, control, quirk, options, usage):
    control.quirks(usage_chunk=quirk)
    inputs = {"messages": [{"role": "user", "content": "a b c"}], "stream": True}
    if options is not None:
        inputs["stream_options"] = options
    chunks = [json.loads(e) for e in run(QWEN3, inputs).events()[:-1]]
    assert any("usage" in c for c in chunks) is usage


def test_chat_shaped_models_use_their_published_ranges(run):
    messages = [{"role": "user", "content": "hi"}]
    # qwen3's stored schema: temperature 0..5; nemotron's: penalties -2..2 or null.
    assert run(QWEN3, {"messages": messages, "temperature": 3}).status == 200
    nemotron = "@cf/nvidia/nemotron-3-120b-a12b"
    assert run(nemotron, {"messages": messages, "presence_penalty": None}).status == 200
    reply = run(nemotron, {"messages": messages, "presence_penalty": -3})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 5006
    big = {"messages": messages, "max_tokens": 250000}  # nemotron's window is 256000
    assert run(nemotron, big).status == 200
