"""Responses API requests -> chat.completions bodies (validated by `mapping.chat`), answers ->
Responses.

    body --parse--> ResponsesRequest --chat_body--> chat body --chat.chat_request--> inputs
                                     --native_inputs--> gpt-oss `input` (the model's own API)
    upstream result --chat.settle--> Answer --output_items--> `output` --finished--> Response

Pure functions. Field order follows what OpenAI sends; shapes follow openai-python's
`types/responses`. Item ids embed the response id (`msg_<its hex><4 hex>`), so an
`item_reference` names the stored response that holds the item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from core import validate
from core.errors import invalid
from mapping import chat
from mapping.catalog import RESPONSES, Model

# Built-in tools OpenAI runs itself; Workers AI runs none of them.
BUILT_IN_TOOLS = (
    "web_search",
    "web_search_preview",
    "file_search",
    "computer_use_preview",
    "computer",
    "code_interpreter",
    "image_generation",
    "mcp",
    "local_shell",
    "shell",
    "apply_patch",
    "custom",
)
MESSAGE_ROLES = ("user", "system", "developer", "assistant")
# OpenAI's reasoning efforts -> what Workers AI takes ("none": leave the model's default).
EFFORTS = {
    "none": None,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
}
# `GET /v1/responses/{id}/input_items`: page size (`limit`) and `order`.
LIST_LIMIT = (1, 100, 20)  # least, most, default
LIST_ORDERS = ("desc", "asc")  # the first is the default
# `metadata`: at most this many keys, of at most this many characters, values of at most these.
METADATA_LIMITS = (16, 64, 512)
INPUT_ID_BASE = 0x8000  # input item ids count from here, output item ids from 0
ITEM_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
}


class InputTokensDetails(TypedDict):
    cached_tokens: int


class OutputTokensDetails(TypedDict):
    reasoning_tokens: int


class ResponseUsage(TypedDict):
    """`usage` of a Response."""

    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


@dataclass
class ResponsesRequest:
    """A validated `POST /v1/responses` body, in OpenAI's field order."""

    model: Any
    items: list[dict]  # normalised input items (each has a `type`)
    instructions: str | None = None
    tools: list[dict] = field(default_factory=list)  # function tools, as echoed back
    tool_choice: Any = "auto"
    parallel_tool_calls: bool = True
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    text: dict = field(default_factory=lambda: {"format": {"type": "text"}})
    reasoning: dict = field(default_factory=lambda: {"effort": None, "summary": None})
    metadata: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    store: bool = True
    stream: bool = False
    previous_response_id: str | None = None

    @property
    def format_type(self) -> str:
        return self.text["format"]["type"]


# ---- request -----------------------------------------------------------------------------------


def _text(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid(f"Invalid type for '{param}': expected a string.", param)
    return value


def _optional_text(value: Any, param: str) -> str | None:
    """A string that may be absent or null (echoed back in the Response, so typed here)."""
    return None if value is None else _text(value, param)


def _part(part: Any, param: str, role: str) -> dict:
    """One content part, normalised to `input_text`/`output_text`/`input_image`/`refusal`."""
    if not isinstance(part, dict):
        raise invalid(f"Invalid type for '{param}': expected an object.", param)
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        text = _text(part.get("text"), f"{param}.text")
        return {"type": "output_text" if role == "assistant" else "input_text", "text": text}
    if kind == "refusal":
        return {"type": "refusal", "refusal": _text(part.get("refusal"), f"{param}.refusal")}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str):
            raise invalid(
                "input_image needs 'image_url' (an http(s) URL or a data: URI); uploaded files "
                "('file_id') are not supported.",
                f"{param}.image_url",
            )
        return {"type": "input_image", "image_url": url, "detail": part.get("detail", "auto")}
    raise invalid(
        f"Unsupported content part type: '{kind}'. Use input_text, output_text or input_image.",
        f"{param}.type",
    )


