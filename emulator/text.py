"""Text generation in Workers AI's three output shapes, non-streamed and as SSE.

- native models: `{response, tool_calls?, usage}`; SSE `{"response":tok,"p":pad}` events, a
  usage event, `[DONE]`;
- Chat Completions models (qwen3, glm, gemma-4, nemotron, sea-lion, kimi): `chat.completion`
  and `chat.completion.chunk` objects;
- gpt-oss: Chat Completions with `messages`, a Responses object with `input`; no streaming.

Answers are deterministic: "Echo:" + the words of the last user message + a fixed filler, one
token per word, truncated to `max_tokens`. Tool calls happen when tools are given and the last
user message names a tool; after a `tool` message the answer quotes the tool result.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from typing import Any

from emulator import schema
from emulator.calls import Call, Json, Result, Stream
from emulator.errors import AiError, context_exceeded, invalid_input
from emulator.instances import instance
from emulator.models import Model, published
from emulator.sse import DONE, Padder, dumps, event

FILLER = "— this is a deterministic answer from the Workers AI emulator."
TEMPLATE_TOKENS_PER_MESSAGE = 4  # role markers and separators of a chat template

# ---------------------------------------------------------------------------------------------
# Input schemas (docs/workers-ai.md §2.1, §2.3)

_NUMBER = {"type": "number"}


def _range(kind: str, low: float, high: float) -> dict:
    return {"type": kind, "minimum": low, "maximum": high}


_PROPERTY_SCHEMA = {
    # The native tool schema requires a description on every parameter (§2.1).
    "type": "object",
    "required": ["type", "description"],
    "properties": {"type": {"type": "string"}, "description": {"type": "string"}},
}
_PARAMETERS = {
    "type": "object",
    "required": ["type", "properties"],
    "properties": {
        "type": {"type": "string"},
        "required": {"type": "array", "items": {"type": "string"}},
        "properties": {"type": "object", "additionalProperties": _PROPERTY_SCHEMA},
    },
}
_FLAT_TOOL = {
    "type": "object",
    "required": ["name", "description", "parameters"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "parameters": _PARAMETERS,
    },
}
_NATIVE_TOOL = {
    "anyOf": [
        _FLAT_TOOL,
        {
            "type": "object",
            "required": ["type", "function"],
            "properties": {"type": {"enum": ["function"]}, "function": _FLAT_TOOL},
        },
    ]
}


def _content_part(vision: bool) -> dict:
    return {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"enum": ["text", "image_url"] if vision else ["text"]},
            "text": {"type": "string"},
            "image_url": {
                "type": "object",
                "required": ["url"],
                # "image uri with data (e.g. data:image/jpeg;base64,...). HTTP URL will not be
                # accepted" — the schema pattern is what rejects http(s) URLs.
                "properties": {"url": {"type": "string", "pattern": "^data:"}},
            },
        },
    }


# JSON types of the native sampling fields (every native schema).
_SAMPLING_TYPES = {
    "temperature": "number",
    "top_p": "number",
    "top_k": "integer",
    "seed": "integer",
    "repetition_penalty": "number",
    "frequency_penalty": "number",
    "presence_penalty": "number",
}


def sampling_schema(model_id: str, types: dict[str, str]) -> dict[str, dict]:
    """Exactly the published ranges (emulator/published_rules.json, extracted from the model's
    cloudflare-docs schema at the commit recorded there); a field without one is only typed."""
    ranges = (published(model_id) or {}).get("ranges", {})
    return {
        name: _range(kind, *ranges[name]) if name in ranges else {"type": kind}
        for name, kind in types.items()
    }


def native_schema(model: Model) -> dict:
    """The JSON schema of a native text model's inputs: `prompt` XOR `messages`."""
    max_length = (published(model.id) or {}).get("max_length")
    text: dict[str, Any] = {"type": "string"}
    if max_length:
        text["maxLength"] = max_length  # prompt and string content (llama-3.1/3.2 schemas)
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"type": "string"},
            "content": {
                "type": ["string", "array"],
                "items": _content_part(model.vision),
                **({"maxLength": max_length} if max_length else {}),
            },
            # llama-4-scout and mistral-small want 9 alphanumerics ("fall back to 000000001").
            "tool_call_id": (
                {"type": "string", "pattern": "^[a-zA-Z0-9]{9}$"}
                if model.tool_style == "nested"
                else {"type": "string"}
            ),
        },
    }
    return {
        "type": "object",
        "oneOf": [{"required": ["prompt"]}, {"required": ["messages"]}],
        "properties": {
            "prompt": {**text, "minLength": 1},
            "messages": {"type": "array", "items": message},
            "image": {"type": ["array", "string"], "items": _range("integer", 0, 255)},
            "functions": {"type": "array"},
            "tools": {"type": "array", "items": _NATIVE_TOOL},
            "response_format": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["json_object", "json_schema"]},
                    "json_schema": {},
                },
            },
            "guided_json": {"type": "object"},
            "raw": {"type": "boolean"},
            "stream": {"type": "boolean"},
            "max_tokens": {"type": "integer", "minimum": 1},
            **sampling_schema(model.id, _SAMPLING_TYPES),
            "lora": {"type": "string"},
        },
    }


