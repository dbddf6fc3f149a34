"""The OpenAPI 3.1 document of the Worker's public API, served at `GET /openapi.json`.

Built on the first request for it (the handler imports this module lazily), from the same
constants the validators use (`chat.ROLES`, `images.MAX_N`, …) so the limits it states cannot
drift from the ones enforced. Every operation lists each status it can answer; the unit test
`tests/unit/test_openapi.py` ties its paths to `routes.ROUTES`, and `tests/http/test_openapi.py`
checks real responses against it (docs/openapi.md).
"""

from __future__ import annotations

from typing import Any

from core import validate
from mapping import (
    chat,
    embeddings,
    images,
    moderation,
    responses,
    speech,
    transcripts,
    translation,
)

Schema = dict[str, Any]

JSON = "application/json"
SSE = "text/event-stream"
MULTIPART = "multipart/form-data"
FORM = "application/x-www-form-urlencoded"

# Security requirement lists: any one entry suffices (ALLOW_ANONYMOUS=true lifts them all).
_OPENAI_AUTH = [{"bearer": []}, {"xApiKey": []}, {"apiKey": []}]
_DEEPLX_AUTH = [*_OPENAI_AUTH, {"token": []}, {"password": []}, {"deeplAuthKey": []}]
_DEEPL_AUTH = [*_DEEPLX_AUTH, {"authKeyQuery": []}]

_STATUS_TEXT = {
    400: "The request is invalid: a field's type, value or range, a body that is not JSON, "
    "or input Workers AI refused (5006/3010).",
    401: "No API key, a wrong one, or none configured on the server.",
    403: "Workers AI refused this account the model (terms not accepted, paid plan, permission).",
    404: "The model (or file) does not exist.",
    413: "The body (or the model's context window, 5021) is larger than allowed.",
    429: "Workers AI's daily allocation is used up (3036/4006) or the model is at capacity (3040).",
    456: "Workers AI's daily allocation is used up (DeepL's 'quota exceeded').",
    500: "A bug in the Worker or a broken setting (e.g. MODEL_ALIASES); the message has the "
    "request id.",
    502: "Workers AI failed or answered in a shape the Worker cannot use.",
    504: "Workers AI timed out.",
}
_TAGS = (
    "meta",
    "models",
    "chat",
    "responses",
    "embeddings",
    "moderations",
    "images",
    "audio",
    "translation",
)
_UPSTREAM = (400, 401, 403, 404, 413, 429, 500, 502, 504)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(schema: Schema, *types: str) -> dict[str, Schema]:
    return {kind: {"schema": schema} for kind in types or (JSON,)}


def _ok(description: str, content: dict[str, Schema] | None = None) -> Schema:
    response: Schema = {"description": description, "headers": _HEADERS}
    if content is not None:
        response["content"] = content
    return response


def _errors(statuses: tuple[int, ...], shape: str = "OpenAIError") -> dict[str, Schema]:
    """Error responses in `shape`; a 500 from a crash or a broken setting is always OpenAI's."""
    result: dict[str, Schema] = {}
    for status in statuses:
        schema = _ref(shape)
        if status == 500 and shape != "OpenAIError":
            schema = {"anyOf": [_ref(shape), _ref("OpenAIError")]}
        result[str(status)] = {
            "description": _STATUS_TEXT[status],
            "headers": _HEADERS,
            "content": _content(schema),
        }
    return result


_HEADERS: Schema = {
    "x-request-id": {
        "description": "The request's id, also in logs and 500 messages.",
        "schema": {"type": "string"},
    }
}


def _operation(
    summary: str,
    tag: str,
    ok: Schema,
    errors: dict[str, Schema],
    *,
    security: list | None = None,
    body: Schema | None = None,
    parameters: list[Schema] | None = None,
) -> Schema:
    operation: Schema = {
        "summary": summary,
        "tags": [tag],
        "security": _OPENAI_AUTH if security is None else security,
        "responses": {"200": ok, **errors},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _number(low: float | None = None, high: float | None = None, kind: str = "number") -> Schema:
    schema: Schema = {"type": kind}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _model(description: str) -> Schema:
    return {
        "type": "string",
        "description": f"{description} An OpenAI alias, a catalog id or any `@cf/`/`@hf/` id.",
    }


def _sampling() -> dict[str, Schema]:
    """The sampling fields chat and completions share, in the ranges `chat.sampling` enforces."""
    return {
        "max_tokens": _nullable(_number(1, validate.MAX_SAFE_INTEGER, "integer")),
        "max_completion_tokens": _nullable(_number(1, validate.MAX_SAFE_INTEGER, "integer")),
        "temperature": _nullable(_number(0, 2)),
        "top_p": _nullable(_number(0, 1)),
        "top_k": _nullable(_number(1, 50, "integer")),
        "frequency_penalty": _nullable(_number(-2, 2)),
        "presence_penalty": _nullable(_number(-2, 2)),
        "repetition_penalty": _nullable(_number(0, 2)),
        "seed": _nullable({"type": "integer"}),
        "n": _nullable({"const": 1, "description": "Workers AI makes one choice a call."}),
        "stop": _nullable(
            {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "maxItems": chat.MAX_STOPS},
                ]
            }
        ),
        "stream": _nullable({"type": "boolean"}),
        "stream_options": _nullable(
            {"type": "object", "properties": {"include_usage": _nullable({"type": "boolean"})}}
        ),
        "user": {"type": "string"},
    }


