"""Native text generation: envelope, validation messages, defaults, SSE framing, tools, JSON mode."""

from __future__ import annotations

import base64
import json

import pytest

from tests.emulator.conftest import error_body

LLAMA = "@cf/meta/llama-3.1-8b-instruct-fast"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "required": ["city"],
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "days": {"type": "integer", "description": "How many days"},
        },
    },
}


def test_prompt_answer_is_enveloped_and_deterministic(run):
    first = run(LLAMA, {"prompt": "hello brave world"})
    assert first.status == 200
    assert first.content_type == "application/json"
    assert first.headers["cf-ai-req-id"]
    body = first.json()
    assert set(body) == {"result", "success", "errors", "messages"}
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    result = body["result"]
    assert result["response"].startswith("Echo: hello brave world")
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert run(LLAMA, {"prompt": "hello brave world"}).json() == body


def test_messages_answer_echoes_last_user_message(run):
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "second question"}]},
    ]
    result = run(LLAMA, {"messages": messages}).json()["result"]
    assert result["response"].startswith("Echo: second question")


def test_max_tokens_truncates(run):
    result = run(LLAMA, {"prompt": "one two three four five", "max_tokens": 3}).json()["result"]
    assert result["response"] == "Echo: one two"
    assert result["usage"]["completion_tokens"] == 3


def test_default_max_tokens_is_256(run):
    result = run(LLAMA, {"prompt": " ".join(["w"] * 400)}).json()["result"]
    assert result["usage"]["completion_tokens"] == 256


@pytest.mark.parametrize(
    ("inputs", "detail"),
    [
        (
            {},
            "oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt'; "
            "required properties at '/' are 'messages'",
        ),
        ({"prompt": "a", "messages": []}, "oneOf at '/' not met, 2 matches"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": 5}]},
            "Type mismatch of '/messages/1/content', 'number' not in 'string,array'",
        ),
        (
            {"prompt": "a", "max_tokens": 1.5},
            "Type mismatch of '/max_tokens', 'number' not in 'integer'",
        ),
        ({"prompt": "a", "temperature": 6}, "maximum at '/temperature' not met, 6 > 5"),
        ({"prompt": "a", "top_k": 0}, "minimum at '/top_k' not met, 0 < 1"),
        ({"prompt": ""}, "minLength at '/prompt' not met"),
        (
            {
                "prompt": "a",
                "tools": [{"name": "f", "parameters": {"type": "object", "properties": {}}}],
            },
            "anyOf at '/tools/0' not met: required properties at '/tools/0' are 'description'; "
            "required properties at '/tools/0' are 'type', 'function'",
        ),
    ],
)
def test_schema_errors_are_5006(run, inputs, detail):
    reply = run(LLAMA, inputs)
    assert reply.status == 400
    assert reply.content_type == "application/json"
    assert reply.json() == error_body(5006, f"Bad input: Error: {detail}")


def test_context_window_is_5021(run):
    reply = run(LLAMA_70B, {"prompt": "hi", "max_tokens": 24000})
    assert reply.status == 413
    assert reply.json() == error_body(
        5021,
        "The estimated number of input and maximum output tokens (24005) exceeded this model "
        "context window limit (24000).",
    )


@pytest.mark.parametrize(
    "model",
    ["@cf/meta/llama-2-7b-chat-int8", "@hf/thebloke/zephyr-7b-beta-awq", "@cf/nope/unknown"],
)
def test_unknown_and_removed_models_are_5007(run, model):
    reply = run(model, {"prompt": "hi"})
    assert reply.status == 400
    assert reply.json() == error_body(5007, f"No such model {model} or task")


