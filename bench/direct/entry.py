"""The baseline for `make bench`: a Worker that only calls `env.AI.run` and returns its JSON."""

from typing import Any

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    """One `env.AI.run` per request, nothing else."""

    async def fetch(self, request: Any) -> Any:
        result = await self.env.AI.run("@cf/meta/llama-3.1-8b-instruct-fast", {"prompt": "hi"})
        return Response.json(result)
