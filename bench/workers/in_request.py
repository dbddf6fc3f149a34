"""`make bench`: what steps of a request cost inside workerd, each repeated within ONE request.

`/?step=<name>&n=<count>` runs the step `count` times and answers "ok"; the bench subtracts a
request that runs none (`step=none`), so workerd's per-request cost drops out and what is left
is the step's. The Worker's modules (and tests/unit/fakes.py, as `fakes`) are beside this one,
unchanged, so the pipeline steps run the Worker's own code:

- `turn`: one turn of Pyodide's event loop (`asyncio.sleep(0)`);
- `js_await`: awaiting a settled JS promise;
- `deadline`: entering and leaving `asyncio.timeout`, as `upstream.ai.run` does per call;
- `ai`: one `env.AI.run` through `bridge.adapter` (inputs converted in, the answer out);
- `health_fakes`, `chat_fakes`: `app.handle` with the unit tests' plain-Python request and
  binding (no JavaScript), as on CPython and Node (docs/performance.md);
- `serve_chat`: the whole pipeline, `adapter.serve`, on a JS `Request` made here (with its
  `content-length`, as a client sends it) and the bench's `env.AI`.
"""

import asyncio
import json
from typing import Any

import fakes
import js

from bridge import adapter

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
CHAT = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
CHAT_HEADERS = {
    "authorization": "Bearer sk-bench",
    "content-type": "application/json",
    "content-length": str(len(CHAT)),
}


async def _run(step: str, n: int, env: Any) -> None:
    if step == "turn":
        for _ in range(n):
            await asyncio.sleep(0)
    elif step == "js_await":
        for _ in range(n):
            await js.Promise.resolve(1)
    elif step == "deadline":
        for _ in range(n):
            async with asyncio.timeout(120):
                pass
    elif step == "ai":
        ai = adapter._Ai(env.AI)
        for _ in range(n):
            await ai.run(MODEL, {"prompt": "hi"})
    elif step == "health_fakes":
        for _ in range(n):
            await fakes.serve(fakes.make_call())
    elif step == "chat_fakes":
        body = json.loads(CHAT)
        for _ in range(n):
            await fakes.serve(
                fakes.make_call("POST", "/v1/chat/completions", body=body, headers=fakes.AUTH)
            )
    elif step == "serve_chat":
        init = adapter._js_object({"method": "POST", "headers": CHAT_HEADERS, "body": CHAT})
        for _ in range(n):
            await adapter.serve(js.Request.new("http://bench/v1/chat/completions", init), env)
    elif step != "none":
        raise ValueError(step)


async def on_fetch(request: Any, env: Any) -> Any:
    """Runs `?step=` `?n=` times; "ok"."""
    query = dict(pair.split("=") for pair in str(request.url).partition("?")[2].split("&"))
    await _run(query["step"], int(query["n"]), env)
    return js.Response.new("ok")
