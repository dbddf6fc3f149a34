"""The Worker's entry point: a module-level `on_fetch`, not a `WorkerEntrypoint` class.

For a class, workerd builds an instance per request (one more call into Python) and sends
the request and the response through the SDK's RPC conversions (`wrapper_func`); the plain
handler skips both, and without the SDK's `handler` decorator the request and the bindings
stay plain JS objects, which bridge.adapter converts itself (no wrapper walking every value).
Together ≈ 0.8 ms of CPU per request on `make bench` (docs/performance.md). It needs the
`disable_python_no_global_handlers` flag (wrangler.toml).
"""

from typing import Any

from bridge import adapter


async def on_fetch(request: Any, env: Any) -> Any:
    """Every HTTP request goes through the one pipeline in `app`."""
    return await adapter.serve(request, env)