_CHAT_MESSAGE = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string"},
        "content": {"type": ["string", "array", "null"]},
        "tool_calls": {"type": "array"},
        "tool_call_id": {"type": "string"},
    },
}
_CHAT_TOOL = {
    "type": "object",
    "required": ["type", "function"],
    "properties": {
        "type": {"enum": ["function"]},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
        },
    },
}
_CHAT_COMMON: dict[str, Any] = {
    "stream": {"type": "boolean"},
    "stream_options": {"type": "object"},
    "max_tokens": {"type": "integer", "minimum": 1},
    "max_completion_tokens": {"type": "integer", "minimum": 1},
    "temperature": _range("number", 0, 2),
    "top_p": _range("number", 0, 1),
    "seed": {"type": "integer"},
    "frequency_penalty": _range("number", -2, 2),
    "presence_penalty": _range("number", -2, 2),
    "stop": {"type": ["string", "array", "null"]},
    "response_format": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"enum": ["text", "json_object", "json_schema"]},
            # OpenAI's envelope: `name` is required (cloudflare-docs gemma-4-26b-a4b-it.json
            # @ 8082244b, response_format json_schema branch), so a bare schema is refused.
            "json_schema": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "schema": {"type": "object"}},
            },
        },
    },
    "reasoning_effort": {"enum": ["low", "medium", "high", None]},
    "chat_template_kwargs": {"type": "object"},
}


def chat_schema(model: Model) -> dict:
    """Chat Completions input; qwen3 and sea-lion also take a bare `prompt`."""
    props = {
        **_CHAT_COMMON,
        "messages": {"type": "array", "minItems": 1, "items": _CHAT_MESSAGE},
        "tools": {"type": "array", "items": _CHAT_TOOL},
        "tool_choice": {"type": ["string", "object"]},
    }
    # Published ranges win over the generic Chat Completions ones (published_rules.json);
    # the schemas let every Chat Completions sampling field be null too.
    for name, (low, high) in ((published(model.id) or {}).get("ranges") or {}).items():
        if name in props:
            props[name] = {
                "anyOf": [_range(_SAMPLING_TYPES.get(name, "number"), low, high), {"type": "null"}]
            }
    if model.id in ("@cf/qwen/qwen3-30b-a3b-fp8", "@cf/aisingapore/gemma-sea-lion-v4-27b-it"):
        props["prompt"] = {"type": "string", "minLength": 1}
        return {
            "type": "object",
            "oneOf": [{"required": ["prompt"]}, {"required": ["messages"]}],
            "properties": props,
        }
    return {"type": "object", "required": ["messages"], "properties": props}