def _chat_request() -> Schema:
    text_part = {
        "type": "object",
        "required": ["type", "text"],
        "properties": {"type": {"enum": ["text", "input_text"]}, "text": {"type": "string"}},
    }
    image_part = {
        "type": "object",
        "required": ["type", "image_url"],
        "properties": {
            "type": {"const": "image_url"},
            "image_url": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "object", "properties": {"url": {"type": "string"}}},
                ],
                "description": "An http(s) URL or a data:image/... URI (vision models only).",
            },
        },
    }
    message = {
        "type": "object",
        "required": ["role"],
        "properties": {
            "role": {"enum": list(chat.ROLES)},
            "content": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "null"},
                    {"type": "array", "items": {"anyOf": [text_part, image_part]}},
                ]
            },
            "name": {"type": "string"},
            "tool_calls": {"type": "array", "items": _ref("ToolCall")},
            "tool_call_id": {
                "type": "string",
                "minLength": 1,
                "description": "Required with role `tool`.",
            },
        },
    }
    function = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "parameters": {"type": "object", "description": "A JSON Schema object."},
        },
    }
    return {
        "type": "object",
        "required": ["messages"],
        "properties": {
            "model": _model("Default: DEFAULT_CHAT_MODEL; an image model answers with a picture."),
            "messages": {"type": "array", "minItems": 1, "items": message},
            **_sampling(),
            "tools": _nullable(
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "function"],
                        "properties": {"type": {"const": "function"}, "function": function},
                    },
                }
            ),
            "tool_choice": {
                "anyOf": [
                    {"enum": ["none", "auto", "required"]},
                    {
                        "type": "object",
                        "required": ["type", "function"],
                        "properties": {
                            "type": {"const": "function"},
                            "function": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}},
                            },
                        },
                    },
                ],
                "description": "A named function must be one of `tools`.",
            },
            "response_format": _nullable(
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"enum": ["text", "json_object", "json_schema"]},
                        "json_schema": {
                            "type": "object",
                            "required": ["schema"],
                            "properties": {
                                "name": {"type": "string"},
                                "schema": {"type": "object"},
                                "strict": {"type": "boolean"},
                            },
                        },
                    },
                }
            ),
            "reasoning_effort": _nullable({"enum": ["low", "medium", "high"]}),
        },
    }


def _completion_request() -> Schema:
    return {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "model": _model("Default: DEFAULT_CHAT_MODEL."),
            "prompt": {
                "anyOf": [
                    {"type": "string", "pattern": r"\S"},
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": r"\S"},
                    },
                ],
                "description": "Streaming takes one prompt, without `echo`.",
            },
            **_sampling(),
            "echo": _nullable({"type": "boolean"}),
            "logprobs": _nullable({"const": 0}),
            "best_of": _nullable({"const": 1}),
        },
    }


def _function_tool(echoed: bool) -> Schema:
    """A Responses function tool; as echoed in a Response, `strict` is always there."""
    return {
        "type": "object",
        "required": ["type", "name", *(["strict"] if echoed else [])],
        "properties": {
            "type": {"const": "function"},
            "name": {"type": "string"},
            "description": {} if echoed else _nullable({"type": "string"}),
            "parameters": {
                "type": ["object", "null"],
                "description": "A JSON Schema object.",
            },
            "strict": {"type": "boolean"} if echoed else _nullable({"type": "boolean"}),
        },
    }


def _responses_text() -> Schema:
    """`text`: the output format (`text.format`), as sent and as echoed."""
    return {
        "type": "object",
        "properties": {
            "format": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["text", "json_object", "json_schema"]},
                    "name": {"type": "string", "description": "json_schema: default `response`."},
                    "description": {"type": ["string", "null"]},
                    "schema": {"type": "object", "description": "json_schema: required."},
                    "strict": {"type": ["boolean", "null"]},
                },
            }
        },
    }


def _responses_tool_choice() -> Schema:
    return {
        "anyOf": [
            {"enum": ["none", "auto", "required"]},
            {
                "type": "object",
                "required": ["type", "name"],
                "properties": {"type": {"const": "function"}, "name": {"type": "string"}},
            },
        ],
        "description": "A named function must be one of `tools`; other kinds answer 400.",
    }


