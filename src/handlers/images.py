"""`POST /v1/images/generations` and `POST /v1/images/edits`: HTTP glue over
`mapping.images` (requests) and `upstream.imagegen` (runs and storage)."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from core.errors import invalid, missing, too_large
from core.exchange import Call, Form, Reply, Upload, json_reply
from formats import imagesize
from formats.filebytes import Data, FileBytes
from mapping import catalog, images
from mapping.catalog import Model
from upstream import imagegen, imagestore


async def _answer(call: Call, job: images.ImageJob, pictures: list[bytes]) -> Reply:
    async def item(data: bytes) -> dict:
        if job.response_format == "url":
            url = await imagestore.save(call, data, imagesize.sniff(data))
            entry: dict[str, Any] = {"url": url}
        else:
            entry = {"b64_json": base64.b64encode(data).decode("ascii")}
        if job.revised_prompt is not None:
            entry["revised_prompt"] = job.revised_prompt
        return entry

    data = list(await asyncio.gather(*(item(p) for p in pictures)))
    return json_reply({"created": int(time.time()), "data": data})


def _image_model(call: Call, name: Any) -> Model:
    settings = call.settings
    return catalog.model_for(name, catalog.IMAGE, settings)


async def generate(call: Call) -> Reply:
    """`POST /v1/images/generations`."""
    body = await call.json()
    model = _image_model(call, body.get("model"))
    if images.facts(model)["edit"]:
        raise images.needs_edit_endpoint(model)
    job = images.parse_job(body, model)
    return await _answer(call, job, await imagegen.generate(call, model, job))


# Per file: the models take at most 2048x2048 pictures, and every byte is held in an isolate
# of 128 MB while it is converted (docs/images.md).
MAX_EDIT_FILE_BYTES = 10 * 1024 * 1024


def _file(upload: Any, param: str, required: bool) -> Upload | None:
    """The upload sent as `param`, or None; 400 for a text field, 413 past the per-file cap."""
    if upload is None or (isinstance(upload, str) and not upload and not required):
        if required:
            raise missing(param)
        return None
    if isinstance(upload, str):
        raise invalid(f"'{param}' must be a file (a multipart file part).", param)
    if upload.size > MAX_EDIT_FILE_BYTES:
        raise too_large(MAX_EDIT_FILE_BYTES, f"The '{param}' file", param)
    return upload


def _check_kind(data: Data, param: str, png_only: bool = False) -> None:
    kind = imagesize.sniff(data)
    if png_only and kind != "image/png":
        # OpenAI's masks are PNGs: their transparency is what marks the area to edit.
        raise invalid(f"'{param}' must be a PNG image.", param, "invalid_image")
    if kind not in ("image/png", "image/jpeg", "image/webp"):
        raise invalid(f"'{param}' must be a PNG, JPEG or WebP image.", param, "invalid_image")


async def _image_and_mask(form: Form) -> tuple[FileBytes, bytes | None]:
    """The image, left where it is (`FileBytes`: its checks read it a block at a time, and
    Python holds it whole only when its own transparency is the mask), and the mask's bytes
    (a mask is converted pixel by pixel)."""
    image_part = form.get("image")
    if image_part is None:
        image_part = form.get("image[]")
    image = FileBytes(_file(image_part, "image", True))
    _check_kind(image, "image")
    mask_part = _file(form.get("mask"), "mask", False)
    if mask_part is None:
        return image, None
    mask = await mask_part.bytes()
    _check_kind(mask, "mask", png_only=True)
    return image, mask


async def edit(call: Call) -> Reply:
    """`POST /v1/images/edits` (multipart `image`, optional `mask`, `prompt`)."""
    form = await call.form()
    image, mask = await _image_and_mask(form)
    body = images.form_body(form)
    mask = images.inpainting_mask(image, mask)
    model = images.edit_model(body.get("model"), mask is not None, call.settings)
    job = images.parse_job(body, model, edit=True)
    return await _answer(call, job, await imagegen.generate(call, model, job, image, mask))
