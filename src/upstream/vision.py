"""Images referenced by URL in chat messages, fetched and inlined as the data: URIs Workers AI
needs."""

from __future__ import annotations

import asyncio
import base64

from core.errors import invalid
from core.exchange import Call
from mapping import chat

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


async def inline_images(call: Call, request: chat.ChatRequest) -> None:
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
