"""`GET /health`: liveness for uptime checks; no auth, no upstream call."""

from __future__ import annotations

from core.exchange import Call, Reply, json_reply


async def show(call: Call) -> Reply:
    """`{"status": "ok"}`."""
    return json_reply({"status": "ok"})
