"""Image requests: OpenAI's image fields to Workers AI inputs, per model, and edit masks.

    OpenAI body --parse_job--> ImageJob --to_upstream--> Workers AI inputs (one call per image)
    Workers AI answer (PNG/JPEG bytes, a stream of them, or {"image": base64}) --image_bytes-->
    bytes --> `b64_json`, or a `url` from `imagestore.save` (R2, upload host, or a data: URL)

Model facts (sizes, step fields, which optional inputs a schema has) come from the catalog's
`params`; only inputs a model's schema has are sent (flux-1-schnell rejects any extra property).
Edits turn OpenAI's transparent-area masks into SD's white-area ones (`pngmask`). An edit's
image is a `FileBytes` over the upload: the checks here read its headers, and the adapter
encodes it for Workers AI in JavaScript (`Base64Input`, `ByteList`), so it never enters Python
whole unless its own transparency is the mask (docs/performance.md, "Uploads").
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import validate
from core.config import Config
from core.errors import ApiError, invalid
from core.exchange import BYTE_ARRAY_LIMIT, Base64Input, ByteList, FormInput
from formats import imagesize, pngmask
from formats.filebytes import Data
from mapping import catalog
from mapping.catalog import Model

MAX_N = 4  # upstream calls per request: each is a full generation (time, neurons, subrequests)


QUALITIES = ("auto", "standard", "medium", "hd", "high", "low")


RESPONSE_FORMATS = ("b64_json", "url")


MAX_SEED = 2**32 - 1


EDIT_FAMILY = (
    "@cf/runwayml/stable-diffusion-v1-5-img2img",
    "@cf/runwayml/stable-diffusion-v1-5-inpainting",
)


def facts(model: Model) -> Mapping[str, Any]:
    """The model's image parameters (catalog `params`, or conservative ones for other ids)."""
    return model.params if model.params else _UNLISTED


@dataclass(frozen=True)
class ImageJob:
    """An image request after validation, independent of the upstream model's input form."""

    prompt: str
    n: int = 1
    size: tuple[int, int] | None = None
    steps: int | None = None
    response_format: str = "b64_json"
    seed: int | None = None
    negative_prompt: str | None = None
    guidance: float | None = None
    strength: float | None = None
    revised_prompt: str | None = None  # set when the prompt sent differs from the one received


def parse_size(value: Any, model: Model, default: tuple[int, int] | None) -> tuple[int, int] | None:
    """OpenAI's `size` ("WxH" or "auto") as width and height the model can make."""
    f = facts(model)
    if value is None or value == "auto":
        return default
    if not isinstance(value, str):
        raise invalid(f"Invalid type for 'size': expected a string, but got {value!r}.", "size")
    width_text, sep, height_text = value.strip().lower().partition("x")
    if not sep or not width_text.isdigit() or not height_text.isdigit():
        raise invalid(
            f"Invalid value for 'size': '{value}'. Use 'WIDTHxHEIGHT' (e.g. '1024x1024') or "
            "'auto'.",
            "size",
            "invalid_value",
        )
    width, height = int(width_text), int(height_text)
    sizes = f["sizes"]
    if sizes is None:
        fixed = f["default_size"]
        if (width, height) != fixed:
            shown = f"{fixed[0]}x{fixed[1]}"
            raise invalid(
                f"Invalid 'size': '{value}'. `{model.id}` makes {shown} images only; send "
                f"'{shown}' or 'auto', or choose another model for other sizes.",
                "size",
                "invalid_value",
            )
        return fixed
    low, high = sizes
    if not (low <= width <= high and low <= height <= high):
        raise invalid(
            f"Invalid 'size': '{value}'. `{model.id}` makes images from {low} to {high} pixels "
            "per side.",
            "size",
            "invalid_value",
        )
    multiple = f["size_multiple"]
    if width % multiple or height % multiple:
        raise invalid(
            f"Invalid 'size': '{value}'. `{model.id}` needs width and height in multiples of "
            f"{multiple}.",
            "size",
            "invalid_value",
        )
    return width, height


