"""Bench-only main module: the Worker as deployed, plus one path that reports Pyodide's memory.

`bench.uploads` runs the Worker with this as its main module (the Worker's own modules beside
it, unchanged), so the shipped Worker's request paths gain nothing. `GET /__bench/memory`
answers `{"wasm_bytes": N}`: the size of Pyodide's WebAssembly memory (`HEAPU8` of the
Emscripten module, which `pyodide_js._module` exposes inside workerd). Wasm memory only grows,
so its size is the most the Python heap has held since the isolate started.
"""

from typing import Any

import js
import pyodide_js

from entry import Default as Worker

PROBE_PATH = "/__bench/memory"


class Default(Worker):
    """Every request goes to the Worker, except the probe."""

    async def fetch(self, request: Any) -> Any:
        if str(request.url).split("?", 1)[0].endswith(PROBE_PATH):
            size = int(pyodide_js._module.HEAPU8.length)
            return js.Response.new(f'{{"wasm_bytes":{size}}}')
        return await super().fetch(request)
