"""`make bench`: the other way to write a Python Worker, a module-level `on_fetch` handler
instead of a `WorkerEntrypoint` class, answering a JS `Response` built directly (`/hello`
of direct.py, without the class)."""

from typing import Any

from js import Response as JsResponse


async def on_fetch(request: Any, env: Any) -> Any:
    """The cheapest answer a Python Worker can give."""
    return JsResponse.new("ok")
