"""Chat and legacy completions over HTTP with the official `openai` client, against the local
runtime (or a deployment: see conftest)."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
from PIL import Image

from tests.chunking import split_at

USER = [{"role": "user", "content": "Say hello to the test suite"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}


def png_bytes() -> bytes:
    from io import BytesIO

    out = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_plain_chat(client):
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.object == "chat.completion"
    assert completion.model == "@cf/meta/llama-3.1-8b-instruct-fast"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert "hello" in choice.message.content.lower()
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


@pytest.mark.emulator
def test_default_max_tokens_is_not_workers_ais_256(client, emulator_control):
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    sent = emulator_control.requests()[-1]["inputs"]
    assert sent["max_tokens"] > 256
    assert sent["messages"] == USER


def test_streaming_with_usage(client):
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    ids = {c.id for c in chunks}
    assert len(ids) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "hello" in text.lower()
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert all(f is None for f in finishes[:-1])
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens > 0


def test_stream_has_exactly_one_done_and_sse_headers(base_url, api_key):
    import urllib.request

    request = urllib.request.Request(
        base_url + "/v1/chat/completions",
        data=json.dumps({"messages": USER, "stream": True}).encode(),
        headers={"authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        body = response.read().decode()
    assert body.endswith("data: [DONE]\n\n")
    assert body.count("data: [DONE]") == 1
    for block in body.split("\n\n")[:-2]:
        chunk = json.loads(block.removeprefix("data: "))
        assert {"id", "object", "created", "model", "choices"} <= chunk.keys()
        assert chunk["choices"][0]["index"] == 0


@pytest.mark.emulator
def test_stream_is_incremental(client, emulator_control):
    emulator_control.fault(model="*", token_delay_ms=150)
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, max_tokens=8
    )
    arrivals = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
    assert len(arrivals) >= 4
    # The first token reaches the client while the upstream is still generating the rest.
    assert arrivals[-1] - arrivals[0] > 0.3
    assert arrivals[0] < arrivals[-1] - 0.3


@pytest.mark.emulator
def test_events_split_and_packed_arbitrarily_give_the_same_stream(client, emulator_control):
    events = (
        'data: {"response":"Hé","p":"abcdef"}\n\n'
        'data: {"response":"llo 🌍","p":"abcdefghijk"}\n\n'
        'data: {"response":"!"}\n\n'
        'data: {"response":"","usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}\n\n'
        "data: [DONE]\n\n"
    ).encode()
    cuts = [3, 20, 21, 22, 60, 61, 100]  # inside "data:", inside "é" and "🌍", between events
    pieces = split_at(events, cuts)
    outputs = []
    for chunks in ([events], pieces):
        emulator_control.script(
            model="*",
            content_type="text/event-stream",
            chunks_b64=[base64.b64encode(p).decode() for p in chunks],
        )
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks_out = list(stream)
        outputs.append(
            (
                "".join(c.choices[0].delta.content or "" for c in chunks_out if c.choices),
                chunks_out[-1].usage.total_tokens,
            )
        )
    assert outputs[0] == outputs[1] == ("Héllo 🌍!", 7)


def test_tools_round_trip(client):
    messages = [{"role": "user", "content": "Use get_weather for Oslo please"}]
    first = client.chat.completions.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", messages=messages, tools=[WEATHER_TOOL]
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 degrees"},
    ]
    second = client.chat.completions.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", messages=messages, tools=[WEATHER_TOOL]
    )
    assert "Sunny, 21 degrees" in second.choices[0].message.content
    assert second.choices[0].finish_reason == "stop"


def test_streamed_tool_call_deltas_assemble(client):
    # llama-4-scout (gpt-4o) streams OpenAI-style deltas with a null finaliser upstream.
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "call get_weather now"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    name, arguments, finish = "", "", None
    for chunk in stream:
        choice = chunk.choices[0]
        for delta in choice.delta.tool_calls or []:
            assert delta.index == 0
            name += delta.function.name or "" if delta.function else ""
            arguments += delta.function.arguments or "" if delta.function else ""
        finish = choice.finish_reason or finish
    assert name == "get_weather"
    assert json.loads(arguments) == {"city": "x"}
    assert finish == "tool_calls"


def test_tool_round_trip_on_a_model_that_needs_nine_character_ids(client):
    messages = [
        {"role": "user", "content": "get_weather for Paris"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_openai_style_id_123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_openai_style_id_123", "content": "Rain"},
    ]
    answer = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    assert "Rain" in answer.choices[0].message.content


def test_json_schema_response_format(client):
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    completion = client.chat.completions.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        messages=[{"role": "user", "content": "Invent a person"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        },
    )
    data = json.loads(completion.choices[0].message.content)
    assert isinstance(data["name"], str)
    assert isinstance(data["age"], int)


def test_json_mode_streams_even_though_the_model_cannot(client):
    stream = client.chat.completions.create(
        model="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        messages=[{"role": "user", "content": "Give me JSON"}],
        response_format={"type": "json_object"},
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert isinstance(json.loads(text), dict)


def test_vision_with_a_data_uri(client):
    image = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": image}},
                ],
            }
        ],
    )
    assert f"{len(png_bytes())} bytes (image/png)" in completion.choices[0].message.content


@pytest.fixture
def image_host():
    data = png_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/cat.png":
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self.send_response(404)
                self.send_header("content-type", "text/html")
                self.end_headers()
                self.wfile.write(b"<h1>nope</h1>")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.emulator
def test_vision_http_image_is_fetched_and_sent_as_data_uri(client, image_host, emulator_control):
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe"},
                    {"type": "image_url", "image_url": {"url": image_host + "/cat.png"}},
                ],
            }
        ],
    )
    assert "(image/png)" in completion.choices[0].message.content
    sent = emulator_control.requests()[-1]["inputs"]["messages"][0]["content"][1]
    assert sent["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.emulator
def test_vision_url_that_is_not_an_image_is_a_400(client, image_host):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": image_host + "/x"}}],
                }
            ],
        )
    assert caught.value.body["param"] == "messages[0].content[0].image_url.url"


@pytest.mark.parametrize(
    "model",
    [
        "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
        "@cf/qwen/qwen3-30b-a3b-fp8",
        "@cf/openai/gpt-oss-120b",
    ],
)
def test_reasoning_models_keep_reasoning_out_of_content(client, model):
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "What is two plus two"}]
    )
    message = completion.choices[0].message
    reasoning = message.model_extra.get("reasoning_content")
    assert reasoning
    assert message.content
    assert "</think>" not in message.content
    assert reasoning not in message.content


def test_reasoning_streams_in_its_own_field(client):
    stream = client.chat.completions.create(
        model="@cf/deepseek-ai/deepseek-r1-distill-qwen-32b",
        messages=[{"role": "user", "content": "What is two plus two"}],
        stream=True,
    )
    reasoning, content = "", ""
    for chunk in stream:
        delta = chunk.choices[0].delta
        reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
        content += delta.content or ""
    assert reasoning and content
    assert "think>" not in content + reasoning


def test_legacy_completions(client):
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon")
    assert completion.object == "text_completion"
    assert "Once upon" in completion.choices[0].text
    assert completion.choices[0].finish_reason in ("stop", "length")
    streamed = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once upon", stream=True
    )
    text = "".join(chunk.choices[0].text for chunk in streamed)
    assert text == completion.choices[0].text


def test_stop_sequence_enforced_by_the_gateway(client):
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "alpha beta gamma delta"}],
        stop=["gamma"],
    )
    content = completion.choices[0].message.content
    assert "beta" in content
    assert "gamma" not in content
    assert completion.choices[0].finish_reason == "stop"


def test_bad_parameter_is_400_naming_it(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=7)
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == "temperature"
    assert caught.value.body["type"] == "invalid_request_error"


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9-imaginary", messages=USER)
    assert caught.value.body["code"] == "model_not_found"


def test_removed_model_maps_to_its_successor(client):
    completion = client.chat.completions.create(
        model="@cf/meta/llama-2-7b-chat-int8", messages=USER
    )
    assert completion.model == "@cf/meta/llama-3.1-8b-instruct-fast"


@pytest.mark.emulator
@pytest.mark.parametrize(
    ("code", "error"),
    [(3040, openai.RateLimitError), (3036, openai.RateLimitError), (5021, openai.APIStatusError)],
)
def test_upstream_failures_are_mapped(client, emulator_control, code, error):
    emulator_control.fault(model="*", code=code)
    with pytest.raises(error) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    status = {3040: 429, 3036: 429, 5021: 413}[code]
    assert caught.value.status_code == status


@pytest.mark.emulator
def test_stream_cut_mid_way_ends_with_an_error_event(client, emulator_control):
    emulator_control.fault(model="*", abort_after_events=2)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk)
    assert received  # what arrived before the cut was delivered
    assert "upstream stream" in caught.value.message


@pytest.mark.emulator
@pytest.mark.parametrize("answer", ["json", "sse"])
@pytest.mark.parametrize("model", ["gpt-5", "o3-mini", "@cf/moonshotai/kimi-k2.6"])
def test_models_that_do_not_stream_upstream_still_stream_whole(
    client, emulator_control, model, answer
):
    # gpt-oss/Kimi answer an empty JSON result to `stream: true` on /ai/run; the Worker calls
    # them without it and replays the answer; an event-stream answer is read whole too.
    emulator_control.quirks(unstreamed_models=answer, paid_plan=True)
    stream = client.chat.completions.create(model=model, messages=USER, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Echo: Say hello to the test suite")
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "stream" not in emulator_control.requests()[-1]["inputs"]


@pytest.mark.emulator
@pytest.mark.parametrize("quirk", ["when_asked", "always"])
def test_chat_completions_models_report_real_usage_in_streams(client, emulator_control, quirk):
    # The Worker asks for the usage chunk (stream_options.include_usage) so the counts are the
    # model's, equal to the non-streamed answer's, whichever way the platform sends it.
    emulator_control.quirks(usage_chunk=quirk)
    whole = client.chat.completions.create(model="@cf/qwen/qwen3-30b-a3b-fp8", messages=USER)
    chunks = list(
        client.chat.completions.create(
            model="@cf/qwen/qwen3-30b-a3b-fp8",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage.model_dump() == whole.usage.model_dump()
    sent = emulator_control.requests()[-1]["inputs"]
    assert sent["stream_options"] == {"include_usage": True}


@pytest.mark.emulator
@pytest.mark.parametrize("quirk", ["when_asked", "always"])
def test_legacy_completions_streams_report_the_models_usage(client, emulator_control, quirk):
    emulator_control.quirks(usage_chunk=quirk)
    model = "@cf/qwen/qwen3-30b-a3b-fp8"
    whole = client.completions.create(model=model, prompt="Once upon")
    chunks = list(
        client.completions.create(
            model=model, prompt="Once upon", stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage.model_dump() == whole.usage.model_dump()
    assert emulator_control.requests()[-1]["inputs"]["stream_options"] == {"include_usage": True}


@pytest.mark.emulator
def test_license_gated_model_is_agreed_to_and_answers(client, emulator_control):
    completion = client.chat.completions.create(
        model="@cf/meta/llama-3.2-11b-vision-instruct", messages=USER
    )
    assert completion.choices[0].message.content.startswith("Echo:")
    sent = [r["inputs"] for r in emulator_control.requests()]
    assert {"prompt": "agree"} in sent
    assert emulator_control.agreements() == ["@cf/meta/llama-3.2-11b-vision-instruct"]


@pytest.mark.emulator
def test_long_cjk_prompt_gets_an_answer_not_a_413(client, emulator_control):
    cjk = [{"role": "user", "content": "上下文窗口的问题" * 2400}]  # 19200 characters
    completion = client.chat.completions.create(model="gpt-4", messages=cjk)  # 24000 window
    assert completion.choices[0].message.content.startswith("Echo:")
    assert len(emulator_control.requests()) == 1


@pytest.mark.emulator
def test_a_5021_against_the_default_budget_is_retried_with_the_reported_one(
    client, emulator_control
):
    words = [{"role": "user", "content": "a " * 20000}]  # 20000 tokens to the emulator
    completion = client.chat.completions.create(model="gpt-4", messages=words)
    assert completion.choices[0].message.content.startswith("Echo:")
    first, second = (r["inputs"]["max_tokens"] for r in emulator_control.requests())
    assert second == 24000 - 20004 < first


@pytest.mark.emulator
def test_pydantic_style_tool_schema_is_accepted_by_a_native_model(client, emulator_control):
    parameters = {
        "$defs": {"Unit": {"enum": ["c", "f"], "type": "string"}},
        "properties": {
            "city": {"type": "string"},
            "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}]},
        },
        "required": ["city", "unit"],
        "type": "object",
        "additionalProperties": False,
    }
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": parameters}}
    messages = [{"role": "user", "content": "call get_weather please"}]
    completion = client.chat.completions.create(model="gpt-4", messages=messages, tools=[tool])
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "x", "unit": "c"}
