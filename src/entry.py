"""The Worker's entry point: Cloudflare instantiates `Default` per request."""

from typing import Any

from workers import WorkerEntrypoint

from bridge import adapter


class Default(WorkerEntrypoint):
    """Every HTTP request goes through the one pipeline in `app`."""

    async def fetch(self, request: Any) -> Any:
        return await adapter.serve(request, self.env)
