"""The Python baseline for `make bench`: one `env.AI.run` per request, nothing else.

`?stream=1` returns the upstream stream as the body (Python pass-through), otherwise the JSON.
"""

from typing import Any

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    """One `env.AI.run` per request."""

    async def fetch(self, request: Any) -> Any:
        stream = "stream=1" in str(request.url)
        model = "@cf/meta/llama-3.1-8b-instruct-fast"
        result = await self.env.AI.run(model, {"prompt": "hi", "stream": stream})
        if stream:
            return Response(result, headers={"content-type": "text/event-stream"})
        return Response.json(result)