def _responses_input_item() -> Schema:
    """One input item the Worker accepts; any other `type` answers 400 naming the item."""
    text_part = {
        "type": "object",
        "required": ["type", "text"],
        "properties": {
            "type": {"enum": ["input_text", "output_text", "text"]},
            "text": {"type": "string"},
        },
    }
    refusal_part = {
        "type": "object",
        "required": ["type", "refusal"],
        "properties": {"type": {"const": "refusal"}, "refusal": {"type": "string"}},
    }
    image_part = {
        "type": "object",
        "required": ["type", "image_url"],
        "properties": {
            "type": {"const": "input_image"},
            "image_url": {
                "type": "string",
                "description": "An http(s) URL or a data:image/... URI (vision models only); "
                "`file_id` is not supported.",
            },
            "detail": {"type": "string"},
        },
    }
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "type": {"const": "message", "description": "May be left out."},
            "id": {"type": "string"},
            "role": {"enum": list(responses.MESSAGE_ROLES)},
            "content": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"anyOf": [text_part, refusal_part, image_part]}},
                ]
            },
        },
    }
    function_call = {
        "type": "object",
        "required": ["type", "call_id", "name"],
        "properties": {
            "type": {"const": "function_call"},
            "id": {"type": "string"},
            "call_id": {"type": "string"},
            "name": {"type": "string"},
            "arguments": {"type": "string", "description": "JSON; default `{}`."},
        },
    }
    function_call_output = {
        "type": "object",
        "required": ["type", "call_id", "output"],
        "properties": {
            "type": {"const": "function_call_output"},
            "id": {"type": "string"},
            "call_id": {"type": "string"},
            "output": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
                        },
                    },
                ],
                "description": "A string, or text parts (joined).",
            },
        },
    }
    reasoning = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"const": "reasoning"},
            "id": {"type": "string"},
            "summary": {"type": "array"},
            "content": {"type": "array"},
        },
        "description": "Accepted; not sent to chat models.",
    }
    reference = {
        "type": "object",
        "required": ["type", "id"],
        "properties": {
            "type": {"const": "item_reference"},
            "id": {"type": "string", "description": "An item of a stored response."},
        },
    }
    return {
        "anyOf": [message, function_call, function_call_output, reasoning, reference],
    }


def _responses_request() -> Schema:
    most, key_length, value_length = responses.METADATA_LIMITS
    return {
        "type": "object",
        "required": ["input"],
        "properties": {
            "model": _model("Default: DEFAULT_CHAT_MODEL."),
            "input": {
                "anyOf": [
                    {"type": "string", "description": "One user message."},
                    {
                        "type": "array",
                        "items": _responses_input_item(),
                        "description": "Empty only with `previous_response_id`.",
                    },
                ]
            },
            "instructions": _nullable({"type": "string"}),
            "tools": _nullable(
                {
                    "type": "array",
                    "items": _function_tool(echoed=False),
                    "description": "Function tools only: built-in tool types ("
                    + ", ".join(f"`{kind}`" for kind in responses.BUILT_IN_TOOLS)
                    + ") answer 400 `unsupported_value`.",
                }
            ),
            "tool_choice": _nullable(_responses_tool_choice()),
            "parallel_tool_calls": _nullable({"type": "boolean"}),
            "max_output_tokens": _nullable(_number(1, validate.MAX_SAFE_INTEGER, "integer")),
            "temperature": _nullable(_number(0, 2)),
            "top_p": _nullable(_number(0, 1)),
            "text": _nullable(_responses_text()),
            "reasoning": _nullable(
                {
                    "type": "object",
                    "properties": {
                        "effort": _nullable({"enum": list(responses.EFFORTS)}),
                        "summary": {"description": "Echoed; no summary is made."},
                    },
                }
            ),
            "metadata": _nullable(
                {
                    "type": "object",
                    "maxProperties": most,
                    "propertyNames": {"maxLength": key_length},
                    "additionalProperties": {"type": "string", "maxLength": value_length},
                }
            ),
            "user": _nullable({"type": "string"}),
            "store": _nullable(
                {
                    "type": "boolean",
                    "description": "Default true; stored only with the RESPONSES KV binding.",
                }
            ),
            "previous_response_id": _nullable(
                {"type": "string", "description": "A stored response to continue from."}
            ),
            "stream": _nullable({"type": "boolean"}),
            **{
                name: {"enum": [None, False], "description": message}
                for name, message in responses.PLATFORM_FIELDS.items()
            },
        },
    }