def _message(item: Mapping[str, Any], param: str) -> dict:
    role = item.get("role")
    if role not in MESSAGE_ROLES:
        raise invalid(
            f"Invalid value for '{param}.role': {role!r}. Supported values are: "
            + ", ".join(f"'{r}'" for r in MESSAGE_ROLES)
            + ".",
            f"{param}.role",
        )
    content = item.get("content")
    if isinstance(content, str):
        parts = [_part({"type": "input_text", "text": content}, f"{param}.content", role)]
    elif isinstance(content, list):
        parts = [_part(p, f"{param}.content[{n}]", role) for n, p in enumerate(content)]
    else:
        raise invalid(
            f"Invalid type for '{param}.content': expected a string or an array.",
            f"{param}.content",
        )
    return {"type": "message", "role": role, "content": parts}


def _output_text(output: Any, param: str) -> str:
    """A function_call_output's `output`: a string, or text parts joined."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        texts = [p.get("text", "") for p in output if isinstance(p, dict)]
        if not all(isinstance(text, str) for text in texts):
            raise invalid(f"Invalid type for '{param}[].text': expected a string.", param)
        return "".join(texts)
    raise invalid(f"Invalid type for '{param}': expected a string or an array.", param)


def _item(item: Any, param: str) -> dict:
    """One input item, normalised; anything Workers AI cannot take is refused by name."""
    if not isinstance(item, dict):
        raise invalid(f"Invalid type for '{param}': expected an object.", param)
    kind = item.get("type") or ("message" if "role" in item else None)
    if kind == "message":
        out = _message(item, param)
    elif kind == "function_call":
        arguments = item.get("arguments", "{}")
        out = {
            "type": "function_call",
            "call_id": _text(item.get("call_id"), f"{param}.call_id"),
            "name": _text(item.get("name"), f"{param}.name"),
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
        }
    elif kind == "function_call_output":
        out = {
            "type": "function_call_output",
            "call_id": _text(item.get("call_id"), f"{param}.call_id"),
            "output": _output_text(item.get("output"), f"{param}.output"),
        }
    elif kind == "reasoning":
        out = {
            "type": "reasoning",
            "summary": item.get("summary") or [],
            "content": item.get("content") or [],
        }
    elif kind == "item_reference":
        return {"type": "item_reference", "id": _text(item.get("id"), f"{param}.id")}
    else:
        raise invalid(
            f"Input items of type '{kind}' are not supported: Workers AI runs no built-in "
            "tools. Send messages, function_call, function_call_output or reasoning items.",
            f"{param}.type",
            "unsupported_value",
        )
    if isinstance(item.get("id"), str):
        out = {"id": item["id"], **out}
    return out


def _items(value: Any, previous: str | None) -> list[dict]:
    if isinstance(value, str):
        return [_message({"role": "user", "content": value}, "input")]
    if not isinstance(value, list) or not (value or previous):
        raise invalid("'input' must be a string or a non-empty array of input items.", "input")
    return [_item(item, f"input[{n}]") for n, item in enumerate(value)]


def _tools(value: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("'tools' must be an array.", "tools")
    tools = []
    for n, tool in enumerate(value):
        param = f"tools[{n}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind != "function":
            if isinstance(kind, str) and kind.startswith(BUILT_IN_TOOLS):
                raise invalid(
                    f"The '{kind}' tool is not supported: Workers AI runs no built-in tools. "
                    "Define a function tool and run it yourself.",
                    f"{param}.type",
                    "unsupported_value",
                )
            raise invalid(f"Invalid value for '{param}.type': {kind!r}.", f"{param}.type")
        parameters = tool.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise invalid(f"'{param}.parameters' must be a JSON schema object.", param)
        tools.append(
            {
                "type": "function",
                "name": _text(tool.get("name"), f"{param}.name"),
                "description": _optional_text(tool.get("description"), f"{param}.description"),
                "parameters": parameters,
                "strict": validate.optional_bool(tool, "strict", True),
            }
        )
    return tools


def _tool_choice(value: Any, tools: list[dict]) -> Any:
    if value is None:
        return "auto"
    if value in ("none", "auto", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        name = _text(value.get("name"), "tool_choice.name")
        if not any(tool["name"] == name for tool in tools):
            raise invalid(f"tool_choice names '{name}', which is not in 'tools'.", "tool_choice")
        return {"type": "function", "name": name}
    kind = value.get("type") if isinstance(value, dict) else value
    raise invalid(
        f"Unsupported tool_choice {kind!r}: use 'none', 'auto', 'required' or "
        '{"type": "function", "name": ...}.',
        "tool_choice",
        "unsupported_value",
    )


def _text_config(value: Any) -> dict:
    if value is None:
        return {"format": {"type": "text"}}
    fmt = value.get("format", {"type": "text"}) if isinstance(value, dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind in ("text", "json_object"):
        return {"format": {"type": kind}}
    if kind == "json_schema":
        if not isinstance(fmt.get("schema"), dict):
            raise invalid("text.format.schema must be a JSON schema object.", "text.format.schema")
        return {
            "format": {
                "type": "json_schema",
                "description": _optional_text(fmt.get("description"), "text.format.description"),
                "name": _optional_text(fmt.get("name"), "text.format.name") or "response",
                "schema": fmt["schema"],
                "strict": validate.optional_bool(fmt, "strict", False),
            }
        }
    raise invalid(
        "Invalid value for 'text.format.type': use 'text', 'json_object' or 'json_schema'.",
        "text.format.type",
    )


def _reasoning(value: Any) -> dict:
    if value is None:
        return {"effort": None, "summary": None}
    if not isinstance(value, dict):
        raise invalid("'reasoning' must be an object.", "reasoning")
    effort = value.get("effort")
    # isinstance first: an unhashable value (a list) cannot be looked up in a dict.
    if effort is not None and (not isinstance(effort, str) or effort not in EFFORTS):
        raise invalid(
            "Invalid value for 'reasoning.effort': use "
            + ", ".join(f"'{e}'" for e in EFFORTS)
            + ".",
            "reasoning.effort",
        )
    return {"effort": effort, "summary": value.get("summary")}


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    most, key_length, value_length = METADATA_LIMITS
    if not isinstance(value, dict) or len(value) > most:
        raise invalid(f"'metadata' must be an object of at most {most} keys.", "metadata")
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > key_length or len(item) > value_length:
            raise invalid(
                f"metadata keys are strings of at most {key_length} characters, values of at "
                f"most {value_length}.",
                f"metadata.{key}",
            )
    return dict(value)


# Fields that ask for what only OpenAI's platform keeps: refused rather than ignored.
PLATFORM_FIELDS = {
    "background": "Background responses are not supported; send the request and wait, or stream.",
    "conversation": "Conversations are not supported; use previous_response_id.",
    "prompt": "Stored prompt templates are not supported; send instructions and input.",
}


def parse(body: Mapping[str, Any]) -> ResponsesRequest:
    """Validate a `POST /v1/responses` body (sampling ranges are checked by `mapping.chat`)."""
    for name, message in PLATFORM_FIELDS.items():
        if body.get(name) not in (None, False):
            raise invalid(message, name, "unsupported_parameter")
    if "input" not in body:
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    tools = _tools(body.get("tools"))
    previous = validate.optional_str(body, "previous_response_id")
    return ResponsesRequest(
        model=body.get("model"),
        items=_items(body["input"], previous),
        instructions=validate.optional_str(body, "instructions"),
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), tools),
        parallel_tool_calls=validate.optional_bool(body, "parallel_tool_calls", True),
        max_output_tokens=validate.optional_int(body, "max_output_tokens", 1),
        temperature=validate.optional_number(body, "temperature", 0, 2),
        top_p=validate.optional_number(body, "top_p", 0, 1),
        text=_text_config(body.get("text")),
        reasoning=_reasoning(body.get("reasoning")),
        metadata=_metadata(body.get("metadata")),
        user=validate.optional_str(body, "user"),
        store=validate.optional_bool(body, "store", True),
        stream=validate.optional_bool(body, "stream"),
        previous_response_id=previous or None,
    )


# ---- to chat and to gpt-oss ---------------------------------------------------------------------


def _chat_content(parts: list[dict], role: str) -> Any:
    """Parts as chat content: a string for the assistant, else chat parts (images kept)."""
    texts = [p.get("text") or p.get("refusal") or "" for p in parts if p["type"] != "input_image"]
    if role == "assistant" or all(p["type"] != "input_image" for p in parts):
        return "\n".join(texts)
    return [
        {"type": "image_url", "image_url": {"url": p["image_url"]}}
        if p["type"] == "input_image"
        else {"type": "text", "text": p.get("text") or p.get("refusal") or ""}
        for p in parts
    ]


def chat_messages(instructions: str | None, items: list[dict]) -> list[dict]:
    """Input items as chat messages: function calls join the assistant turn they belong to;
    reasoning items are dropped (chat models take no prior thought)."""
    messages: list[dict] = [{"role": "system", "content": instructions}] if instructions else []
    for item in items:
        kind = item["type"]
        if kind == "message":
            messages.append(
                {"role": item["role"], "content": _chat_content(item["content"], item["role"])}
            )
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(
                {"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]}
            )
    return messages


def chat_body(request: ResponsesRequest, items: list[dict]) -> dict[str, Any]:
    """The chat.completions body that asks the same as `request` with these input items."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": chat_messages(request.instructions, items),
        "max_completion_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stream": request.stream,
        "stream_options": {"include_usage": True} if request.stream else None,
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool["description"] or "",
                    "parameters": tool["parameters"] or {"type": "object", "properties": {}},
                },
            }
            for tool in request.tools
        ]
        choice = request.tool_choice
        body["tool_choice"] = (
            {"type": "function", "function": {"name": choice["name"]}}
            if isinstance(choice, dict)
            else choice
        )
    fmt = request.text["format"]
    if fmt["type"] == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif fmt["type"] == "json_schema":
        wrapper = {"name": fmt["name"], "schema": fmt["schema"], "strict": fmt["strict"]}
        body["response_format"] = {"type": "json_schema", "json_schema": wrapper}
    effort = EFFORTS.get(request.reasoning["effort"] or "")
    if effort:
        body["reasoning_effort"] = effort
    return {k: v for k, v in body.items() if v is not None}


