"""The Python baselines for `make bench`: one `env.AI.run` per request, nothing else.

`?stream=1` returns the upstream stream as the body (Python pass-through), otherwise the JSON;
`&shape=<name>` asks for one of fake-ai.mjs's upstream shapes.
`/hello` skips the binding and answers a JS `Response` built directly: what any request to a
Python Worker costs before its own code runs.
"""

from typing import Any

from js import Response as JsResponse
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    """One `env.AI.run` per request."""

    async def fetch(self, request: Any) -> Any:
        url = str(request.url)
        if url.endswith("/hello"):
            return JsResponse.new("ok")
        stream = "stream=1" in url
        model = "@cf/meta/llama-3.1-8b-instruct-fast"
        inputs = {"prompt": "hi", "stream": stream}
        if shape := url.partition("shape=")[2]:  # fake-ai's upstream shape, by the last message
            inputs = {"messages": [{"role": "user", "content": f"bench:{shape}"}], "stream": stream}
        result = await self.env.AI.run(model, inputs)
        if stream:
            return Response(result, headers={"content-type": "text/event-stream"})
        return Response.json(result)
