"""Stored Responses (`store: true`) in the optional `RESPONSES` KV namespace.

    key    resp:<scope>:<response id>     scope: a fingerprint of the API key that made it
    value  {"response": Response, "input": [this request's input items],
            "context": [the items the model saw before them]}

A response is found only under the fingerprint of the key that created it, so another key gets
the same 404 as for an id that never existed. Entries expire after RESPONSES_TTL_SECONDS
(default 30 days). `previous_response_id` continues from `context + input + output`; an
`item_reference` finds its item through the response id that our item ids carry.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from core.errors import ApiError, invalid
from core.exchange import Kv, dumps
from mapping import responses

ENABLE = (
    "To enable storage, bind a KV namespace as RESPONSES in wrangler.toml: "
    '[[kv_namespaces]] binding = "RESPONSES" id = "<the id that '
    '`npx wrangler kv namespace create RESPONSES` prints>".'
)


class Record(TypedDict):
    """One stored response."""

    response: dict[str, Any]
    input: list[dict]
    context: list[dict]


def scope(key_id: str | None) -> str:
    """What scopes stored responses to one API key: its fingerprint (`auth.fingerprint`), or
    one shared scope when the server runs without keys."""
    return key_id or "anonymous"


def not_found(response_id: str, param: str | None = None) -> ApiError:
    return ApiError(
        404, f"Response with id '{response_id}' not found.", "invalid_request_error", param
    )


class Store:
    """Stored responses of one API key; `kv` None means storage is not configured."""

    def __init__(self, kv: Kv | None, scope: str, ttl: int) -> None:
        self.kv = kv
        self.scope = scope
        self.ttl = ttl

    def _key(self, response_id: str) -> str:
        return f"resp:{self.scope}:{response_id}"

    def _require(self, what: str, param: str | None, status: int = 400) -> Kv:
        if self.kv is None:
            raise ApiError(
                status,
                f"{what} needs stored responses, and this Worker has no storage. {ENABLE}",
                "invalid_request_error",
                param,
                "storage_not_configured",
            )
        return self.kv

    async def load(self, response_id: str, param: str | None = None) -> Record:
        """The stored record, or 404 (400 naming `param` when the request points at it)."""
        status = 404 if param is None else 400
        kv = self._require(f"Reading response '{response_id}'", param, status)
        raw = await kv.get(self._key(response_id))
        if raw is None:
            if param is None:
                raise not_found(response_id)
            raise invalid(f"Previous response with id '{response_id}' not found.", param)
        return json.loads(raw)

    async def save(self, response: dict[str, Any], inputs: list[dict], context: list[dict]) -> None:
        """Keep a response with what it answered (needs the binding)."""
        assert self.kv is not None
        record = Record(response=response, input=inputs, context=context)
        await self.kv.put(self._key(response["id"]), dumps(record), self.ttl)

    async def delete(self, response_id: str) -> None:
        kv = self._require(f"Deleting response '{response_id}'", None, 404)
        key = self._key(response_id)
        if await kv.get(key) is None:
            raise not_found(response_id)
        await kv.delete(key)

    async def history(self, response_id: str) -> list[dict]:
        """The items a response continued from, its input and its output, in order."""
        record = await self.load(response_id, "previous_response_id")
        return [*record["context"], *record["input"], *record["response"]["output"]]

    async def resolve(self, items: list[dict]) -> list[dict]:
        """`item_reference` items replaced by the stored items they name."""
        out = []
        records: dict[str, Record] = {}
        for number, item in enumerate(items):
            if item["type"] != "item_reference":
                out.append(item)
                continue
            param = f"input[{number}].id"
            owner = responses.response_of_item(item["id"])
            self._require(f"The item_reference '{item['id']}'", param)
            if owner is not None and owner not in records:
                try:
                    records[owner] = await self.load(owner, param)
                except ApiError:
                    owner = None
            record = records.get(owner) if owner else None
            stored = record and [
                i
                for i in (*record["response"]["output"], *record["input"])
                if i.get("id") == item["id"]
            ]
            if not stored:
                raise invalid(f"Item with id '{item['id']}' not found.", param)
            out.append(stored[0])
        return out
