"""The one place the Worker runs Workers AI: every `env.AI.run` goes through `run`.

It applies the run options the settings ask for (AI Gateway) and so no endpoint can forget
them; the adapter under it maps binding failures to `ApiError`s (`core.errors.upstream_error`).
"""

from __future__ import annotations

import json
from typing import Any

from core.config import Config
from core.exchange import Call


def run_options(settings: Config) -> dict | None:
    """Options for `env.AI.run`: route through AI Gateway when AI_GATEWAY_ID is set."""
    return {"gateway": {"id": settings.ai_gateway_id}} if settings.ai_gateway_id else None


async def run(call: Call, model_id: str, inputs: dict) -> Any:
    """`env.AI.run(model_id, inputs)` with the request's run options."""
    return await call.env.ai.run(model_id, inputs, run_options(call.settings))


async def whole(result: Any) -> Any:
    """A JSON result; a stream we did not ask for is read and parsed."""
    if hasattr(result, "read_all"):
        raw = await result.read_all()
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")
    return result
