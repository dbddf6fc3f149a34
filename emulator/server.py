"""The HTTP server: Workers AI's REST run endpoint plus the `/__emulator/` test controls.

Routes:
- `POST /client/v4/accounts/{account_id}/ai/run/{model}`: run a model (model ids have slashes);
- `GET /__emulator/health`, `POST|DELETE /__emulator/faults`, `POST|DELETE /__emulator/responses`,
  `GET|DELETE /__emulator/requests`, `POST /__emulator/reset`.

Responses are HTTP/1.1: JSON and binary bodies with Content-Length, streams chunked and flushed
per event, so an aborted stream is a chunked body that never gets its terminating chunk.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from emulator import embeddings, guard, images, speech, text, translation
from emulator.calls import Binary, Call, Json, Result, Stream
from emulator.controls import (
    ControlError,
    Controls,
    Fault,
    Script,
    parse_fault,
    parse_quirks,
    parse_script,
)
from emulator.errors import (
    AUTH_ERROR_BODY,
    METHOD_NOT_ALLOWED_BODY,
    NOT_FOUND_BODY,
    AiError,
    bad_input,
    no_such_model,
)
from emulator.models import lookup
from emulator.sse import dumps

RUN_PATH = re.compile(r"^/client/v4/accounts/([^/]+)/ai/run/(.+)$")
# Cloudflare's network-wide request body limit, which api.cloudflare.com sits behind: "100 MB"
# on the Free and Pro plans (cloudflare-docs src/content/docs/workers/platform/limits.mdx
# @ 01589d2e, "Request limits"; 200 MB Business, 500 MB Enterprise). Larger bodies answer 3006
# (413, "Request is too large").
MAX_BODY = 100_000_000
JSON_TYPE = "application/json"  # exactly this string: the binding compares it verbatim
# Query keys that are run options, not model inputs (docs/workers-ai.md §1.1, §8.1).
RUN_OPTIONS = frozenset(
    {"queueRequest", "tags", "gateway", "returnRawResponse", "websocket", "rejectIfBusy",
     "version", "userInputs", "prefix", "extraHeaders"}
)  # fmt: skip
SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}

FAMILIES: dict[str, Callable[[Call], Result]] = {
    "native": text.run_native,
    "chat": text.run_chat,
    "gpt-oss": text.run_gpt_oss,
    "guard": guard.run_guard,
    "embedding": embeddings.run_embedding,
    "image": images.run_image,
    "asr": speech.run_asr,
    "tts": speech.run_tts,
    "translation": translation.run_translation,
}
# Families whose binary request body is the value of one input.
BINARY_INPUT = {"asr": "audio"}


def _query_value(raw: str) -> Any:
    """Query-string inputs are strings on the wire; accept JSON literals (true, 3, [..])."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class EmulatorServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with the emulator's state; daemon threads so streams never block exit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], require_auth: bool, token_delay_ms: int) -> None:
        super().__init__(address, Handler)
        self.controls = Controls()
        self.require_auth = require_auth
        self.token_delay_ms = token_delay_ms
        self.queued: dict[str, dict] = {}  # request_id -> batch answer (queueRequest)
        self.queued_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    """One request; routing is a small table on method and path."""

    protocol_version = "HTTP/1.1"
    server: EmulatorServer
    timeout = 300  # an idle keep-alive connection is dropped after this
    logged: dict[str, Any] | None = None  # this connection's latest run, as in the request log

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet by default: tests start many requests."""

    # -- responses -----------------------------------------------------------------------------

    def _start(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("cf-ai-req-id", str(uuid.uuid4()))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def send_body(self, status: int, content_type: str, body: bytes, **extra: str) -> None:
        """A complete response with Content-Length."""
        self._start(
            status, {"content-type": content_type, "content-length": str(len(body)), **extra}
        )
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status: int, obj: Any) -> None:
        self.send_body(status, JSON_TYPE, dumps(obj).encode())

    def send_error_body(self, error: AiError) -> None:
        self.send_json(error.http_status, error.body())

    def send_truncated(self, status: int, content_type: str, body: bytes) -> None:
        """Announce the full length, send half, and drop the connection (a cut download)."""
        self._start(status, {"content-type": content_type, "content-length": str(len(body))})
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def send_chunks(
        self,
        status: int,
        headers: dict[str, str],
        chunks: list[bytes],
        delay_ms: int,
        abort_after: int | None = None,
    ) -> None:
        """A chunked body, flushed per chunk; `abort_after` chunks then close without the end."""
        self._start(status, {**headers, "transfer-encoding": "chunked"})
        try:
            for i, chunk in enumerate(chunks):
                if abort_after is not None and i >= abort_after:
                    self.close_connection = True
                    return
                if i and delay_ms:
                    time.sleep(delay_ms / 1000)
                if chunk:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away mid-stream
            if self.logged is not None:
                self.logged["abandoned"] = True

    # -- request reading -----------------------------------------------------------------------

    def read_body(self) -> bytes:
        """The request body, from Content-Length or chunked transfer coding."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            parts, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise AiError(3006)
                parts.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(parts)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self.close_connection = True  # the unread body makes the connection unusable
            raise AiError(3006)
        return self.rfile.read(length) if length else b""

    # -- routing -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    def do_PUT(self) -> None:
        self.route("PUT")

    def do_PATCH(self) -> None:
        self.route("PATCH")

    def route(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/__emulator/"):
            self.control(method, path.removeprefix("/__emulator/").rstrip("/"))
            return
        match = RUN_PATH.match(path)
        if not match:
            self.send_json(404, NOT_FOUND_BODY)
            return
        if method != "POST":
            self.send_body(405, JSON_TYPE, dumps(METHOD_NOT_ALLOWED_BODY).encode(), allow="POST")
            return
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            self.run(match.group(1), unquote(match.group(2)), query)
        except AiError as error:
            self.send_error_body(error)
        except Exception:  # an emulator bug: answer like the service's 3001, keep serving
            traceback.print_exc()
            self.close_connection = True
            self.send_error_body(AiError(3001))

    # -- controls ------------------------------------------------------------------------------

    def control(self, method: str, name: str) -> None:
        controls = self.server.controls
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "health"): lambda: {"status": "ok"},
            ("GET", "requests"): controls.requests,
            ("DELETE", "requests"): controls.clear_requests,
            ("DELETE", "faults"): controls.clear_faults,
            ("DELETE", "responses"): controls.clear_scripts,
            ("POST", "reset"): controls.reset,
            ("POST", "faults"): lambda: controls.add_fault(parse_fault(self._control_body())),
            ("POST", "responses"): lambda: controls.add_script(parse_script(self._control_body())),
            ("GET", "quirks"): controls.quirks,
            ("POST", "quirks"): lambda: controls.set_quirks(parse_quirks(self._control_body())),
            ("GET", "agreements"): controls.agreements,
            ("DELETE", "agreements"): controls.clear_agreements,
        }
        handler = routes.get((method, name))
        if handler is None:
            allowed = [m for (m, n) in routes if n == name]
            if allowed:
                self.send_body(
                    405, JSON_TYPE, b'{"error":"method not allowed"}', allow=", ".join(allowed)
                )
            else:
                self.send_json(404, {"error": f"no control endpoint /__emulator/{name}"})
            return
        try:
            result = handler()
        except ControlError as exc:
            self.send_json(400, {"error": str(exc)})
            return
        self.send_json(200, result if result is not None else {"ok": True})

    def _control_body(self) -> dict:
        try:
            spec = json.loads(self.read_body() or b"{}")
        except ValueError as exc:
            raise ControlError(f"body is not JSON: {exc}") from None
        if not isinstance(spec, dict):
            raise ControlError("body must be a JSON object")
        return spec

    # -- model runs ----------------------------------------------------------------------------

    def run(self, account_id: str, model_id: str, query: dict[str, str]) -> None:
        body = self.read_body()
        content_type = self.headers.get("content-type", "")
        main_type = content_type.split(";")[0].strip().lower()
        is_json = main_type == JSON_TYPE or (
            main_type in ("", "text/plain", "application/x-www-form-urlencoded")
            and body.lstrip()[:1] in (b"{", b"[")
        )
        inputs: Any = None
        parse_error = None
        if is_json:
            try:
                inputs = json.loads(body) if body else None
            except ValueError as exc:
                parse_error = exc
        controls = self.server.controls
        self.logged = {
            "model": model_id,
            "account_id": account_id,
            "content_type": content_type,
            "query": query,
            "inputs": inputs,
            "body_size": len(body),
            # Binary bodies are not logged; their digest shows what arrived, byte for byte.
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "authorization": bool(self.headers.get("authorization")),
            # Set when the client hangs up before a streamed answer is complete.
            "abandoned": False,
        }
        controls.record(self.logged)
        auth = self.headers.get("authorization", "")
        if self.server.require_auth and not auth.lower().startswith("bearer "):
            self.send_json(401, AUTH_ERROR_BODY)
            return
        script = controls.take_script(model_id)
        if script is not None:
            self.send_script(script)
            return
        fault = controls.take_fault(model_id)
        if fault and fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault and fault.code is not None:
            self.send_error_body(AiError(fault.code, fault.message, fault.status))
            return
        if parse_error is not None:
            raise AiError(
                3010,
                f"Invalid or incomplete input for the model: failed to decode JSON: {parse_error}",
            )
        if is_json:
            if inputs is None:
                raise AiError(3003, "Request is missing headers or body: body")
            if not isinstance(inputs, dict):
                kind = "array" if isinstance(inputs, list) else type(inputs).__name__
                raise bad_input(f"Type mismatch of '/', '{kind}' not in 'object'")
        result = self.execute(model_id, inputs if is_json else None, body, content_type, query)
        self.send_result(result, fault)

    def execute(
        self,
        model_id: str,
        inputs: dict | None,
        body: bytes,
        content_type: str,
        query: dict[str, str],
    ) -> Result:
        """Resolve the model, build its inputs and run its family handler."""
        model = lookup(model_id)
        if model is None:
            raise no_such_model(model_id)
        if inputs is None:
            # Binary body: other inputs come as query parameters (or JSON in userInputs).
            inputs = _query_value(query["userInputs"]) if "userInputs" in query else {}
            if not isinstance(inputs, dict):
                inputs = {}
            inputs.update({k: _query_value(v) for k, v in query.items() if k not in RUN_OPTIONS})
            if model.family in BINARY_INPUT:
                inputs[BINARY_INPUT[model.family]] = body
            content_type = content_type or "application/octet-stream"
        else:
            inputs = dict(inputs)
            # rejectIfBusy travels as a body field "options" on REST (§1.4); it is not an input.
            inputs.pop("options", None)
            content_type = JSON_TYPE
        if query.get("queueRequest") in ("true", "1"):
            return self.enqueue(model, inputs)
        if set(inputs) == {"request_id"}:
            return self.poll(str(inputs["request_id"]))
        controls = self.server.controls
        call = Call(model, inputs, body, content_type, query, controls.quirks(), controls)
        return FAMILIES[model.family](call)

    # -- async batch (queueRequest) --------------------------------------------------------------

    def enqueue(self, model: Any, inputs: dict) -> Result:
        """Run each request now and keep the answers for a later `{request_id}` poll."""
        batch = inputs.get("requests") if isinstance(inputs.get("requests"), list) else [inputs]
        responses = []
        for i, item in enumerate(batch):
            item = {
                k: v for k, v in dict(item).items() if k not in ("stream", "external_reference")
            }
            try:
                result = FAMILIES[model.family](Call(model, item))
                value = result.value if isinstance(result, Json) else None
                entry = {"id": i, "result": value, "success": True}
            except AiError as error:
                entry = {
                    "id": i,
                    "result": None,
                    "success": False,
                    "errors": error.body()["errors"],
                }
            if isinstance(batch[i], dict) and "external_reference" in batch[i]:
                entry["external_reference"] = batch[i]["external_reference"]
            responses.append(entry)
        request_id = str(uuid.uuid4())
        with self.server.queued_lock:
            self.server.queued[request_id] = {"responses": responses, "status": "done"}
        return Json({"status": "queued", "model": model.id, "request_id": request_id})

    def poll(self, request_id: str) -> Result:
        with self.server.queued_lock:
            answer = self.server.queued.get(request_id)
        if answer is None:
            raise AiError(
                3010, f"Invalid or incomplete input for the model: unknown request_id {request_id}"
            )
        return Json(answer)

    # -- sending results -----------------------------------------------------------------------

    def send_result(self, result: Result, fault: Fault | None) -> None:
        abort = fault.abort_after_events if fault else None
        if isinstance(result, Stream):
            delay = (
                fault.token_delay_ms
                if fault and fault.token_delay_ms
                else self.server.token_delay_ms
            )
            self.send_chunks(200, SSE_HEADERS, result.events, delay, abort)
            return
        if isinstance(result, Json):
            content_type = JSON_TYPE
            body = dumps(
                {"result": result.value, "success": True, "errors": [], "messages": []}
            ).encode()
        else:
            assert isinstance(result, Binary)
            content_type, body = result.content_type, result.data
        if abort is not None:
            self.send_truncated(200, content_type, body)
        else:
            self.send_body(200, content_type, body)

    def send_script(self, script: Script) -> None:
        if script.has_json:
            value = script.json
            if not script.raw:
                value = {"result": value, "success": True, "errors": [], "messages": []}
            ctype = script.content_type or JSON_TYPE
            self.send_body(script.status, ctype, dumps(value).encode(), **script.headers)
        elif script.chunks is not None:
            headers = {"content-type": script.content_type or "text/event-stream", **script.headers}
            self.send_chunks(script.status, headers, script.chunks, script.chunk_delay_ms)
        else:
            ctype = script.content_type or "application/octet-stream"
            self.send_body(script.status, ctype, script.body or b"", **script.headers)


class Emulator:
    """A running emulator: `base_url`, `rest_base` (`base_url + "/client/v4"`), `stop()`."""

    def __init__(self, server: EmulatorServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.base_url = f"http://{host}:{port}"
        self.rest_base = self.base_url + "/client/v4"

    @property
    def controls(self) -> Controls:
        """In-process access to faults, scripts and the request log."""
        return self._server.controls

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    require_auth: bool = True,
    token_delay_ms: int = 0,
) -> Emulator:
    """Start the emulator in a background thread (port 0 picks a free port)."""
    server = EmulatorServer((host, port), require_auth, token_delay_ms)
    thread = threading.Thread(target=server.serve_forever, name="workers-ai-emulator", daemon=True)
    thread.start()
    return Emulator(server, thread)
