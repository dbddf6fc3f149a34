"""Images referenced by URL in chat messages, fetched and inlined as the data: URIs Workers AI
needs, within the outbound policy (`upstream.outbound`), a size cap, a deadline and a cap on
URLs per request."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import urljoin

from core import log
from core.errors import invalid
from core.exchange import Call, FetchResult
from mapping import chat
from upstream import outbound

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def follow(call: Call, url: str, max_bytes: int) -> FetchResult:
    """GET `url`, checking it and every redirect target against the policy; OSError or
    `outbound.Refused` when it cannot be fetched."""
    settings = call.settings
    assert call.env.fetch is not None
    for _ in range(MAX_REDIRECTS + 1):
        outbound.check(url, settings.image_url_hosts)
        result = await call.env.fetch(url, max_bytes=max_bytes, timeout_s=settings.fetch_timeout_s)
        location = result.headers.get("location")
        if result.status not in _REDIRECTS or not location:
            return result
        url = urljoin(url, location)
    raise outbound.Refused(f"more than {MAX_REDIRECTS} redirects")


async def _inline_image(call: Call, url: str, param: str) -> str:
    """An http(s) image fetched and turned into the data URI Workers AI needs.

    The client learns only that the image could not be fetched: saying what answered, or
    that nothing did, would let it map hosts the Worker can reach.
    """
    if call.env.fetch is None:
        raise invalid("Image URLs cannot be fetched here; send a data: URI.", param)
    failed = invalid(
        "Could not fetch the image. Use a public http(s) URL of a PNG, JPEG, GIF or WebP image "
        f"up to {MAX_IMAGE_BYTES // (1024 * 1024)} MB, or send it as a data: URI.",
        param,
        "image_fetch_failed",
    )
    try:
        result = await follow(call, url, MAX_IMAGE_BYTES)
    except (OSError, outbound.Refused) as exc:
        log.event(call.request_id, "image_url_refused", param=param, reason=str(exc))
        raise failed from None
    content_type = result.headers.get("content-type", "").split(";")[0].strip()
    if result.status != 200 or not content_type.startswith("image/"):
        log.event(
            call.request_id, "image_url_refused", param=param, status=result.status,
            content_type=content_type,
        )  # fmt: skip
        raise failed
    return f"data:{content_type};base64,{base64.b64encode(result.body).decode()}"


async def inline_images(call: Call, request: chat.ChatRequest) -> None:
    """Replace http(s) image URLs in the upstream messages with data URIs, concurrently."""
    if not request.images:
        return
    limit = call.settings.max_image_urls
    if len(request.images) > limit:
        raise invalid(
            f"A request may reference at most {limit} image URLs (MAX_IMAGE_URLS); "
            f"this one has {len(request.images)}. Send the others as data: URIs.",
            "messages",
            "too_many_image_urls",
        )
    params = [f"messages[{m}].content[{p}].image_url.url" for m, p, _ in request.images]
    uris = await asyncio.gather(
        *(
            _inline_image(call, url, param)
            for (_, _, url), param in zip(request.images, params, strict=True)
        )
    )
    for (message, part, _), uri in zip(request.images, uris, strict=True):
        request.inputs["messages"][message]["content"][part]["image_url"]["url"] = uri