def refuse_images(items: list[dict], model: Model) -> None:
    """400 naming the first image part when the model cannot see (before the chat mapping,
    whose error would name a chat message)."""
    if model.vision:
        return
    for number, item in enumerate(items):
        parts = item["content"] if item["type"] == "message" else ()
        for part_number, part in enumerate(parts):
            if part["type"] == "input_image":
                raise invalid(
                    "This model does not accept images; choose a vision model such as "
                    "`@cf/meta/llama-4-scout-17b-16e-instruct` (alias `gpt-4o`).",
                    f"input[{number}].content[{part_number}]",
                    "model_not_vision_capable",
                )


def uses_native(model: Model, request: ResponsesRequest) -> bool:
    """gpt-oss answers its own Responses API with reasoning items kept; its JSON modes are
    reached through the chat mapping."""
    return model.shape == RESPONSES and request.format_type == "text"


def native_inputs(request: ResponsesRequest, items: list[dict], chat: dict[str, Any]) -> dict:
    """gpt-oss inputs in its Responses form, from the validated chat inputs' budget and
    sampling."""
    upstream: list[dict] = []
    for item in items:
        if item["type"] == "message":
            text = _chat_content(item["content"], "assistant")
            upstream.append({"role": item["role"], "content": text})
        elif item["type"] == "function_call":
            keys = ("type", "call_id", "name", "arguments")
            upstream.append({k: item[k] for k in keys})
        elif item["type"] == "function_call_output":
            upstream.append({k: item[k] for k in ("type", "call_id", "output")})
    inputs: dict[str, Any] = {"input": upstream, "max_output_tokens": chat["max_tokens"]}
    if request.instructions:
        inputs["instructions"] = request.instructions
    for name in ("temperature", "top_p"):
        if name in chat:
            inputs[name] = chat[name]
    effort = EFFORTS.get(request.reasoning["effort"] or "")
    if effort:
        inputs["reasoning"] = {"effort": effort}
    if request.tools and request.tool_choice != "none":
        inputs["tools"] = [
            {
                "type": "function",
                "name": tool["name"],
                "description": tool["description"] or "",
                "parameters": tool["parameters"] or {"type": "object", "properties": {}},
            }
            for tool in request.tools
        ]
        if request.tool_choice != "auto":
            inputs["tool_choice"] = request.tool_choice
    return inputs


