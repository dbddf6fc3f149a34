"""The `chat.completion` and `text_completion` replies, whole or as SSE, for chat and legacy
completions alike."""

from __future__ import annotations

import time
from typing import Any

from core.exchange import SSE_TYPE, Call, Reply, StreamBody
from mapping import catalog, chat
from mapping.chatstream import ChatStream

SSE_HEADERS = {"content-type": SSE_TYPE, "cache-control": "no-cache"}


def completion_id(call: Call, prefix: str) -> str:
    """An id tied to the request id, so logs and answers can be matched."""
    return prefix + call.request_id.removeprefix("req_")


def chat_stream(
    request: chat.ChatRequest,
    prompt_text: str,
    stream_id: str,
    created: int,
    *,
    text_completion: bool = False,
) -> ChatStream:
    """The transcoder for a streamed answer to `request`."""
    model = request.model
    return ChatStream(
        completion_id=stream_id,
        created=created,
        model=model.id,
        max_tokens=request.max_tokens,
        include_usage=request.include_usage,
        stops=request.stops,
        think_tags=model.reasoning and model.shape == catalog.NATIVE,
        text_completion=text_completion,
        prompt_text=prompt_text,
    )


def stream_reply(
    call: Call,
    request: chat.ChatRequest,
    result: Any,
    prompt_text: str,
    *,
    text_completion: bool = False,
) -> Reply:
    """SSE for an upstream result: rewritten as it arrives, or replayed when it came whole
    (models that ignore `stream`, and native JSON mode, which cannot stream)."""
    transcoder = chat_stream(
        request,
        prompt_text,
        completion_id(call, "cmpl-" if text_completion else "chatcmpl-"),
        int(time.time()),
        text_completion=text_completion,
    )
    if isinstance(result, (dict, list, str, int, float)):
        answer = chat.normalise(result, request.model, f"call_{transcoder.completion_id}_")
        return Reply(200, transcoder.replay(answer), dict(SSE_HEADERS))
    idle = call.settings.stream_idle_timeout_s
    return Reply(200, StreamBody(result, transcoder, idle), dict(SSE_HEADERS))


def completion_object(
    call: Call, model: catalog.Model, answer: chat.Answer, finish: str, usage: chat.Usage
) -> dict:
    """The `chat.completion` object for a whole answer."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.content}
    if answer.reasoning:
        message["reasoning_content"] = answer.reasoning
    if answer.tool_calls:
        message["tool_calls"] = answer.tool_calls
        message["content"] = answer.content or None
    return {
        "id": completion_id(call, "chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model.id,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage,
    }


def completion_body(call: Call, request: chat.ChatRequest, result: Any, prompt_text: str) -> dict:
    """The `chat.completion` object for a whole upstream answer."""
    prefix = f"call_{completion_id(call, 'chatcmpl-')}_"
    answer, finish, usage = chat.settle(result, request, prompt_text, prefix)
    return completion_object(call, request.model, answer, finish, usage)


def prompt_text_of(inputs: dict) -> str:
    """The text of the prompt, for token estimates."""
    return "".join(
        m["content"] for m in inputs.get("messages", []) if isinstance(m.get("content"), str)
    )
