"""Embeddings mapping: OpenAI requests to Workers AI batches, vectors back to OpenAI's list.

    parse_request(body)            OpenAI request -> EmbeddingRequest (400s name the field)
    check_dimensions(model, n)     `dimensions` only where truncation is meaningful (Matryoshka)
    batches(texts, size)           inputs split at the model's batch limit, order kept
    to_upstream(texts)             Workers AI inputs for one batch
    vectors_from(output, count)    Workers AI `{shape, data}` -> vectors (502 if malformed)
    to_openai(...)                 vectors -> OpenAI's list, float or base64 float32

Workers AI returns no token usage for embeddings; `estimate_tokens` stands in (docs/embeddings.md).
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core import validate
from core.errors import ApiError, bad_upstream, invalid, missing
from mapping import catalog

MAX_INPUTS = 2048  # OpenAI's limit per request


DEFAULT_BATCH = 100  # Workers AI's usual `maxItems` for models outside the catalog


ENCODINGS = ("float", "base64")


@dataclass(frozen=True)
class EmbeddingRequest:
    """A validated embeddings request (model still unresolved)."""

    texts: list[str]
    model: Any
    encoding_format: str
    dimensions: int | None


def parse_input(value: Any) -> list[str]:
    """`input` as a list of non-empty strings; token arrays and empty strings are a 400."""
    if value is None:
        raise missing("input")
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list):
        if not value:
            raise invalid("'input' must not be an empty array.", "input")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value) or any(
            isinstance(v, list) for v in value
        ):
            raise invalid(
                "Token arrays are not supported for 'input': Workers AI embedding models take "
                "text. Send a string or an array of strings.",
                "input",
                "unsupported_input",
            )
        if not all(isinstance(v, str) for v in value):
            raise invalid(
                "Invalid type for 'input': expected a string or an array of strings.", "input"
            )
        texts = value
    else:
        raise invalid(
            "Invalid type for 'input': expected a string or an array of strings.", "input"
        )
    if len(texts) > MAX_INPUTS:
        raise invalid(
            f"'input' has {len(texts)} items; at most {MAX_INPUTS} are allowed per request.",
            "input",
            "invalid_value",
        )
    for index, text in enumerate(texts):
        if not text.strip():
            where = "'input'" if isinstance(value, str) else f"'input[{index}]'"
            raise invalid(f"{where} must not be an empty string.", "input", "invalid_value")
    return texts


def parse_request(body: Mapping[str, Any]) -> EmbeddingRequest:
    """Validate the OpenAI fields (in the order of OpenAI's docs); `user` is accepted, unused."""
    texts = parse_input(body.get("input"))
    encoding = validate.one_of(body, "encoding_format", ENCODINGS, "float")
    dimensions = validate.optional_int(body, "dimensions", low=1)
    validate.optional_str(body, "user")
    return EmbeddingRequest(texts, body.get("model"), encoding or "float", dimensions)


def check_dimensions(model: catalog.Model, dimensions: int | None) -> int | None:
    """The length to cut vectors to, or None to keep them; a 400 where it cannot be honoured.

    Only Matryoshka-trained models (catalog `params["dimensions"]`) keep their meaning when
    truncated; the others accept only their native size.
    """
    if dimensions is None or dimensions == model.dimensions:
        return None
    allowed = model.params.get("dimensions")
    if allowed is not None and dimensions in allowed:
        return dimensions
    if allowed is None:
        native = f" (its vectors have {model.dimensions})" if model.dimensions else ""
        detail = f"`{model.id}` does not support shortened embeddings{native}."
    elif isinstance(allowed, range):
        detail = f"`{model.id}` supports {allowed.start} to {allowed.stop - 1} dimensions."
    else:
        sizes = ", ".join(str(n) for n in sorted({*allowed, model.dimensions}))
        detail = f"`{model.id}` supports these dimensions: {sizes}."
    raise invalid(
        f"Invalid 'dimensions': {dimensions}. {detail}", "dimensions", "unsupported_value"
    )


def batches(texts: Sequence[str], size: int) -> list[list[str]]:
    """Consecutive slices of at most `size` texts, so results concatenate in input order."""
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


def to_upstream(texts: list[str]) -> dict:
    """Workers AI inputs for one batch; every embedding model (qwen3's alias too) takes `text`."""
    return {"text": texts}


def unexpected_result() -> ApiError:
    return bad_upstream("Workers AI returned an unexpected embeddings result.")


def vectors_from(output: Any, count: int) -> list[list[float]]:
    """The `count` vectors of a Workers AI `{shape, data}` result, or a 502."""
    data = output.get("data") if isinstance(output, dict) else None
    if not isinstance(data, list) or len(data) != count:
        raise unexpected_result()
    for vector in data:
        if not isinstance(vector, list) or not vector:
            raise unexpected_result()
    return data


def shorten(vector: Sequence[float], dimensions: int) -> list[float]:
    """The first `dimensions` values, scaled back to unit length (Matryoshka truncation)."""
    head = list(vector[:dimensions])
    norm = math.sqrt(math.fsum(x * x for x in head))
    return [x / norm for x in head] if norm else head


def as_float32(vector: Sequence[float]) -> tuple[float, ...]:
    """The vector rounded to float32, so float and base64 answers carry the same numbers."""
    fmt = f"<{len(vector)}f"
    return struct.unpack(fmt, struct.pack(fmt, *vector))


def to_base64(vector: Sequence[float]) -> str:
    """Little-endian float32 bytes in base64, as OpenAI encodes `encoding_format=base64`."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def estimate_tokens(text: str) -> int:
    """Approximate tokens: 4 ASCII characters, 2 other alphabetic, or 1 CJK character each."""
    ascii_chars = wide = 0
    for char in text:
        if char < "\x80":
            ascii_chars += 1
        elif char >= "\u2e80":  # CJK, kana, hangul and beyond: about one token each
            wide += 1
    other = len(text) - ascii_chars - wide
    return max(1, math.ceil(ascii_chars / 4 + other / 2) + wide)


def to_openai(
    model_id: str, vectors: Sequence[Sequence[float]], encoding: str, prompt_tokens: int
) -> dict:
    """OpenAI's embeddings list."""
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": to_base64(vector) if encoding == "base64" else as_float32(vector),
        }
        for index, vector in enumerate(vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": model_id,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