# ---- ids ---------------------------------------------------------------------------------------


def item_id(kind: str, hexid: str, number: int) -> str:
    """The id of output item `number` (or input item `INPUT_ID_BASE + n`) of response `hexid`."""
    return f"{ITEM_PREFIX.get(kind, 'item')}_{hexid}{number:04x}"


def response_of_item(item: str) -> str | None:
    """The response id an item id of ours carries, or None."""
    _, _, rest = item.partition("_")
    return "resp_" + rest[:-4] if len(rest) > 4 else None


def with_ids(items: list[dict], hexid: str) -> list[dict]:
    """Input items as stored and listed: each with an id and a status."""
    out = []
    for number, item in enumerate(items):
        stored = {"id": item.get("id") or item_id(item["type"], hexid, INPUT_ID_BASE + number)}
        stored.update((k, v) for k, v in item.items() if k != "id")
        if item["type"] in ("message", "function_call", "function_call_output"):
            stored["status"] = "completed"
        out.append(stored)
    return out


# ---- answers -----------------------------------------------------------------------------------


def message_item(item: str, text: str, status: str = "completed") -> dict:
    """An assistant message holding one output_text part."""
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    return {"id": item, "type": "message", "status": status, "content": [part], "role": "assistant"}


def reasoning_item(item: str, text: str) -> dict:
    """A reasoning item with the model's thought as reasoning_text (no summary is made)."""
    return {
        "id": item,
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
    }


