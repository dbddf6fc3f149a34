"""Image generation: SD-family PNG bytes, phoenix JPEG bytes, flux/lucid JSON `{image: base64}`.

Pictures are real images of the requested size (Pillow): a background and a disc whose colours
come from sha256(prompt, seed), so equal inputs give equal bytes and different prompts differ.
Prompts containing the word "nsfw" are refused: 8007 on flux-2-klein, 3030 elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re

from PIL import Image, ImageDraw, UnidentifiedImageError

from emulator import schema
from emulator.calls import Binary, Call, Json, Result
from emulator.errors import AiError, bad_input, invalid_input


def _int_range(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


SD_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "negative_prompt": {"type": "string"},
        "height": _int_range(256, 2048),
        "width": _int_range(256, 2048),
        "image": {"type": "array"},
        "image_b64": {"type": "string"},
        "mask": {"type": "array"},
        "num_steps": _int_range(1, 20),
        "strength": {"type": "number", "minimum": 0, "maximum": 1},
        "guidance": {"type": "number"},
        "seed": {"type": "integer", "minimum": 0},
    },
}
PHOENIX_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "guidance": {"type": "number", "minimum": 2, "maximum": 10},
        "seed": {"type": "integer", "minimum": 0},
        "height": _int_range(0, 2048),
        "width": _int_range(0, 2048),
        "num_steps": _int_range(1, 50),
        "negative_prompt": {"type": "string"},
    },
}
LUCID_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "guidance": {"type": "number", "minimum": 0, "maximum": 10},
        "seed": {"type": "integer", "minimum": 0},
        "height": _int_range(0, 2500),
        "width": _int_range(0, 2500),
        "num_steps": _int_range(1, 40),
        "steps": _int_range(1, 40),
    },
}
FLUX1_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": False,
    "properties": {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 2048},
        "steps": _int_range(1, 8),
    },
}
FLUX2_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "width": _int_range(256, 1920),
        "height": _int_range(256, 1920),
        "steps": _int_range(1, 50),
        "guidance": {"type": "number", "minimum": 0, "maximum": 20},
        "seed": {"type": "integer", "minimum": 0},
    },
}


def picture(prompt: str, seed: object, width: int, height: int, fmt: str) -> bytes:
    """A deterministic PNG or JPEG of the given size derived from prompt and seed."""
    digest = hashlib.sha256(f"{prompt}\0{seed}".encode()).digest()
    image = Image.new("RGB", (width, height), tuple(digest[0:3]))
    inset = min(width, height) // 6
    ImageDraw.Draw(image).ellipse(
        (inset, inset, width - inset, height - inset), fill=tuple(digest[3:6])
    )
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, "PNG", compress_level=1)
    else:
        image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _check_prompt(call: Call, prompt: str) -> None:
    if re.search(r"\bnsfw\b", prompt, re.I):
        if "klein" in call.model.id:
            raise AiError(8007)
        raise AiError(3030)


def _decode_image(data: bytes, field: str) -> None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise invalid_input(f"'{field}' is not a decodable image") from None


def _uint8(value: list, field: str) -> bytes:
    try:
        return bytes(value)
    except (TypeError, ValueError):
        raise bad_input(f"Type mismatch of '/{field}', items must be uint8") from None


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AiError(5004, f"Invalid data type for base64 input: {field}") from None


def run_image(call: Call) -> Result:
    """Dispatch on the image model variant."""
    variant, inputs = call.model.variant, call.inputs
    if variant == "flux2":
        return _flux2(call)
    chosen = {"phoenix": PHOENIX_SCHEMA, "lucid": LUCID_SCHEMA, "flux1": FLUX1_SCHEMA}
    schema.validate(inputs, chosen.get(variant, SD_SCHEMA))
    _check_prompt(call, inputs["prompt"])
    size = call.model.default_size
    width, height = inputs.get("width") or size, inputs.get("height") or size
    seed = inputs.get("seed")
    if variant in ("sd-img2img", "sd-inpaint"):
        if "image" in inputs:
            _decode_image(_uint8(inputs["image"], "image"), "image")
        elif "image_b64" in inputs:
            _decode_image(_b64(inputs["image_b64"], "image_b64"), "image_b64")
        else:
            raise invalid_input("'image' or 'image_b64' is required for this model")
        if variant == "sd-inpaint":
            if "mask" not in inputs:
                raise invalid_input("'mask' is required for inpainting")
            _decode_image(_uint8(inputs["mask"], "mask"), "mask")
    if variant.startswith("sd"):
        return Binary(picture(inputs["prompt"], seed, width, height, "PNG"), "image/png")
    if variant == "phoenix":
        return Binary(picture(inputs["prompt"], seed, width, height, "JPEG"), "image/jpeg")
    jpeg = picture(inputs["prompt"], seed, width, height, "JPEG")
    return Json({"image": base64.b64encode(jpeg).decode()})


def parse_multipart(body: bytes, content_type: str) -> dict[str, str | bytes]:
    """Fields of a multipart/form-data body: text as str, file parts as bytes."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise AiError(3003, "Request is missing headers or body: multipart boundary")
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, str | bytes] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.partition(b"\r\n\r\n")
        value = value[:-2] if value.endswith(b"\r\n") else value
        disposition = re.search(rb'name="([^"]*)"', head)
        if not disposition:
            continue
        name = disposition.group(1).decode()
        fields[name] = value if b"filename=" in head else value.decode("utf-8", "replace")
    return fields


def _flux2(call: Call) -> Result:
    """flux-2-*: multipart/form-data input only; JSON `{image: base64}` output."""
    if not call.content_type.startswith("multipart/form-data"):
        raise bad_input("required properties at '/' are 'multipart'")
    fields = parse_multipart(call.body, call.content_type)
    inputs: dict[str, object] = {}
    for name, value in fields.items():
        if name.startswith("input_image_"):
            data = value if isinstance(value, bytes) else _b64(value, name)
            _decode_image(data, name)
            continue
        if name in ("width", "height", "steps", "seed") and isinstance(value, str):
            inputs[name] = int(value) if value.strip().lstrip("-").isdigit() else value
        elif name == "guidance" and isinstance(value, str):
            try:
                inputs[name] = float(value)
            except ValueError:
                inputs[name] = value
        else:
            inputs[name] = value
    schema.validate(inputs, FLUX2_SCHEMA)
    prompt = str(inputs["prompt"])
    _check_prompt(call, prompt)
    width = int(inputs.get("width") or 1024)  # type: ignore[call-overload]
    height = int(inputs.get("height") or 1024)  # type: ignore[call-overload]
    jpeg = picture(prompt, inputs.get("seed"), width, height, "JPEG")
    return Json({"image": base64.b64encode(jpeg).decode()})
