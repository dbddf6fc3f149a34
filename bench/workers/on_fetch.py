"""`make bench`: the other way to write a Python Worker, a module-level `on_fetch` handler
instead of a `WorkerEntrypoint` class (what src/entry.py does), by what it costs per request.

`/hello` answers a JS `Response` built directly (`/cross` after 100 reads of a property of the
JS request: what one call into JavaScript costs); `/json` answers `env.AI.run`'s JSON through
the SDK's binding wrapper (`workers.handler`, as src/entry.py), `/raw` the same through the JS
binding itself, converting inputs and answer here.
"""

import json
from typing import Any

from js import Object
from js import Response as JsResponse
from pyodide.ffi import to_js
from workers import handler

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
INPUTS = {"prompt": "hi"}
CROSSINGS = 100


@handler
async def _through_sdk(request: Any, env: Any) -> Any:
    result = await env.AI.run(MODEL, INPUTS)
    return JsResponse.new(json.dumps(result))


async def on_fetch(request: Any, env: Any) -> Any:
    """The cheapest answers a Python Worker can give, with and without the SDK's wrappers."""
    url = str(request.url)
    if url.endswith("/json"):
        return await _through_sdk(request, env)
    if url.endswith("/cross"):
        for _ in range(CROSSINGS):
            str(request.method)  # one property read of a JS object: a call into JavaScript
        return JsResponse.new("ok")
    if url.endswith("/raw"):
        result = await env.AI.run(MODEL, to_js(INPUTS, dict_converter=Object.fromEntries))
        return JsResponse.new(json.dumps(result.to_py()))
    return JsResponse.new("ok")
