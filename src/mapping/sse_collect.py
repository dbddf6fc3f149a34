"""A whole answer out of an upstream event stream we did not ask for.

gpt-oss and Kimi are called without `stream` (they do not stream on /ai/run), yet the binding's
output schema for them also allows `text/event-stream`, of a shape nobody documents. So a body
that turns out to be SSE is read to the end and folded into one result of a shape
`mapping.chat.normalise` knows:

    chat.completion.chunk events  -> chat.completion (content, reasoning, tool-call deltas, usage)
    Responses events              -> the `response.completed` response (or the text deltas)
    native {"response": ...}      -> {response, tool_calls, usage}
    a JSON body                   -> itself
"""

from __future__ import annotations

import json
from typing import Any


def events(raw: str) -> list[Any]:
    """The JSON `data:` payloads of an SSE body, in order (`[DONE]` and junk skipped)."""
    out = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        )
        if not data or data == "[DONE]":
            continue
        try:
            out.append(json.loads(data))
        except ValueError:
            continue
    return out


def collect(raw: bytes) -> Any:
    """The whole result in `raw`: parsed JSON, or the fold of its SSE events; ValueError when
    it is neither (a body a client could not use either)."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        pass
    items = [e for e in events(text) if isinstance(e, dict)]
    if not items:
        raise ValueError("neither JSON nor an event stream of JSON events")
    if any(str(e.get("type", "")).startswith("response.") for e in items):
        return _responses(items)
    if any(isinstance(e.get("choices"), list) for e in items):
        return _chat(items)
    return _native(items)


def _responses(items: list[dict]) -> dict:
    for item in reversed(items):
        done = item.get("type") in ("response.completed", "response.incomplete")
        if done and isinstance(item.get("response"), dict):
            return item["response"]
    text = "".join(
        str(e.get("delta", "")) for e in items if e.get("type") == "response.output_text.delta"
    )
    return {"output": [{"type": "message", "content": [{"type": "output_text", "text": text}]}]}


def _chat(items: list[dict]) -> dict:
    content, reasoning, finish, usage = [], [], None, None
    calls: dict[int, dict] = {}
    for item in items:
        usage = item.get("usage") or usage
        for choice in item.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            if "text" in choice:
                delta = {"content": choice["text"]}
            content.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or delta.get("reasoning") or "")
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    call.get("index", len(calls)), {"id": None, "name": "", "arguments": ""}
                )
                function = call.get("function") or {}
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] += function.get("name") or ""
                arguments = function.get("arguments") or ""
                slot["arguments"] += (
                    arguments if isinstance(arguments, str) else json.dumps(arguments)
                )
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
    if any(reasoning):
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for _, c in sorted(calls.items())
        ]
    result: dict[str, Any] = {
        "choices": [{"index": 0, "message": message, "finish_reason": finish}]
    }
    if usage:
        result["usage"] = usage
    return result


def _native(items: list[dict]) -> dict:
    text, calls, usage = [], [], None
    for item in items:
        response = item.get("response")
        if response is not None:
            text.append(response if isinstance(response, str) else json.dumps(response))
        calls += [c for c in item.get("tool_calls") or [] if isinstance(c, dict) and c.get("name")]
        usage = item.get("usage") or usage
    result: dict[str, Any] = {"response": "".join(text)}
    if calls:
        result["tool_calls"] = calls
    if usage:
        result["usage"] = usage
    return result