def parse_job(body: Mapping[str, Any], model: Model, *, edit: bool = False) -> ImageJob:
    """Validate an OpenAI image request (generation or edit) for `model`."""
    f = facts(model)
    prompt = validate.required_str(body, "prompt").strip()
    revised = None
    if f["max_prompt"] and len(prompt) > f["max_prompt"]:
        # OpenAI's own limits are longer (4000 for dall-e-3); shorten and say so.
        prompt = prompt[: f["max_prompt"]]
        revised = prompt
    n = validate.optional_int(body, "n", 1, MAX_N, 1)
    default_size = None if edit else f["default_size"]
    size = parse_size(body.get("size"), model, default_size)
    quality = validate.one_of(body, "quality", QUALITIES, "auto")
    steps = f["quality_steps"].get("high" if quality == "hd" else quality) if f["steps"] else None
    response_format = validate.one_of(body, "response_format", RESPONSE_FORMATS, "b64_json")
    seed = validate.optional_int(body, "seed", 0, MAX_SEED)
    negative_prompt = validate.optional_str(body, "negative_prompt")
    guidance = validate.optional_number(body, "guidance")
    if guidance is not None and "guidance" in f["options"]:
        guidance = validate.optional_number(body, "guidance", *f["guidance"])
    strength = validate.optional_number(body, "strength", 0, 1) if edit else None
    return ImageJob(
        prompt=prompt,
        n=n or 1,
        size=size,
        steps=steps,
        response_format=response_format or "b64_json",
        seed=seed,
        negative_prompt=negative_prompt or None,
        guidance=guidance,
        strength=strength,
        revised_prompt=revised,
    )


def seeds(job: ImageJob, model: Model, pick: Any = secrets.randbelow) -> list[int | None]:
    """One seed per image: distinct ones when the model takes a seed and n > 1."""
    if "seed" not in facts(model)["options"]:
        return [None] * job.n  # Workers AI draws its own per call
    if job.n == 1:
        return [job.seed]
    base = job.seed if job.seed is not None else pick(2**31)
    return [(base + i) % (MAX_SEED + 1) for i in range(job.n)]


def to_upstream(
    job: ImageJob,
    model: Model,
    seed: int | None = None,
    image: Data | None = None,
    mask: bytes | None = None,
) -> dict:
    """Workers AI inputs for one image, with only the fields the model's schema has."""
    f = facts(model)
    options = f["options"]
    inputs: dict[str, Any] = {"prompt": job.prompt}
    if job.size is not None and f["sizes"] is not None:  # a fixed size is not an input
        inputs["width"], inputs["height"] = job.size
    if f["steps"] and job.steps is not None:
        inputs[f["steps"]] = job.steps
    if "seed" in options and seed is not None:
        inputs["seed"] = seed
    if "negative_prompt" in options and job.negative_prompt:
        inputs["negative_prompt"] = job.negative_prompt
    if "guidance" in options and job.guidance is not None:
        inputs["guidance"] = job.guidance
    if image is not None:
        _check_array_size(model, image, mask)
        if f["edit"] == "img2img":
            # img2img's schema also has `image_b64`: a third of the bytes a uint8 array
            # takes as JSON (cloudflare-docs stable-diffusion-v1-5-img2img.json @ 398302a4).
            inputs["image_b64"] = Base64Input(image)  # encoded on the JS side
        else:
            # Inpainting takes only uint8 arrays; built on the JS side (`ByteList`).
            inputs["image"] = ByteList(image)
        if job.strength is not None:
            inputs["strength"] = job.strength
    if mask is not None:
        inputs["mask"] = ByteList(mask)
    if f["input"] == "multipart":
        return {"multipart": FormInput({k: _form_text(v) for k, v in inputs.items()})}
    return inputs


def _check_array_size(model: Model, image: Data, mask: bytes | None) -> None:
    """413 when inpainting's image and mask, sent as JSON number arrays, cannot fit."""
    if facts(model)["edit"] != "inpaint":
        return
    size = len(image) + len(mask or b"")
    if size > BYTE_ARRAY_LIMIT:
        raise ApiError(
            413,
            f"The image and mask are {size / 2**20:.1f} MB together; "
            f"`{model.id}` takes them only as JSON arrays of numbers, which are limited to "
            f"{BYTE_ARRAY_LIMIT // 2**20} MB here (a Worker has 128 MB of memory). Send a smaller "
            "image, or edit without a mask (img2img, which takes base64).",
            "invalid_request_error",
            "image",
            "request_too_large",
        )


def _form_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def needs_edit_endpoint(model: Model) -> ApiError:
    return ApiError(
        400,
        f"`{model.id}` changes an input image; send it to /v1/images/edits.",
        "invalid_request_error",
        "model",
        "model_not_supported",
    )


