"""The Worker's entry point: a module-level `on_fetch`, not a `WorkerEntrypoint` class.

For a class, workerd builds an instance per request (one more call into Python) and sends
the request and the response through the SDK's RPC conversions (`wrapper_func`); the plain
handler skips both, ≈ 0.6 ms of CPU per request on `make bench` (docs/performance.md). It
needs the `disable_python_no_global_handlers` flag (wrangler.toml).
"""

from typing import Any

from workers import handler

from bridge import adapter


@handler
async def on_fetch(request: Any, env: Any) -> Any:
    """Every HTTP request goes through the one pipeline in `app`."""
    return await adapter.serve(request, env)
