"""`/v1/responses`: OpenAI's Responses API over the chat models (HTTP glue only).

    POST   /v1/responses                      create, whole or streamed (`mapping.responses_stream`)
    GET    /v1/responses/{id}                 a stored response
    GET    /v1/responses/{id}/input_items     its input items
    DELETE /v1/responses/{id}

The request becomes a chat request (`mapping.responses`), runs like a chat completion, and the
answer becomes a Response; with the RESPONSES KV binding it is stored (`upstream.responses_store`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from core.errors import invalid
from core.exchange import Call, Reply, StreamBody, json_reply
from mapping import catalog, chat, responses
from mapping.chatreply import SSE_HEADERS, chat_stream, prompt_text_of
from mapping.responses_stream import OnDone, ResponsesStream
from upstream import ai, responses_store
from upstream.vision import inline_images


def _store(call: Call) -> responses_store.Store:
    """Stored responses of the key this request presents."""
    scope = responses_store.scope(call.key_id)
    return responses_store.Store(call.env.responses, scope, call.settings.responses_ttl_s)


def _keeper(
    call: Call, kept: responses_store.Store, inputs: list[dict], context: list[dict]
) -> OnDone:
    """What a stream calls with its final Response: the write, after the reply has gone."""

    def keep(response: dict[str, Any]) -> None:
        assert call.env.defer is not None
        call.env.defer(kept.save(response, inputs, context))

    return keep


def response_stream(
    request: responses.ResponsesRequest,
    chat_request: chat.ChatRequest,
    prompt_text: str,
    response_id: str,
    created: int,
    stored: bool,
    on_done: OnDone | None = None,
) -> ResponsesStream:
    """The transcoder for a streamed Response (the splice test's reference builds it here too)."""
    shell = responses.shell(request, response_id, created, chat_request.model.id, stored)
    chat_transcoder = chat_stream(chat_request, prompt_text, response_id, created)
    return ResponsesStream(chat_transcoder, shell, response_id.removeprefix("resp_"), on_done)


async def _upstream(
    call: Call, request: responses.ResponsesRequest, model: catalog.Model, items: list[dict]
) -> tuple[chat.ChatRequest, str]:
    """The validated chat request (gpt-oss: its inputs in Responses form) and the prompt text."""
    chat_request = chat.chat_request(responses.chat_body(request, items), model)
    await inline_images(call, chat_request)
    prompt_text = prompt_text_of(chat_request.inputs)
    if responses.uses_native(model, request):
        chat_request.inputs = responses.native_inputs(request, items, chat_request.inputs)
    return chat_request, prompt_text


async def create(call: Call) -> Reply:
    """Create a response."""
    request = responses.parse(await call.json())
    model = catalog.resolve(request.model, catalog.CHAT, call.settings)
    catalog.require_task(model, catalog.CHAT)
    responses.refuse_images(request.items, model)
    kept = _store(call)
    items = await kept.resolve(request.items)
    previous = request.previous_response_id
    context = await kept.history(previous) if previous else []
    chat_request, prompt_text = await _upstream(call, request, model, [*context, *items])
    result = await ai.run_chat(call, chat_request)

    hexid = call.request_id.removeprefix("req_")
    response_id, created = "resp_" + hexid, int(time.time())
    # A stream is stored once it ends, which needs the Worker's waitUntil.
    stored = request.store and kept.kv is not None
    stored = stored and (not request.stream or call.env.defer is not None)
    inputs = responses.with_ids(items, hexid)
    prefix = f"call_{hexid}_"
    if request.stream:
        keep = _keeper(call, kept, inputs, context) if stored else None
        transcoder = response_stream(
            request, chat_request, prompt_text, response_id, created, stored, keep
        )
        if hasattr(result, "read_all"):
            idle = call.settings.stream_idle_timeout_s
            return Reply(200, StreamBody(result, transcoder, idle), dict(SSE_HEADERS))
        transcoder.details = result  # models that answer whole: replayed as events
        answer = chat.normalise(result, model, prefix)
        return Reply(200, transcoder.replay(answer), dict(SSE_HEADERS))
    answer, finish, usage = chat.settle(result, chat_request, prompt_text, prefix)
    shell = responses.shell(request, response_id, created, model.id, stored)
    output = responses.output_items(answer, hexid, finish)
    response = responses.finished(shell, output, responses.usage_of(usage, result), finish)
    if stored:
        await kept.save(response, inputs, context)
    call.metrics.tokens = response["usage"]["total_tokens"]
    return json_reply(response)


async def retrieve(call: Call) -> Reply:
    """A stored response."""
    record = await _store(call).load(call.params["response_id"])
    return json_reply(record["response"])


async def delete(call: Call) -> Reply:
    """Delete a stored response."""
    response_id = call.params["response_id"]
    await _store(call).delete(response_id)
    return json_reply({"id": response_id, "object": "response.deleted", "deleted": True})


def _limit(query: Mapping[str, str]) -> int:
    least, most, default = responses.LIST_LIMIT
    raw = query.get("limit", str(default))
    # isascii: str.isdigit also takes digits int() refuses, such as '²'.
    if not (raw.isascii() and raw.isdigit()) or not least <= int(raw) <= most:
        raise invalid(f"'limit' must be a whole number from {least} to {most}.", "limit")
    return int(raw)


async def input_items(call: Call) -> Reply:
    """A stored response's input items, as OpenAI lists them (newest first unless order=asc)."""
    record = await _store(call).load(call.params["response_id"])
    order = call.query.get("order", responses.LIST_ORDERS[0])
    if order not in responses.LIST_ORDERS:
        raise invalid("'order' must be 'asc' or 'desc'.", "order")
    items = record["input"] if order == "asc" else record["input"][::-1]
    after = call.query.get("after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    limit = _limit(call.query)
    page = items[:limit]
    return json_reply(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }
    )
