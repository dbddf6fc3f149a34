"""`GET /v1/models` and `GET /v1/models/{id}` from the catalog, in OpenAI's list shape."""

from __future__ import annotations

from urllib.parse import unquote

from core.exchange import Call, Reply, json_reply
from mapping import catalog


async def list_models(call: Call) -> Reply:
    """Every catalog model and alias."""
    settings = call.settings
    return json_reply({"object": "list", "data": catalog.listing(settings)})


async def retrieve(call: Call) -> Reply:
    """One model or alias; ids with slashes may be sent percent-encoded."""
    settings = call.settings
    return json_reply(catalog.describe(unquote(call.params["model"]), settings))
