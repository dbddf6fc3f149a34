"""`GET /openapi.json`: the OpenAPI 3.1 document of the public API; no auth, so tools can read it.

The document is built on the first request (the import is inside the handler) and kept for the
isolate's life: it costs nothing at cold start and little after. Its server is `/`, so it
names no host and one copy serves every origin.
"""

from __future__ import annotations

from functools import cache

from core.exchange import JSON_TYPE, Call, Reply, dumps


@cache
def _text() -> str:
    from mapping import openapi_doc

    return dumps(openapi_doc.document())


async def show(call: Call) -> Reply:
    """The document."""
    return Reply(200, _text(), {"content-type": JSON_TYPE})
