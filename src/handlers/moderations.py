"""`POST /v1/moderations`: OpenAI's moderation API answered by Llama Guard 3.

    parse_input(value)        `input` -> texts, one result each (400s name `input`)
    to_upstream(text)         the Llama Guard conversation for one text
    to_result(verdict)        a Llama Guard verdict -> one OpenAI moderation result

Llama Guard gives a verdict, not probabilities: `category_scores` are 1.0 or 0.0. The hazard
mapping is in `llamaguard` and docs/moderation.md.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from core import config
from core.errors import invalid
from core.exchange import Call, Reply, json_reply
from mapping import catalog
from mapping.moderation import CATEGORIES, Verdict, openai_categories, parse_verdict

MAX_INPUTS = 32  # one Llama Guard call each; keeps a request within Workers' subrequest budget
_TEXT_ONLY = {category: ["text"] for category in CATEGORIES}


def _type_error() -> Exception:
    return invalid(
        "Invalid type for 'input': expected a string, an array of strings, or an array of "
        "text input objects.",
        "input",
    )


def _parts_text(parts: list) -> str:
    """One input made of OpenAI's multi-modal parts; only text parts can be moderated here."""
    texts: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            raise _type_error()
        if part.get("type") == "image_url":
            raise invalid(
                "Image inputs are not supported: the moderation model (Llama Guard 3) reads "
                "text only.",
                "input",
                "unsupported_input",
            )
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise invalid('Each input object must be {"type": "text", "text": "..."}.', "input")
        texts.append(part["text"])
    return "\n".join(texts)


def parse_input(value: Any) -> list[str]:
    """The texts to moderate: a string, an array of strings (one result each), or an array of
    `{"type": "text"}` parts (one result for all of them)."""
    if value is None:
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise _type_error()
    if not value:
        raise invalid("'input' must not be an empty array.", "input")
    if all(isinstance(v, dict) for v in value):
        return [_parts_text(value)]
    if not all(isinstance(v, str) for v in value):
        raise _type_error()
    if len(value) > MAX_INPUTS:
        raise invalid(
            f"'input' has {len(value)} items; at most {MAX_INPUTS} are allowed per request.",
            "input",
            "invalid_value",
        )
    return value


def to_upstream(text: str) -> dict:
    """Llama Guard classifies the last message; a user turn asks it to judge a prompt."""
    return {"messages": [{"role": "user", "content": text}]}


def to_result(verdict: Verdict) -> dict:
    """One OpenAI moderation result, plus the Llama Guard hazard codes as `hazard_categories`."""
    categories = openai_categories(verdict)
    return {
        "flagged": verdict.unsafe,
        "categories": categories,
        "category_scores": {k: 1.0 if v else 0.0 for k, v in categories.items()},
        "category_applied_input_types": {k: list(v) for k, v in _TEXT_ONLY.items()},
        "hazard_categories": list(verdict.hazards),
    }


async def _judge(call: Call, model_id: str, text: str) -> Verdict:
    if not text.strip():
        return Verdict(False)  # nothing to judge; spares an upstream call
    return parse_verdict(await call.env.ai.run(model_id, to_upstream(text)))


async def create(call: Call) -> Reply:
    """Moderate each input with one Llama Guard call, all concurrently, results in input order."""
    body = await call.json()
    texts = parse_input(body.get("input"))
    settings = config.load(call.env.vars)
    model = catalog.model_for(body.get("model"), catalog.MODERATION, settings)
    verdicts = await asyncio.gather(*(_judge(call, model.id, text) for text in texts))
    return json_reply(
        {
            "id": f"modr-{secrets.token_hex(12)}",
            "model": model.id,
            "results": [to_result(v) for v in verdicts],
        }
    )