def _responses_schemas() -> dict[str, Schema]:
    text_part = {
        "type": "object",
        "required": ["type", "text"],
        "properties": {
            "type": {"const": "output_text"},
            "text": {"type": "string"},
            "annotations": {"type": "array"},
            "logprobs": {"type": "array"},
        },
    }
    message = {
        "type": "object",
        "required": ["id", "type", "status", "content", "role"],
        "properties": {
            "id": {"type": "string"},
            "type": {"const": "message"},
            "status": {"enum": ["completed", "incomplete", "in_progress"]},
            "content": {"type": "array", "items": text_part},
            "role": {"const": "assistant"},
        },
    }
    reasoning = {
        "type": "object",
        "required": ["id", "type", "summary", "content"],
        "properties": {
            "id": {"type": "string"},
            "type": {"const": "reasoning"},
            "summary": {"type": "array"},
            "content": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "text"],
                    "properties": {
                        "type": {"const": "reasoning_text"},
                        "text": {"type": "string"},
                    },
                },
            },
        },
    }
    function_call = {
        "type": "object",
        "required": ["id", "type", "status", "arguments", "call_id", "name"],
        "properties": {
            "id": {"type": "string"},
            "type": {"const": "function_call"},
            "status": {"const": "completed"},
            "arguments": {"type": "string", "description": "JSON."},
            "call_id": {"type": "string"},
            "name": {"type": "string"},
        },
    }
    nothing = {"type": "null"}
    return {
        "ResponseOutputItem": {"anyOf": [message, reasoning, function_call]},
        "ResponseUsage": {
            "type": "object",
            "required": [
                "input_tokens",
                "input_tokens_details",
                "output_tokens",
                "output_tokens_details",
                "total_tokens",
            ],
            "properties": {
                "input_tokens": {"type": "integer", "minimum": 0},
                "input_tokens_details": {
                    "type": "object",
                    "required": ["cached_tokens"],
                    "properties": {"cached_tokens": {"type": "integer", "minimum": 0}},
                },
                "output_tokens": {"type": "integer", "minimum": 0},
                "output_tokens_details": {
                    "type": "object",
                    "required": ["reasoning_tokens"],
                    "properties": {"reasoning_tokens": {"type": "integer", "minimum": 0}},
                },
                "total_tokens": {"type": "integer", "minimum": 0},
            },
        },
        # As `mapping.responses.shell`/`finished` build it, in OpenAI's field order.
        "Response": {
            "type": "object",
            "required": list(_RESPONSE_FIELDS),
            "properties": {
                "id": {"type": "string", "pattern": "^resp_"},
                "object": {"const": "response"},
                "created_at": {"type": "integer"},
                "status": {"enum": ["completed", "incomplete", "failed", "in_progress"]},
                "background": {"const": False},
                "error": _nullable(
                    {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                ),
                "incomplete_details": _nullable(
                    {
                        "type": "object",
                        "required": ["reason"],
                        "properties": {"reason": {"const": "max_output_tokens"}},
                    }
                ),
                "instructions": {"type": ["string", "null"]},
                "max_output_tokens": {"type": ["integer", "null"]},
                "max_tool_calls": nothing,
                "model": {"type": "string", "description": "The model actually run."},
                "output": {"type": "array", "items": _ref("ResponseOutputItem")},
                "parallel_tool_calls": {"type": "boolean"},
                "previous_response_id": {"type": ["string", "null"]},
                "prompt_cache_key": nothing,
                "reasoning": {
                    "type": "object",
                    "required": ["effort", "summary"],
                    "properties": {"effort": _nullable({"enum": list(responses.EFFORTS)})},
                },
                "safety_identifier": nothing,
                "service_tier": {"type": "string"},
                "store": {"type": "boolean", "description": "Whether it was actually stored."},
                "temperature": {"type": "number"},
                "text": _responses_text(),
                "tool_choice": _responses_tool_choice(),
                "tools": {"type": "array", "items": _function_tool(echoed=True)},
                "top_logprobs": {"type": "integer"},
                "top_p": {"type": "number"},
                "truncation": {"type": "string"},
                "usage": _nullable(_ref("ResponseUsage")),
                "user": {"type": ["string", "null"]},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        # No `type`, as EventStream.
        "ResponseEventStream": {
            "description": "Server-sent events: `event: <type>` and `data: <event JSON>` with a "
            "`sequence_number`, from `response.created` to `response.completed`, "
            "`response.incomplete` or `response.failed` (which carry the whole Response); no "
            "`[DONE]` line.",
            "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
        },
        "ResponseInputItems": {
            "type": "object",
            "required": ["object", "data", "first_id", "last_id", "has_more"],
            "properties": {
                "object": {"const": "list"},
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "type"],
                        "properties": {
                            "id": {"type": "string"},
                            "type": {
                                "enum": [
                                    "message",
                                    "function_call",
                                    "function_call_output",
                                    "reasoning",
                                ]
                            },
                            "status": {"const": "completed"},
                        },
                        "description": "An input item as sent (normalised), with an id; an "
                        "`item_reference` as the item it named.",
                    },
                },
                "first_id": {"type": ["string", "null"]},
                "last_id": {"type": ["string", "null"]},
                "has_more": {"type": "boolean"},
            },
        },
        "ResponseDeleted": {
            "type": "object",
            "required": ["id", "object", "deleted"],
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "response.deleted"},
                "deleted": {"const": True},
            },
        },
    }


_RESPONSE_FIELDS = (
    "id", "object", "created_at", "status", "background", "error", "incomplete_details",
    "instructions", "max_output_tokens", "max_tool_calls", "model", "output",
    "parallel_tool_calls", "previous_response_id", "prompt_cache_key", "reasoning",
    "safety_identifier", "service_tier", "store", "temperature", "text", "tool_choice", "tools",
    "top_logprobs", "top_p", "truncation", "usage", "user", "metadata",
)  # fmt: skip


def _usage() -> Schema:
    return {
        "type": "object",
        "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
        "properties": {
            name: {"type": "integer", "minimum": 0}
            for name in ("prompt_tokens", "completion_tokens", "total_tokens")
        },
    }