def gpt_oss_schema() -> dict:
    """gpt-oss takes the Responses API (`input`) XOR Chat Completions (`messages`)."""
    return {
        "type": "object",
        "oneOf": [{"required": ["input"]}, {"required": ["messages"]}],
        "properties": {
            **_CHAT_COMMON,
            "input": {"type": ["string", "array"]},
            "instructions": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": _CHAT_MESSAGE},
            "reasoning": {
                "type": "object",
                "properties": {
                    "effort": {"enum": ["low", "medium", "high"]},
                    "summary": {"enum": ["auto", "concise", "detailed"]},
                },
            },
            "tools": {"type": "array"},
            "max_output_tokens": {"type": "integer", "minimum": 1},
        },
    }


# ---------------------------------------------------------------------------------------------
# Tokens, messages, images


# CJK ideographs, kana, Hangul, CJK symbols and full-width forms: real tokenizers (Llama 3,
# Qwen, Gemma) spend about one token on each, which the 5021 check counts (changelog
# 2025-02-24: the API estimates and validates *tokens*, not characters).
_DENSE = re.compile(
    "[\u1100-\u11ff\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)


def count_tokens(text: str) -> int:
    """One token per CJK/kana/Hangul character; elsewhere about one per word, but never fewer
    than one per six characters (base64, long words)."""
    if not text:
        return 0
    dense = len(_DENSE.findall(text))
    rest = _DENSE.sub(" ", text) if dense else text
    chars = len(text) - dense
    return dense + (max(len(rest.split()), math.ceil(chars / 6)) if rest.strip() else 0)


def content_text(content: Any) -> str:
    """The text of a message `content`: a string, or the text parts of a part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and "text" in p]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


def data_uri_bytes(url: str) -> tuple[str, int]:
    """(mime type, decoded size) of a base64 data URI; 3010 if it does not decode."""
    match = re.match(r"data:([^;,]*)(;[^,]*)?,(.*)", url, re.S)
    if not match:
        raise invalid_input("image_url must be a data URI")
    mime, params, payload = match.group(1) or "image/*", match.group(2) or "", match.group(3)
    if ";base64" not in params:
        return mime, len(payload.encode())
    try:
        return mime, len(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise invalid_input(f"image data URI is not valid base64: {exc}") from None


def image_notes(inputs: dict) -> list[str]:
    """One sentence per attached image, naming its byte size (vision models)."""
    notes: list[str] = []
    for message in inputs.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                mime, size = data_uri_bytes(part["image_url"]["url"])
                notes.append(f"I see an image of {size} bytes ({mime}).")
    image = inputs.get("image")
    if isinstance(image, list):
        notes.append(f"I see an image of {len(image)} bytes.")
    elif isinstance(image, str):
        notes.append(f"I see an image of {len(image.encode('latin-1', 'replace'))} bytes.")
    return notes


def normalise_messages(inputs: dict) -> list[dict]:
    """`messages`, or a one-message list built from `prompt`, `input` and `instructions`."""
    if isinstance(inputs.get("messages"), list):
        return [m for m in inputs["messages"] if isinstance(m, dict)]
    if "input" in inputs:  # Responses API
        out: list[dict] = []
        if isinstance(inputs.get("instructions"), str):
            out.append({"role": "system", "content": inputs["instructions"]})
        items = inputs["input"]
        if isinstance(items, str):
            return [*out, {"role": "user", "content": items}]
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "function_call_output":
                out.append({"role": "tool", "content": str(item.get("output", ""))})
            elif item.get("type") == "function_call":
                out.append({"role": "assistant", "content": ""})
            else:
                out.append({"role": item.get("role", "user"), "content": item.get("content", "")})
        return out
    return [{"role": "user", "content": inputs.get("prompt", "")}]


def prompt_tokens(messages: list[dict]) -> int:
    """Estimated prompt tokens: content tokens plus a template overhead per message."""
    total = 0
    for message in messages:
        total += count_tokens(content_text(message.get("content"))) + TEMPLATE_TOKENS_PER_MESSAGE
    return total


def check_context(model: Model, used: int, max_tokens: int) -> None:
    """5021 when prompt tokens + max_tokens exceed the context window (§10)."""
    if model.context_window and used + max_tokens > model.context_window:
        raise context_exceeded(used + max_tokens, model.context_window)


# ---------------------------------------------------------------------------------------------
# What the model "says"


def pieces(text: str) -> list[str]:
    """Split text into stream tokens: words, each after the first keeping its leading space."""
    words = text.split(" ")
    return [words[0], *(" " + w for w in words[1:])] if text else []


def answer_text(messages: list[dict], notes: list[str]) -> str:
    """The deterministic answer to a conversation."""
    last = messages[-1] if messages else {"role": "user", "content": ""}
    if last.get("role") == "tool":
        return f"The tool returned: {content_text(last.get('content'))}"
    user = next((m for m in reversed(messages) if m.get("role") == "user"), last)
    words = content_text(user.get("content")).split()
    return " ".join([*notes, "Echo:", *words, FILLER])


def reasoning_text(messages: list[dict], effort: str = "medium") -> str:
    """Deterministic chain of thought; longer for higher efforts."""
    user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    head = " ".join(content_text(user.get("content")).split()[:8])
    steps = [f"The user wrote: {head}.", "I should echo it back.", "Let me check the wording."]
    return " ".join(steps[: {"low": 1, "medium": 2, "high": 3}.get(effort, 2)])


# ---------------------------------------------------------------------------------------------
# Tools


def tool_specs(tools: list) -> list[tuple[str, dict]]:
    """(name, parameters schema) of each tool, flat, OpenAI-nested or Responses-style."""
    specs = []
    for tool in tools or []:
        if not isinstance(tool, dict):
            continue
        fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        if isinstance(fn.get("name"), str):
            specs.append((fn["name"], fn.get("parameters") or {}))
    return specs


def chosen_tools(inputs: dict, messages: list[dict]) -> list[tuple[str, dict]]:
    """Tools to call: those the last user message names, or those `tool_choice` forces."""
    specs = tool_specs(inputs.get("tools") or [])
    choice = inputs.get("tool_choice", "auto")
    if not specs or choice == "none" or not messages or messages[-1].get("role") != "user":
        return []
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        return [(n, instance(p)) for n, p in specs if n == name]
    text = content_text(messages[-1].get("content")).lower()
    named = [(n, instance(p)) for n, p in specs if n.lower() in text]
    if not named and choice == "required":
        named = [(specs[0][0], instance(specs[0][1]))]
    return named


def json_format(inputs: dict) -> dict | None:
    """The JSON schema the answer must follow, `{}` for plain JSON mode, or None."""
    fmt = inputs.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        spec = fmt.get("json_schema")
        if isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
            return spec["schema"]  # OpenAI's {name, schema, strict} envelope
        return spec if isinstance(spec, dict) else {}
    if isinstance(inputs.get("guided_json"), dict):
        return inputs["guided_json"]
    return None


def json_answer(schema_: dict, text: str) -> Any:
    """A JSON value satisfying the schema; plain JSON mode wraps the echo answer."""
    if not schema_:
        return {"answer": text}
    return instance(schema_)


# ---------------------------------------------------------------------------------------------
# Native models


def _usage(prompt: int, completion: int) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def run_native(call: Call) -> Result:
    """A native text model: `{response, tool_calls?, usage}` or its SSE stream."""
    model, inputs = call.model, call.inputs
    schema.validate(inputs, native_schema(model))
    if model.terms and call.controls is not None and not call.controls.has_agreed(model.id):
        if inputs.get("prompt") == "agree":
            call.controls.agree(model.id)  # per model, until DELETE /__emulator/agreements
            # The real confirmation text is unpublished; this one is a stand-in.
            return Json({"response": f"Thank you for agreeing to the {model.terms} terms."})
        raise AiError(5016, f"User has not agreed to {model.terms} model terms")
    if "lora" in inputs:
        raise AiError(5005, f"The model {model.id} does not support LoRa inference")
    messages = normalise_messages(inputs)
    max_tokens = inputs.get("max_tokens", model.max_tokens_default)
    used = prompt_tokens(messages)
    check_context(model, used, max_tokens)
    stream = inputs.get("stream") is True
    fmt = json_format(inputs)
    if fmt is not None and stream:
        raise invalid_input(
            "JSON Mode couldn't be met: JSON Mode currently doesn't support streaming"
        )
    notes = image_notes(inputs) if model.vision else []
    calls = chosen_tools(inputs, messages)
    if calls:
        return _native_tools(call, calls, used, stream)
    answer = answer_text(messages, notes)
    if fmt is not None:
        value = json_answer(fmt, answer)
        return Json({"response": value, "usage": _usage(used, count_tokens(dumps(value)))})
    toks = pieces(answer)
    if model.think_inline:
        # The chat template already opened <think>, so the output only closes it.
        toks = [*pieces(reasoning_text(messages)), "\n</think>\n\n", *toks]
    toks = toks[:max_tokens]
    if not stream:
        return Json({"response": "".join(toks), "usage": _usage(used, len(toks))})
    pad = Padder(call.seed)
    events = [event(pad({"response": t})) for t in toks]
    events.append(event({"response": "", "usage": _usage(used, len(toks))}))
    events.append(DONE)
    return Stream(events)


def _native_tools(call: Call, calls: list[tuple[str, dict]], used: int, stream: bool) -> Result:
    """Tool calls in the model's style: flat `{name, arguments}` or `{id, type, function}`."""
    nested = call.model.tool_style == "nested"
    ids = [f"chatcmpl-tool-{call.hexid(24)}{i:08x}" for i in range(len(calls))]
    completion = sum(count_tokens(dumps(args)) + 2 for _, args in calls)
    if nested:
        out = [
            {"id": ids[i], "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(calls)
        ]
    else:
        out = [{"name": n, "arguments": a} for n, a in calls]
    if not stream:
        return Json({"response": "", "tool_calls": out, "usage": _usage(used, completion)})
    pad = Padder(call.seed)
    events: list[bytes] = []
    if not nested:
        events.append(event(pad({"response": "", "tool_calls": out})))
    else:
        # OpenAI-style incremental deltas, as seen from llama-4-scout (§2.4).
        for i, (name, args) in enumerate(calls):
            head = {"id": ids[i], "type": "function", "index": i, "function": {"name": name}}
            events.append(event({"tool_calls": [head]}))
            text = json.dumps(args)
            for start in range(0, len(text), 8):
                frag = {"index": i, "function": {"arguments": text[start : start + 8]}}
                events.append(event(pad({"tool_calls": [frag]})))
            final = {
                "id": None,
                "type": None,
                "index": i,
                "function": {"name": None, "arguments": ""},
            }
            events.append(event({"tool_calls": [final]}))
        events.append(event({"finish_reason": "tool_calls"}))
    events.append(event({"response": "", "usage": _usage(used, completion)}))
    events.append(DONE)
    return Stream(events)


# ---------------------------------------------------------------------------------------------
# Chat Completions-shaped models and gpt-oss


class _Plan:
    """What a chat-shaped answer contains after applying the token budget."""

    def __init__(self, call: Call, messages: list[dict], max_tokens: int, reasoning: bool) -> None:
        inputs = call.inputs
        self.used = prompt_tokens(messages)
        check_context(call.model, self.used, max_tokens)
        effort = inputs.get("reasoning_effort") or (inputs.get("reasoning") or {}).get("effort")
        think = pieces(reasoning_text(messages, effort or "medium")) if reasoning else []
        self.reasoning = think[:max_tokens]
        budget = max_tokens - len(self.reasoning)
        self.calls = chosen_tools(inputs, messages) if budget > 0 else []
        fmt = json_format(inputs)
        answer = answer_text(messages, image_notes(inputs))
        if fmt is not None:
            text = dumps(json_answer(fmt, answer))
            content = [text[i : i + 8] for i in range(0, len(text), 8)]
        else:
            content = pieces(answer)
        if self.calls:
            content = []
        self.content = content[: max(budget, 0)]
        truncated = len(think) > len(self.reasoning) or len(content) > len(self.content)
        self.finish = "tool_calls" if self.calls else ("length" if truncated else "stop")
        call_tokens = sum(count_tokens(dumps(a)) + 2 for _, a in self.calls)
        self.completion = len(self.reasoning) + len(self.content) + call_tokens
        self.call_ids = [f"call_{call.hexid(40)[i : i + 24]}" for i in range(len(self.calls))]

    def usage(self) -> dict:
        usage = _usage(self.used, self.completion)
        if self.reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": len(self.reasoning)}
        return usage


def _thinking(model: Model, inputs: dict) -> bool:
    kwargs = inputs.get("chat_template_kwargs")
    disabled = isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False
    return model.reasoning and (model.family == "gpt-oss" or not disabled)


def run_chat(call: Call) -> Result:
    """A Chat Completions-shaped model (qwen3, glm, gemma-4, nemotron, sea-lion, kimi)."""
    model, inputs = call.model, call.inputs
    if model.paid_only and not call.quirks["paid_plan"]:
        raise AiError(5035, f"{model.id} requires the Workers Paid plan")
    schema.validate(inputs, chat_schema(model))
    if "prompt" in inputs:
        return _text_completion(call)
    if not model.streams:
        return _unstreamed(call)
    return _chat_completion(call, stream=inputs.get("stream") is True)


def run_gpt_oss(call: Call) -> Result:
    """gpt-oss: Responses API with `input`, Chat Completions with `messages`; no real streaming."""
    schema.validate(call.inputs, gpt_oss_schema())
    return _unstreamed(call)


def _unstreamed(call: Call) -> Result:
    """A model that does not stream on /ai/run (`Model.streams`): by default JSON, whose result
    is empty when `stream: true` was asked for; with quirk `unstreamed_models: "sse"` an event
    stream (shape unknown: chat.completion.chunk for `messages`, Responses events for `input`)."""
    responses = "input" in call.inputs
    if call.quirks["unstreamed_models"] == "sse":
        if responses:
            return _response_events(_responses(call).value)
        return _chat_completion(call, stream=True)
    if call.inputs.get("stream") is True:
        return Json({})
    return _responses(call) if responses else _chat_completion(call, stream=False)


def _response_events(response: dict) -> Stream:
    """A Responses object as OpenAI's Responses streaming events."""
    events = [event({"type": "response.created", "response": {**response, "output": []}})]
    for item in response["output"]:
        if item["type"] == "message":
            for part in item["content"]:
                events += [
                    event({"type": "response.output_text.delta", "delta": t})
                    for t in pieces(part["text"])
                ]
    events += [event({"type": "response.completed", "response": response}), DONE]
    return Stream(events)


def _max_tokens(model: Model, inputs: dict) -> int:
    value = inputs.get("max_completion_tokens") or inputs.get("max_tokens")
    return int(value) if value else model.max_tokens_default


def _chat_completion(call: Call, stream: bool) -> Result:
    model, inputs = call.model, call.inputs
    messages = normalise_messages(inputs)
    plan = _Plan(call, messages, _max_tokens(model, inputs), _thinking(model, inputs))
    cid, created = f"chatcmpl-{call.hexid(32)}", int(time.time())
    tool_calls = [
        {"id": plan.call_ids[i], "type": "function", "function": {"name": n, "arguments": dumps(a)}}
        for i, (n, a) in enumerate(plan.calls)
    ]
    if not stream:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if plan.calls else "".join(plan.content),
        }
        if _thinking(model, inputs):
            message["reasoning_content"] = "".join(plan.reasoning)
        if tool_calls:
            message["tool_calls"] = tool_calls
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": plan.finish,
            "stop_reason": None,
        }
        return Json(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model.id,
                "choices": [choice],
                "usage": plan.usage(),
            }
        )

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        base = {"id": cid, "object": "chat.completion.chunk", "created": created}
        return event({**base, "model": model.id, "choices": [choice]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"reasoning_content": t}) for t in plan.reasoning]
    events += [chunk({"content": t}) for t in plan.content]
    for i, tc in enumerate(tool_calls):
        head = {**tc, "index": i, "function": {"name": tc["function"]["name"], "arguments": ""}}
        events.append(chunk({"tool_calls": [head]}))
        args = tc["function"]["arguments"]
        for start in range(0, len(args), 8):
            frag = {"index": i, "function": {"arguments": args[start : start + 8]}}
            events.append(chunk({"tool_calls": [frag]}))
    events.append(chunk({}, plan.finish))
    if _usage_asked(call):
        usage_chunk = {"id": cid, "object": "chat.completion.chunk", "created": created}
        usage_event = {**usage_chunk, "model": model.id, "choices": [], "usage": plan.usage()}
        events.append(event(usage_event))
    events.append(DONE)
    return Stream(events)