def test_stream_framing(run):
    reply = run(LLAMA, {"prompt": "stream these words please", "stream": True})
    assert reply.status == 200
    assert reply.content_type == "text/event-stream"
    events = reply.events()
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    parsed = [json.loads(e) for e in events[:-1]]
    tokens, final = parsed[:-1], parsed[-1]
    assert final["response"] == "" and set(final["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    }
    pads = [t["p"] for t in tokens if "p" in t]
    assert 0 < len(pads) < len(tokens)  # on some events, not all
    for pad in pads:
        assert 6 <= len(pad) <= 50 and "abcdefghijklmnopqrstuvwxyz0123456789".startswith(pad[:36])
    text = "".join(t["response"] for t in tokens)
    assert text == run(LLAMA, {"prompt": "stream these words please"}).json()["result"]["response"]
    assert final["usage"]["completion_tokens"] == len(tokens)


def test_deepseek_r1_has_closing_think_only(run):
    response = run("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", {"prompt": "why"}).json()
    text = response["result"]["response"]
    assert "</think>" in text and "<think>" not in text


def test_flat_tool_calls(run):
    inputs = {"messages": [{"role": "user", "content": "use get_weather"}], "tools": [WEATHER]}
    result = run(LLAMA_70B, inputs).json()["result"]
    assert result["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "x", "days": 1}}]


def test_openai_style_tool_definitions_are_accepted(run):
    tool = {"type": "function", "function": WEATHER}
    inputs = {"messages": [{"role": "user", "content": "use get_weather"}], "tools": [tool]}
    assert run(LLAMA_70B, inputs).json()["result"]["tool_calls"][0]["name"] == "get_weather"


def test_no_tool_call_unless_named_and_tool_result_is_quoted(run):
    plain = {"messages": [{"role": "user", "content": "hello"}], "tools": [WEATHER]}
    assert "tool_calls" not in run(LLAMA_70B, plain).json()["result"]
    after = {
        "messages": [
            {"role": "user", "content": "use get_weather"},
            {"role": "assistant", "content": ""},
            {"role": "tool", "content": "sunny, 21C"},
        ],
        "tools": [WEATHER],
    }
    assert "sunny, 21C" in run(LLAMA_70B, after).json()["result"]["response"]


def test_scout_nested_tool_calls_and_stream_deltas(run):
    inputs = {"messages": [{"role": "user", "content": "get_weather now"}], "tools": [WEATHER]}
    (call,) = run(SCOUT, inputs).json()["result"]["tool_calls"]
    assert call["type"] == "function" and call["id"]
    assert call["function"] == {"name": "get_weather", "arguments": {"city": "x", "days": 1}}
    events = run(SCOUT, {**inputs, "stream": True}).events()
    parsed = [json.loads(e) for e in events[:-1]]
    assert parsed[0]["tool_calls"][0]["function"] == {"name": "get_weather"}
    args = "".join(
        tc["function"].get("arguments") or "" for e in parsed for tc in e.get("tool_calls", [])
    )
    assert json.loads(args) == {"city": "x", "days": 1}


def test_scout_tool_call_id_pattern(run):
    messages = [{"role": "tool", "content": "r", "tool_call_id": "call_abc"}]
    reply = run(SCOUT, {"messages": messages})
    assert reply.json() == error_body(
        5006, "Bad input: Error: pattern at '/messages/0/tool_call_id' not met"
    )


def test_json_mode_returns_object_and_refuses_streaming(run):
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["name"],
    }
    inputs = {"prompt": "json", "response_format": {"type": "json_schema", "json_schema": schema}}
    assert run(LLAMA, inputs).json()["result"]["response"] == {"name": "x", "n": 1}
    reply = run(LLAMA, {**inputs, "stream": True})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 3010
    assert "JSON Mode couldn't be met" in reply.json()["errors"][0]["message"]


def test_vision_data_uri_and_http_refusal(run):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()
    content = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    ]
    inputs = {"messages": [{"role": "user", "content": content}]}
    run("@cf/meta/llama-3.2-11b-vision-instruct", {"prompt": "agree"})
    text = run("@cf/meta/llama-3.2-11b-vision-instruct", inputs).json()["result"]["response"]
    assert "image of 40 bytes" in text
    content[1] = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    reply = run(SCOUT, inputs)
    assert reply.status == 400
    assert reply.json()["errors"][0]["code"] == 5006
    assert "/messages/0/content/1/image_url/url" in reply.json()["errors"][0]["message"]


def test_image_parts_rejected_by_text_only_model(run):
    content = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    reply = run(LLAMA, {"messages": [{"role": "user", "content": content}]})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 5006


def test_llama_guard_verdicts(run):
    guard = "@cf/meta/llama-guard-3-8b"

    def verdict(text, **extra):
        return run(guard, {"messages": [{"role": "user", "content": text}], **extra}).json()

    assert verdict("what a nice day")["result"]["response"] == "safe"
    assert verdict("I will kill them, I hate them")["result"]["response"] == "unsafe\nS1,S10"
    fmt = {"response_format": {"type": "json_object"}}
    assert verdict("make a bomb", **fmt)["result"]["response"] == {
        "safe": False,
        "categories": ["S9"],
    }


def test_auth_header_required(run):
    reply = run(LLAMA, {"prompt": "hi"}, token=None)
    assert reply.status == 401
    assert reply.json() == {
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "success": False,
    }


def test_run_options_in_query_are_ignored_and_queue_request_works(run):
    assert run(LLAMA, {"prompt": "hi"}, query="?tags=a&unknownOption=1").status == 200
    queued = run(
        LLAMA, {"requests": [{"prompt": "a"}, {"prompt": "b"}]}, query="?queueRequest=true"
    )
    result = queued.json()["result"]
    assert result["status"] == "queued" and result["model"] == LLAMA
    polled = run(LLAMA, {"request_id": result["request_id"]}).json()["result"]
    assert [r["result"]["response"][:7] for r in polled["responses"]] == ["Echo: a", "Echo: b"]


def test_unknown_route_and_method(emulator):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{emulator.base_url}/client/v4/nothing")
    assert info.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{emulator.rest_base}/accounts/a/ai/run/{LLAMA}")
    assert info.value.code == 405 and info.value.headers["allow"] == "POST"


# ---- published per-model ranges (emulator/published_rules.json) ------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "@cf/meta/llama-3.2-3b-instruct",
        "@cf/meta/llama-3.2-1b-instruct",
        "@cf/meta/llama-3.1-8b-instruct-fp8",
        "@cf/meta/llama-3.2-11b-vision-instruct",
        "@cf/qwen/qwen2.5-coder-32b-instruct",
    ],
)
def test_negative_penalties_are_refused_where_the_schema_says_0_to_2(run, model):
    reply = run(model, {"prompt": "hi", "frequency_penalty": -1})
    assert reply.status == 400
    assert reply.json() == error_body(
        5006, "Bad input: Error: minimum at '/frequency_penalty' not met, -1 < 0"
    )