def _schemas() -> dict[str, Schema]:
    finish = {"enum": ["stop", "length", "tool_calls", "content_filter"]}
    return {
        "OpenAIError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["message", "type", "param", "code"],
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                        "param": {"type": ["string", "null"]},
                        "code": {"type": ["string", "null"]},
                    },
                }
            },
        },
        "DeepLXError": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "integer", "description": "The HTTP status."},
                "message": {"type": "string"},
            },
        },
        "DeepLError": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
        "Model": {
            "type": "object",
            "required": ["id", "object", "created", "owned_by", "task"],
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "model"},
                "created": {"type": "integer"},
                "owned_by": {"type": "string"},
                "task": {"type": "string"},
                "alias_of": {"type": "string", "description": "For aliases: the model run."},
            },
        },
        "ToolCall": {
            "type": "object",
            "required": ["function"],
            "properties": {
                "id": {"type": "string"},
                "type": {"const": "function"},
                "function": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "arguments": {"type": ["string", "object"]},
                    },
                },
            },
        },
        "Usage": _usage(),
        **_responses_schemas(),
        "ChatCompletion": _completion(
            "chat.completion",
            "message",
            {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"const": "assistant"},
                    "content": {"type": ["string", "null"]},
                    "reasoning_content": {"type": "string"},
                    "tool_calls": {"type": "array", "items": _ref("ToolCall")},
                },
            },
            finish,
        ),
        "TextCompletion": _completion("text_completion", "text", {"type": "string"}, finish),
        # No `type`: as the whole body this is a string, and per event (OpenAPI 3.2's reading,
        # which schemathesis applies) an object whose `data` is a string.
        "EventStream": {
            "description": "Server-sent events: `data: <chunk JSON>` lines, an error as a "
            "`data:` event, always ending with `data: [DONE]`.",
            "properties": {"data": {"type": "string"}},
        },
        "Embeddings": {
            "type": "object",
            "required": ["object", "data", "model", "usage"],
            "properties": {
                "object": {"const": "list"},
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["object", "index", "embedding"],
                        "properties": {
                            "object": {"const": "embedding"},
                            "index": {"type": "integer"},
                            "embedding": {
                                "anyOf": [
                                    {"type": "array", "items": {"type": "number"}},
                                    {"type": "string", "contentEncoding": "base64"},
                                ]
                            },
                        },
                    },
                },
                "model": {"type": "string"},
                "usage": {
                    "type": "object",
                    "required": ["prompt_tokens", "total_tokens"],
                    "properties": {
                        "prompt_tokens": {"type": "integer"},
                        "total_tokens": {"type": "integer"},
                    },
                },
            },
        },
        "Moderation": {
            "type": "object",
            "required": ["id", "model", "results"],
            "properties": {
                "id": {"type": "string"},
                "model": {"type": "string"},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["flagged", "categories", "category_scores"],
                        "properties": {
                            "flagged": {"type": "boolean"},
                            "categories": {
                                "type": "object",
                                "additionalProperties": {"type": "boolean"},
                            },
                            "category_scores": {
                                "type": "object",
                                "additionalProperties": {"type": "number"},
                            },
                            "category_applied_input_types": {"type": "object"},
                        },
                    },
                },
            },
        },
        "Images": {
            "type": "object",
            "required": ["created", "data"],
            "properties": {
                "created": {"type": "integer"},
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "b64_json": {"type": "string", "contentEncoding": "base64"},
                            "url": {"type": "string"},
                            "revised_prompt": {"type": "string"},
                        },
                    },
                },
            },
        },
        "Transcription": {
            "type": "object",
            "required": ["text"],
            "properties": {
                "text": {"type": "string"},
                "task": {"type": "string"},
                "language": {"type": "string"},
                "duration": {"type": "number"},
                "segments": {"type": "array", "items": {"type": "object"}},
                "words": {"type": "array", "items": {"type": "object"}},
                "usage": {"type": "object"},
            },
        },
        "TranslateFields": {
            "type": "object",
            "properties": {
                "source_lang": {
                    "type": "string",
                    "description": "A language such as `EN`, `DE`, `ZH`; absent, `''` or "
                    "`auto` to detect it.",
                },
                "target_lang": {"type": "string", "description": "A language such as `ZH`."},
            },
        },
    }


def _completion(kind: str, field: str, value: Schema, finish: Schema) -> Schema:
    """A whole `chat.completion` or `text_completion`: one choice holding `field`."""
    return {
        "type": "object",
        "required": ["id", "object", "created", "model", "choices", "usage"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": kind},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", field, "finish_reason"],
                    "properties": {
                        "index": {"type": "integer"},
                        field: value,
                        "logprobs": {"type": "null"},
                        "finish_reason": finish,
                    },
                },
            },
            "usage": _ref("Usage"),
        },
    }


def _image_fields(edit: bool) -> dict[str, Schema]:
    integer = "string" if edit else "integer"  # form fields arrive as text
    number = "string" if edit else "number"
    return {
        "prompt": {"type": "string", "minLength": 1, "pattern": r"\S"},
        "model": _model("Default: DEFAULT_IMAGE_MODEL (edits: an img2img/inpainting model)."),
        "n": {"type": integer, **({} if edit else {"minimum": 1, "maximum": images.MAX_N})},
        "size": {
            "type": "string",
            "description": "`WIDTHxHEIGHT` within the model's range, or `auto`.",
        },
        "quality": {"enum": list(images.QUALITIES)},
        "response_format": {"enum": list(images.RESPONSE_FORMATS)},
        "seed": {"type": integer, **({} if edit else {"minimum": 0, "maximum": images.MAX_SEED})},
        "negative_prompt": {"type": "string"},
        "guidance": {"type": number},
        **({"strength": {"type": "string", "description": "0 to 1."}} if edit else {}),
    }


def _binary(description: str) -> Schema:
    return {"type": "string", "format": "binary", "description": description}


def _audio_form(transcribe: bool) -> Schema:
    properties: dict[str, Schema] = {
        "file": _binary(
            "flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm; at most 25 MB (15 MB when the"
            " Worker routes Workers AI through AI Gateway, which takes audio only as base64)."
        ),
        "model": {"type": "string", "minLength": 1, "description": "e.g. `whisper-1`."},
        "prompt": {"type": "string"},
        "response_format": {"enum": list(transcripts.RESPONSE_FORMATS)},
        "temperature": {"type": "string", "description": "A number from 0 to 1."},
        "stream": {"enum": ["false", "0"], "description": "Streaming is not supported."},
    }
    if transcribe:
        properties["language"] = {"type": "string", "description": "ISO-639-1, e.g. `en`."}
        properties["timestamp_granularities[]"] = {
            "type": "array",
            "items": {"enum": list(transcripts.GRANULARITIES)},
        }
    return {"type": "object", "required": ["file", "model"], "properties": properties}