def _usage_asked(call: Call) -> bool:
    """Whether a Chat Completions stream ends with a usage chunk: only when
    `stream_options.include_usage` is true, as in OpenAI's API and vLLM, whose request schema
    these models publish (gemma-4-26b-a4b-it.json @ 8082244b has `stream_options.include_usage`);
    quirk `usage_chunk: "always"` sends it regardless."""
    options = call.inputs.get("stream_options")
    asked = isinstance(options, dict) and options.get("include_usage") is True
    return asked or call.quirks["usage_chunk"] == "always"


def _text_completion(call: Call) -> Result:
    """qwen3/sea-lion with a bare `prompt`: an OpenAI `text_completion` object."""
    model, inputs = call.model, call.inputs
    messages = normalise_messages(inputs)
    plan = _Plan(call, messages, _max_tokens(model, inputs), reasoning=False)
    cid, created = f"cmpl-{call.hexid(32)}", int(time.time())
    base = {"id": cid, "object": "text_completion", "created": created, "model": model.id}
    if inputs.get("stream") is not True:
        choice = {"index": 0, "text": "".join(plan.content), "logprobs": None}
        choice["finish_reason"] = plan.finish
        return Json({**base, "choices": [choice], "usage": plan.usage()})
    events = [
        event({**base, "choices": [{"index": 0, "text": t, "finish_reason": None}]})
        for t in plan.content
    ]
    events.append(
        event({**base, "choices": [{"index": 0, "text": "", "finish_reason": plan.finish}]})
    )
    if _usage_asked(call):
        events.append(event({**base, "choices": [], "usage": plan.usage()}))
    events.append(DONE)
    return Stream(events)