_INT_FIELDS = ("n", "seed")


_NUMBER_FIELDS = ("strength", "guidance")


def form_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """The text fields of a multipart edit request, with numbers parsed (400 naming the field)."""
    body: dict[str, Any] = {}
    for key, value in form.items():
        if not isinstance(value, str):
            continue
        if key in _INT_FIELDS or key in _NUMBER_FIELDS:
            if not value.strip():
                continue
            try:
                body[key] = int(value) if key in _INT_FIELDS else float(value)
            except ValueError:
                kind = "an integer" if key in _INT_FIELDS else "a number"
                raise invalid(
                    f"Invalid type for '{key}': expected {kind}, but got '{value}'.", key
                ) from None
        else:
            body[key] = value
    return body


def edit_model(name: Any, has_mask: bool, settings: Config) -> Model:
    """The SD 1.5 model for an edit: a mask means inpainting, none means img2img.

    OpenAI names (and no name) map onto that pair; so do both of its own ids, since which one
    is needed depends only on the mask. Another image model cannot edit.
    """
    wanted = name.strip() if isinstance(name, str) else name
    pick = catalog.MODELS[EDIT_FAMILY[1] if has_mask else EDIT_FAMILY[0]]
    if not wanted or wanted in catalog.ALIASES or wanted in settings.model_aliases:
        return pick  # dall-e-2 / gpt-image-1 edits: the only edit models there are
    model = catalog.model_for(wanted, catalog.IMAGE, settings)
    if model.id in EDIT_FAMILY:
        return pick
    if facts(model)["edit"]:
        return model
    raise ApiError(
        400,
        f"`{model.id}` cannot edit images; use {EDIT_FAMILY[0]} (or, with a mask, "
        f"{EDIT_FAMILY[1]}).",
        "invalid_request_error",
        "model",
        "model_not_supported",
    )


def _unreadable(param: str, exc: pngmask.PngError) -> ApiError:
    return invalid(f"Could not read '{param}': {exc}.", param, "invalid_image")


def inpainting_mask(image: Data, mask: bytes | None) -> bytes | None:
    """The mask to send to SD inpainting (white = repaint), or None for img2img.

    OpenAI's convention wins wherever there is transparency: the fully transparent pixels of a
    PNG mask, or without a mask those of a PNG image, are the area to edit. A mask with no fully
    transparent pixel is taken to be in SD's convention already and is sent unchanged.
    """
    if mask is None:
        if imagesize.sniff(image) != "image/png":
            return None
        try:
            return pngmask.sd_mask(image)
        except pngmask.PngError as exc:
            raise _unreadable("image", exc) from None
    try:
        header = pngmask.read_header(mask)
    except pngmask.PngError as exc:
        raise _unreadable("mask", exc) from None
    size = imagesize.dimensions(image)
    if size is not None and size != (header.width, header.height):
        raise invalid(
            f"'mask' is {header.width}x{header.height} but 'image' is {size[0]}x{size[1]}; "
            "they must be the same size.",
            "mask",
            "invalid_value",
        )
    try:
        converted = pngmask.sd_mask(mask)
    except pngmask.PngError as exc:
        raise _unreadable("mask", exc) from None
    return mask if converted is None else converted


def last_user_text(messages: Any) -> str:
    """The text of the last user message (string content or its text parts)."""
    if not isinstance(messages, list) or not messages:
        raise invalid("Missing required parameter: 'messages'.", "messages")
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):
            text = "\n".join(
                part["text"]
                for part in content
                if isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            )
        else:
            text = ""
        if text.strip():
            return text.strip()
        break
    raise invalid(
        "An image model draws the text of the last user message; it has none.", "messages"
    )


def markdown_image(prompt: str, url: str) -> str:
    """`![alt](url)` with the prompt as alt text, shortened and safe inside the brackets."""
    alt = " ".join(prompt.split())
    alt = alt.replace("\\", "").replace("[", "(").replace("]", ")")
    if len(alt) > 100:
        alt = alt[:99] + "…"
    return f"![{alt}]({url})"


# What an id outside the catalog gets: the prompt, and a size only when one is asked for.
_UNLISTED: dict[str, Any] = {**catalog.IMAGE_DEFAULTS, "sizes": (64, 4096), "default_size": None}
