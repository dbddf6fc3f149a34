"""Test controls: queued faults, scripted answers and the log of run requests.

All of it is process-global state behind one lock, because the server handles each request on
its own thread. A fault or script applies to the next `times` requests whose model matches
(`"*"` matches any); `times: null` keeps it until `DELETE`.
"""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import CODES


class ControlError(ValueError):
    """A malformed control request (answered with HTTP 400)."""


@dataclass
class Fault:
    """An injected failure or slowdown for matching run requests."""

    model: str = "*"
    times: int | None = 1
    code: int | None = None
    status: int | None = None
    message: str | None = None
    latency_ms: int = 0
    token_delay_ms: int = 0
    abort_after_events: int | None = None


@dataclass
class Script:
    """An exact answer to send instead of running the model."""

    model: str = "*"
    times: int | None = 1
    status: int = 200
    content_type: str | None = None
    json: Any = None
    has_json: bool = False
    raw: bool = False
    chunks: list[bytes] | None = None
    chunk_delay_ms: int = 0
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _int(spec: dict, key: str, default: int | None) -> int | None:
    value = spec.get(key, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ControlError(f"'{key}' must be a non-negative integer")
    return value


def _times(spec: dict) -> int | None:
    times = _int(spec, "times", 1)
    if times == 0:
        raise ControlError("'times' must be at least 1, or null for unlimited")
    return times


def parse_fault(spec: dict) -> Fault:
    """Validate a `POST /__emulator/faults` body."""
    known = set(Fault.__dataclass_fields__)
    unknown = set(spec) - known
    if unknown:
        raise ControlError(f"unknown fault fields: {sorted(unknown)}")
    code = _int(spec, "code", None)
    fault = Fault(
        model=str(spec.get("model", "*")),
        times=_times(spec),
        code=code,
        status=_int(spec, "status", None),
        message=spec.get("message"),
        latency_ms=_int(spec, "latency_ms", 0) or 0,
        token_delay_ms=_int(spec, "token_delay_ms", 0) or 0,
        abort_after_events=_int(spec, "abort_after_events", None),
    )
    if code is None and fault.status is not None:
        raise ControlError("'status' needs a 'code'")
    if code is not None and code not in CODES and fault.status is None:
        # Unknown codes are allowed but default to 400; say so rather than guess silently.
        fault.status = 400
    return fault


def parse_script(spec: dict) -> Script:
    """Validate a `POST /__emulator/responses` body."""
    script = Script(
        model=str(spec.get("model", "*")),
        times=_times(spec),
        status=_int(spec, "status", 200) or 200,
        content_type=spec.get("content_type"),
        raw=bool(spec.get("raw", False)),
        chunk_delay_ms=_int(spec, "chunk_delay_ms", 0) or 0,
        headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
    )
    given = [k for k in ("json", "chunks", "chunks_b64", "body_b64") if k in spec]
    if len(given) != 1:
        raise ControlError("give exactly one of 'json', 'chunks', 'chunks_b64', 'body_b64'")
    if "json" in spec:
        script.json, script.has_json = spec["json"], True
    elif "chunks" in spec:
        chunks = spec["chunks"]
        if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
            raise ControlError("'chunks' must be a list of strings")
        script.chunks = [c.encode() for c in chunks]
    elif "chunks_b64" in spec:
        # Byte-exact chunks: a network chunk may end inside a multi-byte character.
        try:
            script.chunks = [base64.b64decode(c, validate=True) for c in spec["chunks_b64"]]
        except (binascii.Error, ValueError, TypeError) as exc:
            raise ControlError(f"'chunks_b64' must be a list of base64 strings: {exc}") from None
    else:
        try:
            script.body = base64.b64decode(spec["body_b64"], validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise ControlError(f"'body_b64' is not base64: {exc}") from None
    return script


# Platform behaviours that are uncertain or account-dependent: the emulator offers each choice so
# a test can cover the Worker under every one. name -> (allowed values, default).
QUIRKS: dict[str, tuple[tuple[Any, ...], Any]] = {
    # gpt-oss and Kimi on /ai/run (workers-ai.md §1.2, §8.1; cloudflare/ai CHANGELOG #396):
    # "json" = they ignore `stream` and answer JSON, with an EMPTY result when `stream: true`
    # was sent (certain over REST); "sse" = they answer text/event-stream (the binding's schema
    # allows it; the shape is unknown, so chat.completion.chunk / Responses events are used).
    "unstreamed_models": (("json", "sse"), "json"),
    # Workers Paid plan: kimi-k2.6/k2.7, glm-5.2, deepseek-v4 answer 5035 on Free (§9.3).
    "paid_plan": ((False, True), False),
    # Chat Completions models: a usage chunk only when `stream_options.include_usage` is true
    # (OpenAI's and vLLM's rule, which these models' schemas copy), or always.
    "usage_chunk": (("when_asked", "always"), "when_asked"),
    # whisper-large-v3-turbo `task: "translate"`: "honour" it, or "ignore" it and answer in the
    # spoken language (OpenAI: turbo was not trained for translation).
    "turbo_translate": (("honour", "ignore"), "honour"),
    # The language the uploaded audio "contains" when no `language` input says (the emulator
    # cannot hear): whisper-large-v3-turbo reports it in transcription_info.language.
    "spoken_language": (("en", "fr", "de", "es", "ja", "zh"), "en"),
    # whisper-large-v3-turbo's stream (raw body) input form: "accept" it, or "reject" it with
    # 5006 as if only the documented base64 string existed.
    "turbo_stream_input": (("accept", "reject"), "accept"),
}


def parse_quirks(spec: dict) -> dict[str, Any]:
    """Validate a `POST /__emulator/quirks` body (a partial update)."""
    for name, value in spec.items():
        if name not in QUIRKS:
            raise ControlError(f"unknown quirk {name!r}; known: {sorted(QUIRKS)}")
        allowed = QUIRKS[name][0]
        if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
            raise ControlError(f"quirk {name!r} must be one of {list(allowed)}")
    return dict(spec)


def default_quirks() -> dict[str, Any]:
    return {name: default for name, (_, default) in QUIRKS.items()}


class Controls:
    """The emulator's mutable test state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._scripts: list[Script] = []
        self._log: list[dict] = []
        self._quirks: dict[str, Any] = default_quirks()
        # Models whose license the account agreed to with `{"prompt": "agree"}` (5016 until then).
        self._agreed: set[str] = set()

    def quirks(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._quirks)

    def set_quirks(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._quirks.update(changes)
            return dict(self._quirks)

    def agree(self, model: str) -> None:
        with self._lock:
            self._agreed.add(model)

    def has_agreed(self, model: str) -> bool:
        with self._lock:
            return model in self._agreed

    def agreements(self) -> list[str]:
        with self._lock:
            return sorted(self._agreed)

    def clear_agreements(self) -> None:
        with self._lock:
            self._agreed.clear()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def add_script(self, script: Script) -> None:
        with self._lock:
            self._scripts.append(script)

    def take_fault(self, model: str) -> Fault | None:
        """Consume one use of the first fault matching `model`."""
        with self._lock:
            return self._take(self._faults, model)

    def take_script(self, model: str) -> Script | None:
        """Consume one use of the first script matching `model`."""
        with self._lock:
            return self._take(self._scripts, model)

    @staticmethod
    def _take(queue: list, model: str) -> Any:
        for i, item in enumerate(queue):
            if item.model in ("*", model):
                if item.times is not None:
                    item.times -= 1
                    if item.times == 0:
                        del queue[i]
                return item
        return None

    def record(self, entry: dict) -> None:
        with self._lock:
            self._log.append(entry)

    def requests(self) -> list[dict]:
        with self._lock:
            return list(self._log)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._scripts.clear()
            self._log.clear()
            self._quirks = default_quirks()
            self._agreed.clear()
