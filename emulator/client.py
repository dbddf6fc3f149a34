"""A stdlib client for the emulator's `/__emulator/` controls, for tests.

control = EmulatorControl("http://127.0.0.1:PORT")
control.fault(model="*", code=3040)
control.script(model="@cf/meta/llama-3.1-8b-instruct-fast", chunks=["data: {\\"resp", ...])
control.requests()  # what the emulator received
control.wait_abandoned()  # did the client of the latest run hang up mid-stream?
control.reset()
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any


class EmulatorControl:
    """Calls the control endpoints of an emulator at `base_url`."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, name: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/__emulator/{name}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read() or b"null")

    def fault(self, **spec: Any) -> None:
        """Queue a fault: model, times, code, status, message, latency_ms, token_delay_ms,
        abort_after_events."""
        self._call("POST", "faults", spec)

    def script(self, **spec: Any) -> None:
        """Queue a scripted answer: model, times, status, content_type, and one of json (+raw),
        chunks or chunks_b64 (+chunk_delay_ms) or body_b64."""
        self._call("POST", "responses", spec)

    def requests(self) -> list[dict]:
        """The run requests received so far."""
        return self._call("GET", "requests")

    def wait_abandoned(self, timeout: float = 5.0) -> bool:
        """Whether the latest run request is marked abandoned (its client hung up mid-stream)
        within `timeout` seconds; the emulator notices on its next write."""
        deadline = time.monotonic() + timeout
        while not self.requests()[-1]["abandoned"]:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def quirks(self, **changes: Any) -> dict:
        """Pick platform behaviours (emulator/controls.py QUIRKS); no arguments: read them."""
        if not changes:
            return self._call("GET", "quirks")
        return self._call("POST", "quirks", changes)

    def agreements(self) -> list[str]:
        """Models whose license terms were agreed to (`{"prompt": "agree"}`)."""
        return self._call("GET", "agreements")

    def clear_agreements(self) -> None:
        """Forget every license agreement: gated models answer 5016 again."""
        self._call("DELETE", "agreements")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def clear_scripts(self) -> None:
        self._call("DELETE", "responses")

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def reset(self) -> None:
        """Clear faults, scripts and the request log."""
        self._call("POST", "reset")

    def health(self) -> dict:
        return self._call("GET", "health")