def _translate_ops() -> dict[str, Schema]:
    deepl_status = (400, 403, 404, 413, 429, 456, 500, 502, 504)
    deeplx = _operation(
        "DeepLX translation (Immersive Translate)",
        "translation",
        _ok(
            "The translation.",
            _content(
                {
                    "type": "object",
                    "required": ["code", "id", "data", "alternatives", "source_lang"],
                    "properties": {
                        "code": {"const": 200},
                        "id": {"type": "integer"},
                        "data": {"type": "string"},
                        "alternatives": {"type": "array", "items": {"type": "string"}},
                        "source_lang": {"type": "string"},
                        "target_lang": {"type": "string"},
                        "method": {"type": "string"},
                    },
                }
            ),
        ),
        _errors((400, 401, 403, 404, 413, 429, 500, 502, 504), "DeepLXError"),
        security=_DEEPLX_AUTH,
        body=_content(
            {
                "allOf": [_ref("TranslateFields")],
                "type": "object",
                "required": ["text", "target_lang"],
                "properties": {"text": {"type": "string"}},
            }
        ),
    )
    deepl_body = {
        "allOf": [_ref("TranslateFields")],
        "type": "object",
        "required": ["text", "target_lang"],
        "properties": {
            "text": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": translation.MAX_TEXTS,
                        "items": {"type": "string"},
                    },
                ]
            },
            "auth_key": {"type": "string", "description": "DeepL's legacy key field."},
        },
    }
    deepl = _operation(
        "DeepL API v2 translation",
        "translation",
        _ok(
            "One translation per text, in order.",
            _content(
                {
                    "type": "object",
                    "required": ["translations"],
                    "properties": {
                        "translations": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["detected_source_language", "text"],
                                "properties": {
                                    "detected_source_language": {"type": "string"},
                                    "text": {"type": "string"},
                                },
                            },
                        }
                    },
                }
            ),
        ),
        _errors(deepl_status, "DeepLError"),
        security=_DEEPL_AUTH,
        body=_content(deepl_body, JSON, FORM),
    )
    kind = {"enum": list(translation.LIST_KINDS)}
    languages = _ok(
        "m2m100's languages under DeepL's codes; targets add DeepL's variants.",
        _content(
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["language", "name"],
                    "properties": {
                        "language": {"type": "string"},
                        "name": {"type": "string"},
                        "supports_formality": {"type": "boolean"},
                    },
                },
            }
        ),
    )
    usage = _ok(
        "No quota is kept: count 0 against a limit no client reaches.",
        _content(
            {
                "type": "object",
                "required": ["character_count", "character_limit"],
                "properties": {
                    "character_count": {"type": "integer"},
                    "character_limit": {"type": "integer"},
                },
            }
        ),
    )
    listing_errors = _errors((400, 403, 413, 500), "DeepLError")
    optional_body = {
        "required": False,
        "content": _content(
            {
                "type": "object",
                "properties": {"type": kind, "auth_key": {"type": "string"}},
            },
            JSON,
            FORM,
        ),
    }
    type_param = [{"name": "type", "in": "query", "schema": kind}]
    ops = {
        "/translate": {"post": deeplx},
        "/v2/translate": {"post": deepl},
        "/v2/languages": {
            "get": _operation(
                "DeepL language list",
                "translation",
                languages,
                listing_errors,
                security=_DEEPL_AUTH,
                parameters=type_param,
            ),
            "post": _operation(
                "DeepL language list",
                "translation",
                languages,
                listing_errors,
                security=_DEEPL_AUTH,
                parameters=type_param,
            ),
        },
        "/v2/usage": {
            # A GET's body is never read, so nothing in it can be a 400.
            "get": _operation(
                "DeepL usage",
                "translation",
                usage,
                _errors((403, 413, 500), "DeepLError"),
                security=_DEEPL_AUTH,
            ),
            "post": _operation(
                "DeepL usage", "translation", usage, listing_errors, security=_DEEPL_AUTH
            ),
        },
    }
    ops["/v2/languages"]["post"]["requestBody"] = optional_body
    ops["/v2/usage"]["post"]["requestBody"] = optional_body
    return ops


