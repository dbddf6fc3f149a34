"""`POST /v1/chat/completions`: chat over Workers AI text models, streaming or not.

Image models answer through `images.chat_to_image` (the seed's chat-to-image flow).
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import catalog
import chatmap
import config
import sse_collect
from errors import ApiError, invalid
from exchange import SSE_TYPE, Call, Reply, StreamBody, json_reply
from handlers import images
from sse import ChatStream

SSE_HEADERS = {"content-type": SSE_TYPE, "cache-control": "no-cache"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024


async def _inline_image(call: Call, url: str, param: str) -> str:
    """An http(s) image fetched (size-capped) and turned into the data URI Workers AI needs."""
    if call.env.fetch is None:
        raise invalid("Image URLs cannot be fetched here; send a data: URI.", param)
    try:
        result = await call.env.fetch(url, max_bytes=MAX_IMAGE_BYTES)
    except ConnectionError as exc:
        raise invalid(f"Could not fetch the image at image_url: {exc}.", param) from None
    content_type = result.headers.get("content-type", "").split(";")[0].strip()
    if result.status != 200 or not content_type.startswith("image/"):
        raise invalid(
            f"image_url answered {result.status} with '{content_type or 'no content type'}', "
            "not an image.",
            param,
        )
    return f"data:{content_type};base64,{base64.b64encode(result.body).decode()}"


async def inline_images(call: Call, request: chatmap.ChatRequest) -> None:
    """Replace http(s) image URLs in the upstream messages with data URIs, concurrently."""
    if not request.images:
        return
    params = [f"messages[{m}].content[{p}].image_url.url" for m, p, _ in request.images]
    uris = await asyncio.gather(
        *(
            _inline_image(call, url, param)
            for (_, _, url), param in zip(request.images, params, strict=True)
        )
    )
    for (message, part, _), uri in zip(request.images, uris, strict=True):
        request.inputs["messages"][message]["content"][part]["image_url"]["url"] = uri


def completion_id(call: Call, prefix: str) -> str:
    """An id tied to the request id, so logs and answers can be matched."""
    return prefix + call.request_id.removeprefix("req_")


def chat_stream(
    request: chatmap.ChatRequest,
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
    request: chatmap.ChatRequest,
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
        answer = chatmap.normalise(result, request.model, f"call_{transcoder.completion_id}_")
        return Reply(200, transcoder.replay(answer), dict(SSE_HEADERS))
    return Reply(200, StreamBody(result, transcoder), dict(SSE_HEADERS))


async def run_text(call: Call, model: catalog.Model, inputs: dict) -> Any:
    """`env.AI.run` for a text model, with the configured gateway."""
    settings = config.load(call.env.vars)
    return await call.env.ai.run(model.id, inputs, config.ai_options(settings))


async def run_request(call: Call, request: chatmap.ChatRequest) -> Any:
    """`run_text` for a chat request; a 5021 against the Worker's default budget is retried
    once with the budget the error reports (the estimate is only an estimate)."""
    try:
        return await run_text(call, request.model, request.inputs)
    except ApiError as error:
        if not chatmap.shrink_after_5021(request, error):
            raise
    return await run_text(call, request.model, request.inputs)


async def whole(result: Any) -> Any:
    """A JSON result; a stream we did not ask for (JSON, or SSE of any shape) is read whole."""
    if hasattr(result, "read_all"):
        return sse_collect.collect(await result.read_all())
    return result


def completion_object(
    call: Call, model: catalog.Model, answer: chatmap.Answer, finish: str, usage: chatmap.Usage
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


def completion_body(
    call: Call, request: chatmap.ChatRequest, result: Any, prompt_text: str
) -> dict:
    """The `chat.completion` object for a whole upstream answer."""
    prefix = f"call_{completion_id(call, 'chatcmpl-')}_"
    answer, finish, usage = chatmap.settle(result, request, prompt_text, prefix)
    return completion_object(call, request.model, answer, finish, usage)


async def picture_reply(call: Call, body: dict, model: catalog.Model) -> Reply:
    """Chat with an image model: the picture as a markdown image, whole or as chunks."""
    stream, include_usage = chatmap.stream_flags(body)
    answer = chatmap.Answer(
        content=await images.chat_picture(call, body, model),
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


def prompt_text_of(inputs: dict) -> str:
    """The text of the prompt, for token estimates."""
    return "".join(
        m["content"] for m in inputs.get("messages", []) if isinstance(m.get("content"), str)
    )


async def create(call: Call) -> Reply:
    """Create a chat completion."""
    body = await call.json()
    settings = config.load(call.env.vars)
    model = catalog.resolve(body.get("model"), catalog.CHAT, settings)
    if model.task == catalog.IMAGE:
        return await picture_reply(call, body, model)
    if model.task != catalog.MODERATION:
        catalog.require_task(model, catalog.CHAT)
    request = chatmap.chat_request(body, model)
    await inline_images(call, request)
    prompt_text = prompt_text_of(request.inputs)
    result = await run_request(call, request)
    if request.stream:
        if not request.inputs.get("stream"):
            result = await whole(result)  # not streamed upstream: replayed whole
        return stream_reply(call, request, result, prompt_text)
    return json_reply(completion_body(call, request, await whole(result), prompt_text))