def function_call_item(item: str, call_id: str, name: str, arguments: str) -> dict:
    return {
        "id": item,
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def output_items(answer: chat.Answer, hexid: str, finish: str) -> list[dict]:
    """`output` for a whole answer: reasoning, the message (if any text, or nothing else), then
    function calls."""
    output: list[dict] = []
    if answer.reasoning:
        output.append(reasoning_item(item_id("reasoning", hexid, 0), answer.reasoning))
    if answer.content or not answer.tool_calls:
        status = "incomplete" if finish == "length" else "completed"
        output.append(message_item(item_id("message", hexid, len(output)), answer.content, status))
    for call in answer.tool_calls:
        function = call["function"]
        output.append(
            function_call_item(
                item_id("function_call", hexid, len(output)),
                call["id"],
                function["name"],
                function["arguments"],
            )
        )
    return output


def _detail(raw: Any, outer: tuple[str, str], name: str) -> int:
    usage = raw.get("usage") if isinstance(raw, dict) else None
    for key in outer:
        details = usage.get(key) if isinstance(usage, dict) else None
        if isinstance(details, dict) and isinstance(details.get(name), int):
            return details[name]
    return 0


def usage_of(usage: chat.Usage, raw: Any = None) -> ResponseUsage:
    """Chat usage as Responses usage; cached and reasoning counts when the upstream gave them."""
    cached = _detail(raw, ("prompt_tokens_details", "input_tokens_details"), "cached_tokens")
    reasoning = _detail(
        raw, ("completion_tokens_details", "output_tokens_details"), "reasoning_tokens"
    )
    return {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": usage["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": usage["total_tokens"],
    }


def shell(
    request: ResponsesRequest, response_id: str, created_at: int, model: str, stored: bool
) -> dict[str, Any]:
    """The Response object before the model answers (`in_progress`, no output yet)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "max_tool_calls": None,
        "model": model,
        "output": [],
        "parallel_tool_calls": request.parallel_tool_calls,
        "previous_response_id": request.previous_response_id,
        "prompt_cache_key": None,
        "reasoning": request.reasoning,
        "safety_identifier": None,
        "service_tier": "default",
        "store": stored,
        "temperature": 1.0 if request.temperature is None else request.temperature,
        "text": request.text,
        "tool_choice": request.tool_choice,
        "tools": request.tools,
        "top_logprobs": 0,
        "top_p": 1.0 if request.top_p is None else request.top_p,
        "truncation": "disabled",
        "usage": None,
        "user": request.user,
        "metadata": request.metadata,
    }


def finished(
    response: dict[str, Any], output: list[dict], usage: ResponseUsage, finish: str
) -> dict[str, Any]:
    """The Response once the answer is whole: `incomplete` when the token budget ran out."""
    cut = finish == "length"
    return {
        **response,
        "status": "incomplete" if cut else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "output": output,
        "usage": usage,
    }


def failed(response: dict[str, Any], output: list[dict], message: str) -> dict[str, Any]:
    """The Response when the upstream broke off."""
    return {
        **response,
        "status": "failed",
        "error": {"code": "server_error", "message": message},
        "output": output,
    }
