"""OpenAI chat/completions requests -> Workers AI inputs, and Workers AI outputs -> OpenAI objects.

Pure functions. Three upstream output families are normalised (docs/workers-ai.md §1.5, §2.2–2.3):
native `{response, tool_calls, usage}`, Chat Completions `{choices}`, Responses `{output}`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from core import validate
from core.errors import invalid
from mapping import budget, param_rules, tool_schema
from mapping.catalog import NATIVE, Model, streams_upstream

ROLES = ("system", "user", "assistant", "tool", "developer")
THINK_END = "</think>"
MAX_STOPS = 4
# Workers AI's seed range (native schemas: 1..9999999999).
SEED_MODULUS = 9_999_999_999
_TOOL_ID = re.compile(r"^[A-Za-z0-9]{9}$")


class Usage(TypedDict):
    """OpenAI usage counts."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass
class ChatRequest:
    """A validated chat request: what to send upstream and how to shape the answer."""

    model: Model
    inputs: dict[str, Any]
    stream: bool
    include_usage: bool
    max_tokens: int
    stops: tuple[str, ...] = ()
    json_mode: bool = False
    images: list[tuple[int, int, str]] = field(default_factory=list)  # (msg, part, http url)
    default_budget: bool = False  # max_tokens is the Worker's choice (may shrink after a 5021)


def estimate_tokens(text: str) -> int:
    """A cheap upper-leaning token estimate by script (CJK ≈ 1 a character; `budget`)."""
    return budget.estimate_tokens(text)


def tool_call_id(original: str) -> str:
    """A tool-call id that every Workers AI schema accepts (some require 9 alphanumerics).

    Stable: the same client id maps to the same upstream id in assistant and tool messages.
    """
    if _TOOL_ID.match(original):
        return original
    return hashlib.sha256(original.encode()).hexdigest()[:9]