def _responses(call: Call) -> Result:
    """gpt-oss with `input`: a Responses API object (reasoning, message, function calls)."""
    model, inputs = call.model, call.inputs
    messages = normalise_messages(inputs)
    max_tokens = inputs.get("max_output_tokens") or _max_tokens(model, inputs)
    plan = _Plan(call, messages, max_tokens, reasoning=True)
    rid = call.hexid(32)
    output: list[dict] = [
        {
            "id": f"rs_{rid}",
            "type": "reasoning",
            "content": [{"type": "reasoning_text", "text": "".join(plan.reasoning)}],
            "summary": [],
        }
    ]
    for i, (name, args) in enumerate(plan.calls):
        output.append(
            {
                "id": f"fc_{rid[:20]}{i:04d}",
                "type": "function_call",
                "call_id": plan.call_ids[i],
                "name": name,
                "arguments": dumps(args),
                "status": "completed",
            }
        )
    if not plan.calls:
        output.append(
            {
                "id": f"msg_{rid}",
                "type": "message",
                "role": "assistant",
                "status": "completed" if plan.finish == "stop" else "incomplete",
                "content": [
                    {"type": "output_text", "text": "".join(plan.content), "annotations": []}
                ],
            }
        )
    completed = plan.finish != "length"
    return Json(
        {
            "id": f"resp_{rid}",
            "object": "response",
            "created_at": int(time.time()),
            "model": model.id,
            "status": "completed" if completed else "incomplete",
            "incomplete_details": None if completed else {"reason": "max_output_tokens"},
            "output": output,
            "usage": {
                "input_tokens": plan.used,
                "output_tokens": plan.completion,
                "total_tokens": plan.used + plan.completion,
                "output_tokens_details": {"reasoning_tokens": len(plan.reasoning)},
            },
        }
    )
