"""Embedding models: `{shape:[n,d], data:[[...]], pooling?}` with deterministic unit vectors.

A vector is drawn from a Gaussian RNG seeded by sha256(model, pooling, text) and L2-normalised,
so the same text always gets the same vector and different texts get nearly orthogonal ones.
"""

from __future__ import annotations

import hashlib
import math
import random

from emulator import schema
from emulator.calls import Call, Json, Result
from emulator.errors import AiError
from emulator.models import Model
from emulator.text import count_tokens


def vector(model: Model, text: str, pooling: str = "mean") -> list[float]:
    """The unit vector of `text` for this model and pooling."""
    digest = hashlib.sha256(f"{model.id}\0{pooling}\0{text}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    raw = [rng.gauss(0.0, 1.0) for _ in range(model.dims)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _texts_schema(max_items: int) -> dict:
    return {
        "type": ["string", "array"],
        "minLength": 1,
        "minItems": 1,
        "maxItems": max_items,
        "items": {"type": "string", "minLength": 1},
    }


def input_schema(model: Model) -> dict:
    """Input schema per variant (docs/workers-ai.md §3)."""
    texts = _texts_schema(model.max_items)
    if model.variant == "qwen3":
        return {
            "type": "object",
            "anyOf": [
                {"required": ["queries"]},
                {"required": ["documents"]},
                {"required": ["text"]},
            ],
            "properties": {
                "queries": texts,
                "documents": texts,
                "text": texts,
                "instruction": {"type": "string"},
            },
        }
    props: dict = {"text": texts}
    if model.variant in ("bge", "bge-m3"):
        props["pooling"] = {"enum": ["mean", "cls"]}
    if model.variant == "bge-m3":
        props["truncate_inputs"] = {"type": "boolean"}
        props["query"] = {"type": "string", "minLength": 1}
        props["contexts"] = {
            "type": "array",
            "minItems": 1,
            "maxItems": model.max_items,
            "items": {"type": "object", "required": ["text"], "properties": {"text": texts}},
        }
        return {
            "type": "object",
            "anyOf": [{"required": ["text"]}, {"required": ["contexts"]}],
            "properties": props,
        }
    return {"type": "object", "required": ["text"], "properties": props}


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def _check_length(model: Model, texts: list[str], truncate: bool) -> None:
    # bge-m3 with truncate_inputs=false refuses over-long inputs; bge small/base/large truncate.
    if model.variant != "bge-m3" or truncate:
        return
    for text in texts:
        if count_tokens(text) > model.context_window:
            raise AiError(3010, "Invalid or incomplete input for the model: input is too long")


def run_embedding(call: Call) -> Result:
    """Embed `text` (or qwen3's queries/documents, or bge-m3's query + contexts)."""
    model, inputs = call.model, call.inputs
    schema.validate(inputs, input_schema(model))
    pooling = inputs.get("pooling", "mean")
    if model.variant == "qwen3":
        texts = _as_list(inputs.get("queries")) + _as_list(inputs.get("documents"))
        texts += _as_list(inputs.get("text"))
        if len(texts) > model.max_items:
            raise AiError(5006, f"Bad input: Error: maxItems at '/' not met, {len(texts)} > 32")
        data = [vector(model, t) for t in texts]
        return Json({"shape": [len(data), model.dims], "data": data})
    if model.variant == "bge-m3" and "contexts" in inputs:
        contexts = [c["text"] for c in inputs["contexts"]]
        contexts = [c if isinstance(c, str) else " ".join(c) for c in contexts]
        _check_length(model, contexts, bool(inputs.get("truncate_inputs")))
        if "query" in inputs:
            # Rerank: score = cosine similarity between query and each context, best first.
            q = vector(model, inputs["query"], pooling)
            scores = [
                sum(a * b for a, b in zip(q, vector(model, c, pooling), strict=True))
                for c in contexts
            ]
            ranked = sorted(range(len(contexts)), key=lambda i: -scores[i])
            return Json({"response": [{"id": i, "score": scores[i]} for i in ranked]})
        data = [vector(model, c, pooling) for c in contexts]
        return Json({"response": data, "shape": [len(data), model.dims], "pooling": pooling})
    texts = _as_list(inputs["text"])
    _check_length(model, texts, bool(inputs.get("truncate_inputs")))
    data = [vector(model, t, pooling) for t in texts]
    out: dict = {"shape": [len(data), model.dims], "data": data}
    if model.variant in ("bge", "bge-m3"):
        out["pooling"] = pooling
    return Json(out)