@pytest.mark.parametrize(
    "model", [LLAMA_70B, "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "@cf/qwen/qwq-32b"]
)
def test_negative_penalties_pass_where_the_schema_allows_them_or_sets_no_range(run, model):
    assert run(model, {"prompt": "hi", "presence_penalty": -1}).status == 200


def test_prompt_longer_than_the_published_max_length_is_refused(run):
    reply = run("@cf/meta/llama-3.2-3b-instruct", {"prompt": "a" * 131073, "max_tokens": 1})
    assert reply.status == 400
    assert reply.json() == error_body(5006, "Bad input: Error: maxLength at '/prompt' not met")


def test_gemma_4_context_window_is_the_published_256000(run):
    reply = run(
        "@cf/google/gemma-4-26b-a4b-it",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 250000},
    )
    assert reply.status == 200


def test_llama_3_2_vision_answers_5016_until_agreed_per_model(run, control):
    vision = "@cf/meta/llama-3.2-11b-vision-instruct"
    reply = run(vision, {"prompt": "hi"})
    assert reply.status == 403
    assert reply.json() == error_body(5016, "User has not agreed to Llama3.2 model terms")
    assert run(vision, {"prompt": "agree"}).status == 200
    assert run(vision, {"prompt": "hi"}).status == 200
    assert control.agreements() == [vision]
    control.clear_agreements()
    assert run(vision, {"prompt": "hi"}).status == 403


def test_cjk_prompts_count_a_token_per_character_against_the_window(run):
    cjk = "上下文窗口" * 4000  # 20000 characters
    inputs = {"messages": [{"role": "user", "content": cjk}], "max_tokens": 4096}
    reply = run(LLAMA_70B, inputs)
    assert reply.status == 413
    assert reply.json() == error_body(
        5021,
        "The estimated number of input and maximum output tokens (24100) exceeded this "
        "model context window limit (24000).",
    )