def _responses_ops() -> dict[str, Schema]:
    """The Responses API; stored responses need the RESPONSES KV binding (docs/responses.md)."""
    least, most, default = responses.LIST_LIMIT
    response_id = {
        "name": "response_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    }
    not_found = {
        "404": {
            "description": "No such stored response: never made, expired, deleted, made with "
            "another API key, or storage not configured (no RESPONSES binding; code "
            "`storage_not_configured`).",
            "headers": _HEADERS,
            "content": _content(_ref("OpenAIError")),
        }
    }
    stored = _errors((401, 500))
    create_errors = _errors(_UPSTREAM)
    create_errors["400"] = {
        **create_errors["400"],
        "description": _STATUS_TEXT[400] + " Also: a built-in tool, an unsupported input item, "
        "or a `previous_response_id`/`item_reference` that is not stored or needs storage that "
        "is not configured (code `storage_not_configured`).",
    }
    return {
        "/v1/responses": {
            "post": _operation(
                "Create a response (Responses API over the chat models)",
                "responses",
                _ok(
                    "The Response; with `stream: true`, server-sent typed events.",
                    {**_content(_ref("Response")), **_content(_ref("ResponseEventStream"), SSE)},
                ),
                create_errors,
                body=_content(_responses_request()),
            )
        },
        "/v1/responses/{response_id}": {
            "get": _operation(
                "Retrieve a stored response",
                "responses",
                _ok("The Response as it was returned.", _content(_ref("Response"))),
                {**stored, **not_found},
                parameters=[response_id],
            ),
            "delete": _operation(
                "Delete a stored response",
                "responses",
                _ok("Deleted.", _content(_ref("ResponseDeleted"))),
                {**stored, **not_found},
                parameters=[response_id],
            ),
        },
        "/v1/responses/{response_id}/input_items": {
            "get": _operation(
                "The input items of a stored response",
                "responses",
                _ok(
                    "This request's input items (not those it continued from), each with an id.",
                    _content(_ref("ResponseInputItems")),
                ),
                {**_errors((400, 401, 500)), **not_found},
                parameters=[
                    response_id,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": least,
                            "maximum": most,
                            "default": default,
                        },
                    },
                    {
                        "name": "order",
                        "in": "query",
                        "schema": {
                            "enum": list(responses.LIST_ORDERS),
                            "default": responses.LIST_ORDERS[0],
                        },
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "description": "An item id: the page starts after it.",
                        "schema": {"type": "string"},
                    },
                ],
            )
        },
    }


