"""gpt-oss and Kimi do not stream on /ai/run: the Worker calls them without `stream` and replays
the whole answer as SSE, whatever shape (JSON or an event stream) comes back."""

from __future__ import annotations

import json

import pytest

from mapping import sse_collect
from tests.unit.fakes import AUTH, FakeAi, FakeStream, make_call, run

USER = [{"role": "user", "content": "Hi"}]
COMPLETION = {
    "id": "x",
    "object": "chat.completion",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello there", "reasoning_content": "r"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def sse(*events: object) -> bytes:
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def streamed_chat(model: str, answer) -> tuple[str, FakeAi]:
    ai = FakeAi(lambda m, i: answer)
    body = {"model": model, "messages": USER, "stream": True}
    reply = run(make_call("POST", "/v1/chat/completions", body=body, headers=AUTH, ai=ai))
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    body = reply.body
    return (body.decode() if isinstance(body, bytes) else body), ai


def contents(text: str) -> str:
    out = []
    for block in text.split("\n\n"):
        data = block.removeprefix("data: ")
        if not data or data == "[DONE]":
            continue
        for choice in json.loads(data).get("choices", []):
            out.append(choice["delta"].get("content") or "")
    return "".join(out)


@pytest.mark.parametrize(
    "model", ["gpt-5", "o1", "o3", "o3-mini", "o4-mini", "gpt-5-mini", "@cf/moonshotai/kimi-k2.6"]
)
def test_stream_is_never_sent_and_the_whole_answer_is_replayed(model):
    text, ai = streamed_chat(model, COMPLETION)
    assert "stream" not in ai.calls[0][1]
    assert contents(text) == "Hello there"
    assert text.endswith("data: [DONE]\n\n")


def test_native_models_still_stream_upstream():
    _, ai = streamed_chat("gpt-4o-mini", FakeStream([sse({"response": "hi"})]))
    assert ai.calls[0][1]["stream"] is True


@pytest.mark.parametrize(
    "body",
    [
        sse(chunk({"role": "assistant", "content": ""}), chunk({"content": "Hello"}),
            chunk({"content": " there"}), chunk({}, "stop")),
        sse({"type": "response.created", "response": {}},
            {"type": "response.output_text.delta", "delta": "Hello"},
            {"type": "response.output_text.delta", "delta": " there"}),
        sse({"type": "response.completed", "response": {"output": [
            {"type": "message", "content": [{"type": "output_text", "text": "Hello there"}]}]}}),
        sse({"response": "Hello"}, {"response": " there"}, {"response": "", "usage": {}}),
        json.dumps(COMPLETION).encode(),
    ],
)  # fmt: skip
def test_an_event_stream_of_any_shape_is_read_whole(body):
    text, _ = streamed_chat("gpt-5", FakeStream([body[:7], body[7:]]))
    assert contents(text) == "Hello there"


def test_collect_folds_tool_call_deltas():
    raw = sse(
        chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        chunk({}, "tool_calls"),
    )  # fmt: skip
    result = sse_collect.collect(raw)
    call = result["choices"][0]["message"]["tool_calls"][0]
    assert call == {
        "id": "c1",
        "type": "function",
        "function": {"name": "get", "arguments": '{"a":1}'},
    }
    assert result["choices"][0]["finish_reason"] == "tool_calls"
