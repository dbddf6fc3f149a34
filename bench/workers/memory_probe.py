"""Bench-only main module: the Worker as deployed, plus one path that reports Pyodide's memory.

`bench.uploads` runs the Worker with this as its main module (the Worker's own modules beside
it, unchanged), so the shipped Worker's request paths gain nothing. `GET /__bench/memory`
answers `{"wasm_bytes": N}`: the size of Pyodide's WebAssembly memory (`HEAPU8` of the
Emscripten module, which `pyodide_js._module` exposes inside workerd). Wasm memory only grows,
so its size is the most the Python heap has held since the isolate started.
`POST /__bench/floor?step=read|base64|run` hands the JS request and the JS env straight to
`bench_base64_floor.mjs` (base64_floor.mjs), so nothing of that request passes through Python.
"""

from typing import Any

import js
import pyodide_js
from workers import import_from_javascript

import entry

PROBE_PATH = "/__bench/memory"
FLOOR_PATH = "/__bench/floor"


async def on_fetch(request: Any, env: Any) -> Any:
    """Every request goes to the Worker, except the probe."""
    path, _, query = str(request.url).partition("?")
    if path.endswith(PROBE_PATH):
        size = int(pyodide_js._module.HEAPU8.length)
        return js.Response.new(f'{{"wasm_bytes":{size}}}')
    if path.endswith(FLOOR_PATH):
        module = import_from_javascript("bench_base64_floor.mjs")
        return await module.floor(request, env, query.removeprefix("step="))
    return await entry.on_fetch(request, env)
