"""`POST /v1/chat/completions`: chat over Workers AI text models, streaming or not.

Image models answer through `imagegen.chat_picture` (the seed's chat-to-image flow).
"""

from __future__ import annotations

import time

from core.exchange import Call, Reply, json_reply
from mapping import catalog, chat
from mapping.chatreply import (
    SSE_HEADERS,
    completion_body,
    completion_id,
    completion_object,
    prompt_text_of,
    stream_reply,
)
from mapping.chatstream import ChatStream
from upstream import ai, imagegen
from upstream.vision import inline_images


async def picture_reply(call: Call, body: dict, model: catalog.Model) -> Reply:
    """Chat with an image model: the picture as a markdown image, whole or as chunks."""
    stream, include_usage = chat.stream_flags(body)
    answer = chat.Answer(
        content=await imagegen.chat_picture(call, body, model),
        finish_reason="stop",
        usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    )
    if stream:
        transcoder = ChatStream(
            completion_id=completion_id(call, "chatcmpl-"),
            created=int(time.time()),
            model=model.id,
            max_tokens=1,  # a picture spends no tokens; any positive budget reads as 'stop'
            include_usage=include_usage,
        )
        return Reply(200, transcoder.replay(answer), dict(SSE_HEADERS))
    return json_reply(completion_object(call, model, answer, "stop", answer.usage))


async def create(call: Call) -> Reply:
    """Create a chat completion."""
    body = await call.json()
    settings = call.settings
    model = catalog.resolve(body.get("model"), catalog.CHAT, settings)
    if model.task == catalog.IMAGE:
        return await picture_reply(call, body, model)
    if model.task != catalog.MODERATION:
        catalog.require_task(model, catalog.CHAT)
    request = chat.chat_request(body, model)
    await inline_images(call, request)
    prompt_text = prompt_text_of(request.inputs)
    result = await ai.run_chat(call, request)
    if request.stream:
        return stream_reply(call, request, result, prompt_text)
    completion = completion_body(call, request, result, prompt_text)
    call.metrics.tokens = completion["usage"]["total_tokens"]
    return json_reply(completion)