def _paths() -> dict[str, Schema]:
    chat_ok = _ok(
        "The completion; with `stream: true`, server-sent chunks.",
        {**_content(_ref("ChatCompletion")), **_content(_ref("EventStream"), SSE)},
    )
    text_ok = _ok(
        "The completion; with `stream: true`, server-sent chunks.",
        {**_content(_ref("TextCompletion")), **_content(_ref("EventStream"), SSE)},
    )
    image_errors = _errors(_UPSTREAM)
    audio_ok = _ok(
        "`json`/`verbose_json` as JSON, `text`/`srt` as text/plain, `vtt` as text/vtt.",
        {
            **_content(_ref("Transcription")),
            **_content({"type": "string"}, "text/plain", "text/vtt"),
        },
    )
    audio_types = sorted({"audio/mpeg", *(kind for kind, _ in speech.AURA_OUTPUTS.values())})
    return {
        "/health": {
            "get": _operation(
                "Liveness",
                "meta",
                _ok(
                    "Alive.",
                    _content(
                        {
                            "type": "object",
                            "required": ["status"],
                            "properties": {"status": {"const": "ok"}},
                        }
                    ),
                ),
                _errors((500,)),
                security=[],
            )
        },
        "/openapi.json": {
            "get": _operation(
                "This document",
                "meta",
                _ok("The OpenAPI 3.1 document.", _content({"type": "object"})),
                _errors((500,)),
                security=[],
            )
        },
        "/v1/models": {
            "get": _operation(
                "List models and aliases",
                "models",
                _ok(
                    "Every catalog model, then every alias.",
                    _content(
                        {
                            "type": "object",
                            "required": ["object", "data"],
                            "properties": {
                                "object": {"const": "list"},
                                "data": {"type": "array", "items": _ref("Model")},
                            },
                        }
                    ),
                ),
                _errors((401, 500)),
            )
        },
        "/v1/models/{model}": {
            "get": _operation(
                "Retrieve a model or alias",
                "models",
                _ok("The model.", _content(_ref("Model"))),
                _errors((401, 404, 500)),
                parameters=[
                    {
                        "name": "model",
                        "in": "path",
                        "required": True,
                        "description": "The id; `/` in it may be sent as is or as `%2F`.",
                        "schema": {"type": "string", "minLength": 1},
                    }
                ],
            )
        },
        "/v1/chat/completions": {
            "post": _operation(
                "Chat completion",
                "chat",
                chat_ok,
                _errors(_UPSTREAM),
                body=_content(_chat_request()),
            )
        },
        "/v1/completions": {
            "post": _operation(
                "Legacy text completion",
                "chat",
                text_ok,
                _errors(_UPSTREAM),
                body=_content(_completion_request()),
            )
        },
        **_responses_ops(),
        "/v1/embeddings": {
            "post": _operation(
                "Embeddings",
                "embeddings",
                _ok("One vector per input, in order.", _content(_ref("Embeddings"))),
                _errors(_UPSTREAM),
                body=_content(
                    {
                        "type": "object",
                        "required": ["input"],
                        "properties": {
                            "input": {
                                "anyOf": [
                                    {"type": "string", "pattern": r"\S"},
                                    {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": embeddings.MAX_INPUTS,
                                        "items": {"type": "string", "pattern": r"\S"},
                                    },
                                ]
                            },
                            "model": _model("Default: DEFAULT_EMBEDDING_MODEL."),
                            "encoding_format": _nullable({"enum": list(embeddings.ENCODINGS)}),
                            "dimensions": _nullable(
                                {
                                    "type": "integer",
                                    "minimum": 1,
                                    "description": "At most the model's own size.",
                                }
                            ),
                            "user": _nullable({"type": "string"}),
                        },
                    }
                ),
            )
        },
        "/v1/moderations": {
            "post": _operation(
                "Moderation (Llama Guard 3)",
                "moderations",
                _ok("One result per input.", _content(_ref("Moderation"))),
                _errors(_UPSTREAM),
                body=_content(
                    {
                        "type": "object",
                        "required": ["input"],
                        "properties": {
                            "input": {
                                "anyOf": [
                                    {"type": "string"},
                                    {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": moderation.MAX_INPUTS,
                                        "items": {"type": "string"},
                                    },
                                    {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "type": "object",
                                            "required": ["type", "text"],
                                            "properties": {
                                                "type": {"const": "text"},
                                                "text": {"type": "string"},
                                            },
                                        },
                                    },
                                ]
                            },
                            "model": _model("Default: DEFAULT_MODERATION_MODEL."),
                        },
                    }
                ),
            )
        },
        "/v1/images/generations": {
            "post": _operation(
                "Generate images",
                "images",
                _ok("`b64_json` or `url` entries.", _content(_ref("Images"))),
                image_errors,
                body=_content(
                    {
                        "type": "object",
                        "required": ["prompt"],
                        "properties": _image_fields(edit=False),
                    }
                ),
            )
        },
        "/v1/images/edits": {
            "post": _operation(
                "Edit an image (img2img, or inpainting with a mask)",
                "images",
                _ok("`b64_json` or `url` entries.", _content(_ref("Images"))),
                image_errors,
                body=_content(
                    {
                        "type": "object",
                        "required": ["image", "prompt"],
                        "properties": {
                            "image": _binary("PNG, JPEG or WebP (also accepted as `image[]`)."),
                            "mask": _binary("PNG: transparent pixels mark the area to edit."),
                            **_image_fields(edit=True),
                        },
                    },
                    MULTIPART,
                ),
            )
        },
        "/v1/audio/transcriptions": {
            "post": _operation(
                "Speech to text",
                "audio",
                audio_ok,
                _errors(_UPSTREAM),
                body=_content(_audio_form(transcribe=True), MULTIPART),
            )
        },
        "/v1/audio/translations": {
            "post": _operation(
                "Speech to English text",
                "audio",
                audio_ok,
                _errors(_UPSTREAM),
                body=_content(_audio_form(transcribe=False), MULTIPART),
            )
        },
        "/v1/audio/speech": {
            "post": _operation(
                "Text to speech",
                "audio",
                _ok("The audio.", _content(_binary("The audio."), *audio_types)),
                _errors(_UPSTREAM),
                body=_content(
                    {
                        "type": "object",
                        "required": ["model", "input"],
                        "properties": {
                            "model": _model("e.g. `tts-1`."),
                            "input": {
                                "type": "string",
                                "pattern": r"\S",
                                "maxLength": speech.MAX_INPUT,
                            },
                            "voice": _nullable({"type": "string"}),
                            "response_format": _nullable(
                                {
                                    "enum": list(speech.RESPONSE_FORMATS),
                                    "description": "Formats other than mp3 need an aura model.",
                                }
                            ),
                            "speed": _nullable(
                                {
                                    **_number(0.25, 4.0),
                                    "description": "Only 1.0 unless the model can change it.",
                                }
                            ),
                            "stream_format": _nullable({"enum": ["audio"]}),
                        },
                    }
                ),
            )
        },
        "/file/{key}": {
            "get": {
                "summary": "A stored image (public: keys are unguessable content hashes)",
                "tags": ["images"],
                "security": [],
                "parameters": [
                    {
                        "name": "key",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]+$"},
                    }
                ],
                "responses": {
                    "200": _ok(
                        "The image, cacheable (ETag, Last-Modified).",
                        _content(
                            _binary("The image."),
                            "image/png",
                            "image/jpeg",
                            "image/webp",
                            "image/gif",
                            "image/avif",
                        ),
                    ),
                    "304": {"description": "Not modified.", "headers": _HEADERS},
                    **_errors((400, 404, 500, 502)),
                },
            }
        },
        **_translate_ops(),
    }


def document() -> Schema:
    """The whole document; its server is `/`, the origin it was fetched from."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "workers-ai-openai",
            "version": "0.1.0",
            "description": (
                "An OpenAI-compatible API (plus DeepLX and DeepL) over Cloudflare Workers AI. "
                "OpenAI routes also answer without the `/v1` prefix and with a doubled "
                "`/v1/v1/`; GET routes answer HEAD; OPTIONS is a CORS preflight (204). A known "
                "path with another method is a 405 with `Allow`, an unknown path a 404, both as "
                "OpenAI errors. Every error of the OpenAI routes is "
                '`{"error": {"message", "type", "param", "code"}}`; /translate answers '
                '`{"code", "message"}` and /v2/* `{"message"}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in _TAGS],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "One of API_KEYS."},
                "xApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "api-key"},
                "token": {"type": "apiKey", "in": "query", "name": "token"},
                "password": {"type": "apiKey", "in": "query", "name": "password"},
                "deeplAuthKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`DeepL-Auth-Key <key>`.",
                },
                "authKeyQuery": {"type": "apiKey", "in": "query", "name": "auth_key"},
            },
        },
    }