def _text_of(content: Any, param: str, vision: bool, images: list, index: int) -> Any:
    """Message content for upstream: a string, or parts when images are present."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise invalid(f"Invalid type for '{param}': expected a string or an array.", param)
    parts: list[dict] = []
    for number, part in enumerate(content):
        where = f"{param}[{number}]"
        if not isinstance(part, dict):
            raise invalid(f"Invalid type for '{where}': expected an object.", where)
        kind = part.get("type")
        if kind in ("text", "input_text"):
            parts.append(
                {"type": "text", "text": validate.required_str(part, "text", allow_empty=True)}
            )
        elif kind == "image_url":
            if not vision:
                raise invalid(
                    "This model does not accept images; choose a vision model such as "
                    "`@cf/meta/llama-4-scout-17b-16e-instruct` (alias `gpt-4o`).",
                    where,
                    "model_not_vision_capable",
                )
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url.startswith(
                ("data:image/", "http://", "https://")
            ):
                raise invalid(
                    "image_url must be an http(s) URL or a data:image/... URI.",
                    f"{where}.image_url.url",
                )
            if not url.startswith("data:"):
                images.append((index, len(parts), url))
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            raise invalid(f"Unsupported content part type: '{kind}'.", f"{where}.type")
    if not any(p["type"] == "image_url" for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def _tool_calls_upstream(calls: Any, param: str) -> list[dict]:
    if not isinstance(calls, list):
        raise invalid(f"Invalid type for '{param}': expected an array.", param)
    result = []
    for number, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid("Each tool call needs function.name.", f"{param}[{number}].function")
        arguments = function.get("arguments", "{}")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        result.append(
            {
                "id": tool_call_id(str(call.get("id") or f"call{number}")),
                "type": "function",
                "function": {"name": function["name"], "arguments": arguments},
            }
        )
    return result


def map_messages(messages: Any, model: Model, images: list) -> list[dict]:
    """Validated messages in the form Workers AI takes (OpenAI's, with safe tool ids)."""
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty array.", "messages")
    result = []
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if not isinstance(message, dict):
            raise invalid(f"Invalid type for '{param}': expected an object.", param)
        role = message.get("role")
        if role not in ROLES:
            raise invalid(
                f"Invalid value for '{param}.role': {role!r}. Supported values are: "
                + ", ".join(f"'{r}'" for r in ROLES)
                + ".",
                f"{param}.role",
            )
        out: dict[str, Any] = {
            "role": "system" if role == "developer" else role,
            "content": _text_of(
                message.get("content"), f"{param}.content", model.vision, images, index
            ),
        }
        if role == "assistant" and message.get("tool_calls"):
            out["tool_calls"] = _tool_calls_upstream(message["tool_calls"], f"{param}.tool_calls")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or not call_id:
                raise invalid(
                    "Messages with role 'tool' need a 'tool_call_id'.", f"{param}.tool_call_id"
                )
            out["tool_call_id"] = tool_call_id(call_id)
            if isinstance(message.get("name"), str):
                out["name"] = message["name"]
        result.append(out)
    return result


def _parameters(value: Any, param: str) -> dict:
    """A tool's `parameters`: a JSON Schema object whose `properties` map names to schemas."""
    if value is None or value == {}:
        return {"type": "object", "properties": {}}
    properties = value.get("properties", {}) if isinstance(value, dict) else None
    required = value.get("required", []) if isinstance(value, dict) else None
    if (
        not isinstance(properties, dict)
        or not all(isinstance(schema, (dict, bool)) for schema in properties.values())
        or not isinstance(required, list)
        or not all(isinstance(name, str) for name in required)
    ):
        raise invalid(
            "A tool's parameters must be a JSON Schema object: 'properties' an object of "
            "schemas, 'required' an array of names.",
            param,
        )
    return value


def _tools(body: Mapping[str, Any], model: Model) -> list[dict] | None:
    tools = body.get("tools")
    if tools is None or tools == []:
        return None
    if not isinstance(tools, list):
        raise invalid("'tools' must be an array.", "tools")
    choice = body.get("tool_choice", "auto")
    if choice == "none":
        return None
    chosen = None
    if isinstance(choice, dict):
        function = choice.get("function")
        chosen = function.get("name") if isinstance(function, dict) else None
        if not isinstance(chosen, str):
            raise invalid(
                "tool_choice must name a function: "
                '{"type": "function", "function": {"name": ...}}.',
                "tool_choice",
            )
    elif choice not in ("auto", "required"):
        raise invalid(
            "Invalid value for 'tool_choice': use 'none', 'auto', 'required' or a function.",
            "tool_choice",
        )
    result = []
    for number, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid("Each tool needs type 'function' and function.name.", f"tools[{number}]")
        if chosen and function["name"] != chosen:
            continue
        parameters = _parameters(function.get("parameters"), f"tools[{number}].function.parameters")
        if model.shape == NATIVE:
            # Native schemas want a string `type` and a `description` on every property:
            # pydantic/zod/strict-mode schemas are rewritten to mean the same (tool_schema).
            parameters = tool_schema.normalise(parameters)
        result.append(
            {
                "type": "function",
                "function": {
                    "name": function["name"],
                    "description": function.get("description") or "",
                    "parameters": parameters,
                },
            }
        )
    if chosen and not result:
        raise invalid(f"tool_choice names '{chosen}', which is not in 'tools'.", "tool_choice")
    return result


def _response_format(body: Mapping[str, Any], model: Model) -> dict | None:
    fmt = body.get("response_format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        wrapper = fmt.get("json_schema")
        schema = wrapper.get("schema") if isinstance(wrapper, dict) else None
        if not isinstance(schema, dict):
            raise invalid(
                "response_format.json_schema must be {name, schema, strict}.",
                "response_format.json_schema",
            )
        if model.shape == NATIVE:
            # Workers AI's native JSON mode takes the bare schema (docs/workers-ai.md §2.1).
            return {"type": "json_schema", "json_schema": schema}
        return {"type": "json_schema", "json_schema": wrapper}
    raise invalid(
        "Invalid value for 'response_format.type': use 'text', 'json_object' or 'json_schema'.",
        "response_format.type",
    )


def _stops(body: Mapping[str, Any]) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise invalid("'stop' must be a string or an array of strings.", "stop")
    if len(stops) > MAX_STOPS:
        raise invalid(f"'stop' may hold at most {MAX_STOPS} sequences.", "stop")
    return tuple(s for s in stops if s)


def sampling(body: Mapping[str, Any], prompt_text: str, model: Model) -> dict[str, Any]:
    """max_tokens and sampling fields, validated in OpenAI's ranges, named as Workers AI's."""
    # Past 2^53 a budget cannot reach the binding at all; below it, one past the context
    # window is Workers AI's 413 (5021).
    max_tokens = validate.optional_int(body, "max_completion_tokens", 1, validate.MAX_SAFE_INTEGER)
    if max_tokens is None:
        max_tokens = validate.optional_int(body, "max_tokens", 1, validate.MAX_SAFE_INTEGER)
    if max_tokens is None:
        # Never leave Workers AI's 256 default: the model's budget, within its context window.
        max_tokens = model.max_tokens
        if model.context_window:
            room = model.context_window - estimate_tokens(prompt_text) - 64
            max_tokens = max(1, min(max_tokens, room))
    seed = validate.optional_int(body, "seed")
    top_p = validate.optional_number(body, "top_p", 0, 1)
    values = {
        "max_tokens": max_tokens,
        "temperature": validate.optional_number(body, "temperature", 0, 2),
        # Workers AI's minimum top_p is 0.001; 0 means "greedy" to OpenAI clients.
        "top_p": None if top_p is None else max(top_p, 0.001),
        "top_k": validate.optional_int(body, "top_k", 1, 50),
        "seed": None if seed is None else (abs(seed) % SEED_MODULUS or 1),
        "frequency_penalty": validate.optional_number(body, "frequency_penalty", -2, 2),
        "presence_penalty": validate.optional_number(body, "presence_penalty", -2, 2),
        "repetition_penalty": validate.optional_number(body, "repetition_penalty", 0, 2),
    }
    # OpenAI's ranges are wider than some models' (penalties -2..2 vs 0..2): clamp, not 5006.
    return param_rules.fit(model.id, {k: v for k, v in values.items() if v is not None})


def _n_is_one(body: Mapping[str, Any]) -> None:
    if validate.optional_int(body, "n", 1, default=1) != 1:
        raise invalid(
            "n > 1 is not supported: Workers AI returns one choice per request; send "
            "several requests instead.",
            "n",
            "unsupported_value",
        )


def stream_flags(body: Mapping[str, Any]) -> tuple[bool, bool]:
    """`stream` and `stream_options.include_usage` (which only counts when streaming)."""
    stream = validate.optional_bool(body, "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise invalid("'stream_options' must be an object.", "stream_options")
    include_usage = validate.optional_bool(options or {}, "include_usage")
    return stream, include_usage and stream


def chat_request(body: Mapping[str, Any], model: Model) -> ChatRequest:
    """Validate a chat.completions body and build the Workers AI inputs."""
    images: list[tuple[int, int, str]] = []
    messages = map_messages(body.get("messages"), model, images)
    _n_is_one(body)
    stream, include_usage = stream_flags(body)
    prompt_text = "".join(m["content"] for m in messages if isinstance(m["content"], str))
    inputs: dict[str, Any] = {"messages": messages, **sampling(body, prompt_text, model)}
    tools = _tools(body, model)
    if tools:
        inputs["tools"] = tools
        if model.shape != NATIVE and body.get("tool_choice") not in (None, "auto"):
            inputs["tool_choice"] = body["tool_choice"]
    fmt = _response_format(body, model)
    if fmt:
        inputs["response_format"] = fmt
    effort = validate.one_of(body, "reasoning_effort", ("low", "medium", "high"))
    if effort and model.shape != NATIVE:
        inputs["reasoning_effort"] = effort
    stops = _stops(body)
    # Native JSON mode cannot stream upstream; the gateway streams the finished answer instead.
    # gpt-oss and Kimi do not stream on /ai/run (catalog.NO_UPSTREAM_STREAM): replayed too.
    upstream_stream = stream and not (fmt and model.shape == NATIVE) and streams_upstream(model)
    if upstream_stream:
        _stream_upstream(inputs, model)
    return ChatRequest(
        model,
        inputs,
        stream,
        include_usage,
        inputs["max_tokens"],
        stops,
        bool(fmt),
        images,
        default_budget=_default_budget(body),
    )


def _stream_upstream(inputs: dict[str, Any], model: Model) -> None:
    inputs["stream"] = True
    if model.shape != NATIVE:
        # Chat Completions models send a usage chunk only when asked (OpenAI's rule; their
        # schemas carry stream_options.include_usage): real counts instead of estimates.
        inputs["stream_options"] = {"include_usage": True}


def _default_budget(body: Mapping[str, Any]) -> bool:
    return body.get("max_tokens") is None and body.get("max_completion_tokens") is None


def completion_prompts(body: Mapping[str, Any]) -> list[str]:
    """The legacy `prompt`: a string or an array of strings (token arrays are refused)."""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        prompts = prompt
    elif isinstance(prompt, list) and prompt and all(isinstance(p, (int, list)) for p in prompt):
        raise invalid(
            "Token-id prompts are not supported: Workers AI takes text. Send 'prompt' as a string.",
            "prompt",
        )
    else:
        raise invalid("'prompt' must be a string or a non-empty array of strings.", "prompt")
    if not all(p.strip() for p in prompts):
        raise invalid("'prompt' must not be empty.", "prompt")
    return prompts


def completion_request(body: Mapping[str, Any], model: Model, prompt: str) -> ChatRequest:
    """Validate a legacy completions body for one prompt (the prompt is the user's turn)."""
    _n_is_one(body)
    if body.get("logprobs") not in (None, 0):
        raise invalid("logprobs are not supported by Workers AI.", "logprobs", "unsupported_value")
    if validate.optional_int(body, "best_of", 1, default=1) != 1:
        raise invalid("best_of > 1 is not supported.", "best_of", "unsupported_value")
    stream, include_usage = stream_flags(body)
    inputs: dict[str, Any] = {
        "messages": [{"role": "user", "content": prompt}],
        **sampling(body, prompt, model),
    }
    if stream and streams_upstream(model):
        _stream_upstream(inputs, model)
    return ChatRequest(
        model,
        inputs,
        stream,
        include_usage,
        inputs["max_tokens"],
        _stops(body),
        default_budget=_default_budget(body),
    )


# ---- responses -------------------------------------------------------------------------------


@dataclass
class Answer:
    """One normalised completion, whatever shape the model answered in."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, content) of a native reasoning model's text.

    Thought ends at `</think>`; the opening `<think>` is often missing (deepseek-r1-distill).
    Without `</think>` the model was cut off while thinking, so all of it is reasoning — the
    streaming path (`chatstream.ChatStream`) decides the same way.
    """
    head, _, tail = text.partition(THINK_END)
    return head.replace("<think>", "", 1).strip(), tail.lstrip()


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # JSON mode answers a parsed object; some models answer bare numbers.
    return json.dumps(value, ensure_ascii=False)


def openai_tool_calls(calls: Any, prefix: str) -> list[dict]:
    """Tool calls of any upstream form as OpenAI's (ids, string arguments)."""
    result = []
    for number, call in enumerate(calls or []):
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        name = function.get("name")
        if not name:
            continue
        arguments = function.get("arguments", {})
        result.append(
            {
                "id": call.get("id") or call.get("call_id") or f"{prefix}{number}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments
                    if isinstance(arguments, str)
                    else json.dumps(arguments, ensure_ascii=False),
                },
            }
        )
    return result


def parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = raw.get("prompt_tokens", raw.get("input_tokens"))
    completion = raw.get("completion_tokens", raw.get("output_tokens"))
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def normalise(result: Any, model: Model, call_prefix: str) -> Answer:
    """Any upstream text output as an Answer."""
    if isinstance(result, dict) and isinstance(result.get("choices"), list):
        choice = result["choices"][0] if result["choices"] else {}
        message = choice.get("message") or {}
        if "text" in choice and not message:
            message = {"content": choice.get("text")}
        return Answer(
            content=as_text(message.get("content")),
            reasoning=as_text(message.get("reasoning_content") or message.get("reasoning")),
            tool_calls=openai_tool_calls(message.get("tool_calls"), call_prefix),
            finish_reason=choice.get("finish_reason"),
            usage=parse_usage(result.get("usage")),
        )
    if isinstance(result, dict) and isinstance(result.get("output"), list):
        answer = Answer(usage=parse_usage(result.get("usage")))
        calls = []
        for item in result["output"]:
            kind = item.get("type") if isinstance(item, dict) else None
            texts = [c.get("text", "") for c in item.get("content") or [] if isinstance(c, dict)]
            if kind == "reasoning":
                answer.reasoning += "".join(texts)
            elif kind == "message":
                answer.content += "".join(texts)
            elif kind == "function_call":
                calls.append(item)
        answer.tool_calls = openai_tool_calls(calls, call_prefix)
        if not answer.content and isinstance(result.get("output_text"), str):
            answer.content = result["output_text"]
        return answer
    if isinstance(result, dict) and ("response" in result or "tool_calls" in result):
        content = as_text(result.get("response"))
        reasoning = ""
        if model.reasoning and model.shape == NATIVE:
            reasoning, content = split_reasoning(content)
        return Answer(
            content=content,
            reasoning=reasoning,
            tool_calls=openai_tool_calls(result.get("tool_calls"), call_prefix),
            finish_reason=result.get("finish_reason"),
            usage=parse_usage(result.get("usage")),
        )
    return Answer(content=as_text(result))


def apply_stops(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """`text` cut before the first stop sequence, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def finish_reason(answer: Answer, max_tokens: int, stopped: bool) -> str:
    """OpenAI's finish_reason: tool_calls, length or stop."""
    if answer.tool_calls:
        return "tool_calls"
    if stopped:
        return "stop"
    if answer.finish_reason in ("length", "model_length"):
        return "length"
    if answer.usage and answer.usage["completion_tokens"] >= max_tokens:
        return "length"
    return "stop"


def usage_or_estimate(answer: Answer, prompt_text: str) -> Usage:
    """Real usage when the model reported it, else an estimate (documented)."""
    if answer.usage:
        return answer.usage
    prompt = estimate_tokens(prompt_text)
    completion = estimate_tokens(answer.content + answer.reasoning) if answer.content else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def shrink_after_5021(request: ChatRequest, error: Exception) -> bool:
    """After a 5021, lower the Worker-chosen `max_tokens` to what the error says fits; False
    when the client chose max_tokens (OpenAI answers that with an error too) or nothing fits."""
    if not request.default_budget or getattr(error, "code", None) != "context_length_exceeded":
        return False
    fits = budget.retry_budget(str(error), request.max_tokens)
    if fits is None:
        return False
    request.max_tokens = fits
    request.inputs = {**request.inputs, "max_tokens": fits}
    request.default_budget = False  # once
    return True


def settle(
    result: Any, request: ChatRequest, prompt_text: str, call_prefix: str
) -> tuple[Answer, str, Usage]:
    """A whole upstream answer: normalised, cut at the stop sequences, with its finish_reason
    and usage (chat and legacy completions alike)."""
    answer = normalise(result, request.model, call_prefix)
    answer.content, stopped = apply_stops(answer.content, request.stops)
    finish = finish_reason(answer, request.max_tokens, stopped)
    return answer, finish, usage_or_estimate(answer, prompt_text)
