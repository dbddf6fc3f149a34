"""Runs image models and stores their pictures; shared by /v1/images and chat-to-image."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from core.errors import ApiError, bad_upstream
from core.exchange import Call
from formats import imagesize
from formats.filebytes import Data
from mapping import images
from mapping.catalog import Model
from upstream import ai, imagestore


def _no_image(detail: str) -> ApiError:
    return bad_upstream(f"Workers AI returned no image ({detail}).")


async def image_bytes(result: Any) -> bytes:
    """The picture from any upstream answer: bytes, a stream of them, or {"image": base64}."""
    if isinstance(result, (bytes, bytearray, memoryview)):
        data = bytes(result)
    elif hasattr(result, "read_all"):
        data = await result.read_all()
    elif isinstance(result, Mapping) and isinstance(result.get("image"), str):
        text = result["image"]
        if text.startswith("data:"):
            text = text.partition(",")[2]
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _no_image("the image field is not base64") from None
    else:
        raise _no_image("unexpected answer shape")
    if not data:
        raise _no_image("empty answer")
    return data


async def generate(
    call: Call,
    model: Model,
    job: images.ImageJob,
    image: Data | None = None,
    mask: bytes | None = None,
) -> list[bytes]:
    """Run the n upstream calls concurrently; the first failure fails the request."""

    async def one(seed: int | None) -> bytes:
        inputs = images.to_upstream(job, model, seed, image, mask)
        return await image_bytes(await ai.run(call, model.id, inputs))

    return list(await asyncio.gather(*(one(seed) for seed in images.seeds(job, model))))


async def chat_picture(call: Call, body: dict, model: Model) -> str:
    """The assistant message for `/v1/chat/completions` with an image model: the picture of the
    last user message's text as a markdown image, stored like a `url` answer (R2, upload host,
    or a data: URL). The chat handler wraps it as a completion or as chunks."""
    if images.facts(model)["edit"]:
        raise images.needs_edit_endpoint(model)
    job = images.parse_job({"prompt": images.last_user_text(body.get("messages"))}, model)
    job = replace(job, response_format="url")
    picture = (await generate(call, model, job))[0]
    url = await imagestore.save(call, picture, imagesize.sniff(picture))
    return images.markdown_image(job.prompt, url)
