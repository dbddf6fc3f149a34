"""`POST /v1/moderations`: HTTP glue over `mapping.moderation` (Llama Guard 3), one call per
input, all concurrently."""

from __future__ import annotations

import asyncio
import secrets

from core.exchange import Call, Reply, json_reply
from mapping import catalog, moderation
from mapping.moderation import Verdict
from upstream import ai


async def _judge(call: Call, model_id: str, text: str) -> Verdict:
    if not text.strip():
        return Verdict(False)  # nothing to judge; spares an upstream call
    return moderation.parse_verdict(await ai.run(call, model_id, moderation.to_upstream(text)))


async def create(call: Call) -> Reply:
    """Moderate each input with one Llama Guard call, all concurrently, results in input order."""
    body = await call.json()
    texts = moderation.parse_input(body.get("input"))
    settings = call.settings
    model = catalog.model_for(body.get("model"), catalog.MODERATION, settings)
    verdicts = await asyncio.gather(*(_judge(call, model.id, text) for text in texts))
    return json_reply(
        {
            "id": f"modr-{secrets.token_hex(12)}",
            "model": model.id,
            "results": [moderation.to_result(v) for v in verdicts],
        }
    )
