"""The JS adapter: the only module that imports `js`, `pyodide` or `workers`.

    JS Request -> exchange.Call           (body read lazily, size-capped)
    env.AI / fetch                        -> exchange.Ai / exchange.Fetch (plain Python values)
    exchange.Reply -> a JS Response       (streams stay JavaScript ReadableStreams)

The request and `env` arrive as workerd gives them, without the SDK's wrappers (src/entry.py):
what crosses is converted here, explicitly.

A streamed chat runs in sse_splice.mjs, the one JavaScript module: it splices the common events
itself and hands the rest to `chatstream.ChatStream` synchronously, because each call into Python
costs more than a whole JavaScript transform does per event (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import traceback
from collections.abc import Awaitable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import js
import workers
from pyodide.ffi import JsBuffer, JsException, JsProxy, create_proxy, jsnull, to_js

import app
from core import config, log
from core.errors import ApiError, internal_error, invalid, too_large, upstream_error
from core.exchange import (
    Base64Input,
    ByteList,
    Call,
    Env,
    FetchResult,
    Form,
    FormInput,
    NumberedTransform,
    Reply,
    StoppingTransform,
    StoredObject,
    StreamBody,
    StreamInput,
    StreamTransform,
    error_reply,
)
from mapping import chatstream


def _js_message(exc: JsException) -> str:
    """A JS error's message (Pyodide exposes the JS `message` as an attribute)."""
    return str(getattr(exc, "message", exc))


def _js_object(value: dict) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


def _without_none(inputs: dict) -> dict:
    # A None field is left out: Workers AI schemas reject null.
    return {k: _js_input(v) for k, v in inputs.items() if v is not None}


def _js_input(value: Any) -> Any:
    if isinstance(value, FormInput):
        return multipart_input(value)
    if isinstance(value, StreamInput):
        # A fresh stream per run: the File stays in JS and is read as the request goes out.
        return {"body": value.source.stream(), "contentType": value.content_type}
    return value


def multipart_input(form: FormInput) -> dict:
    """A model input as multipart/form-data: `{"body": ReadableStream, "contentType": ...}`.

    Only JS knows the boundary it will write, so a JS FormData is serialised by a JS Response,
    exactly as Cloudflare's flux-2 example does (docs/workers-ai.md §4.2).
    """
    data = js.FormData.new()
    for name, value in form.fields.items():
        data.append(name, value)  # two arguments: undici rejects an explicit `undefined` third
    encoded = js.Response.new(data)
    return {"body": encoded.body, "contentType": encoded.headers.get("content-type")}


def _js_inputs(inputs: dict) -> Any:
    """`inputs` as the binding's JS object; a `ByteList` or a `Base64Input` becomes a JS number
    array or base64 text, made in JavaScript.

    `Array.from(Uint8Array)` costs ~0.85 s per 20 MB in Node, a Python list of ints through
    `to_js` ~5.7 s. Base64 text is set on the object by multipart.mjs: returned to Python, a JS
    string is copied into one.
    """
    plain = _without_none(inputs)
    built = {k: v for k, v in plain.items() if isinstance(v, (ByteList, Base64Input))}
    target = _js_object({k: v for k, v in plain.items() if k not in built})
    for key, value in built.items():
        if isinstance(value, Base64Input):
            _multipart_module().setBase64(target, key, _js_bytes(value.source))
        else:
            setattr(target, key, js.Array.from_(_js_bytes(value.data)))
    return target


def _js_bytes(data: Any) -> Any:
    """A Uint8Array of `data`: for a `FileBytes` over an upload, the upload's own view (no
    copy, nothing through Python); for bytes, a copy of them."""
    reader = getattr(data, "reader", None)
    if isinstance(reader, _Upload):
        return reader.view
    return to_js(data if isinstance(data, bytes) else data[:])


class JsStream:
    """A JS ReadableStream returned by a binding, kept on the JS side until it is read."""

    def __init__(self, stream: JsProxy) -> None:
        self.js = stream

    async def read_all(self) -> bytes:
        """The whole stream as bytes."""
        buffer = await js.Response.new(self.js).arrayBuffer()
        return buffer.to_bytes()


class _Upload:
    """A file part of a form: a `multipart.mjs` `Part`, a view of the request body kept on the
    JavaScript side and read only as far as a handler asks (one copy into Python for `bytes`,
    none for `stream`)."""

    def __init__(self, part: JsProxy) -> None:
        self._part = part
        self.view = part.data  # a Uint8Array over the request body
        self.name = str(part.name or "")
        self.content_type = str(part.type or "")
        self.size = int(self.view.byteLength)

    async def bytes(self) -> bytes:
        return self.view.to_bytes()

    async def head(self, size: int) -> bytes:
        return self.read(0, size)

    def read(self, start: int, stop: int) -> bytes:
        return self.view.subarray(start, stop).to_bytes()

    def stream(self, content_type: str) -> StreamInput:
        return StreamInput(self._part, content_type)


def _incomplete() -> ApiError:
    # The client hung up mid-upload: nobody is left to answer, and it is not our failure.
    return ApiError(400, "The request body could not be read to its end.", code="body_incomplete")


class _Body:
    """The request body, read once, refused (413) as soon as more than the limit has arrived.

    A declared length was checked against the limit before the handler ran and HTTP framing
    holds the body to it, so such a body is read by the runtime in one piece (one crossing,
    one copy). Without one (chunked), chunks stay JavaScript objects, counted as they come and
    joined once as a Blob, so nothing is buffered past the limit.
    """

    def __init__(self, request: Any, declared_length: bool) -> None:
        self._request = request  # the JS Request
        self._declared = declared_length

    async def _source(self, limit: int) -> Any:
        """What holds the whole body: the Request itself, or a Blob of its capped chunks."""
        if self._declared:
            return self._request
        try:
            blob = await _read_capped(self._request.body, limit)
        except JsException:
            raise _incomplete() from None
        if blob is None:
            raise too_large(limit)
        return js.Response.new(blob, _js_object({"headers": {"content-type": self._type()}}))

    def _type(self) -> str:
        return self._request.headers.get("content-type") or ""

    async def bytes(self, limit: int) -> bytes:
        source = await self._source(limit)
        try:
            return (await source.arrayBuffer()).to_bytes()
        except JsException:
            raise _incomplete() from None

    async def form(self, limit: int) -> Form:
        if _is_multipart(self._type()):
            entries = await self._multipart(limit)
        else:
            entries = await self._urlencoded(limit)
        fields = Form()
        for key, value in entries:  # a name sent n times is listed n times
            item = value if isinstance(value, str) else _Upload(value)
            if key not in fields:
                fields[key] = item
            else:
                fields.repeated.setdefault(key, [fields[key]]).append(item)
        return fields

    async def _multipart(self, limit: int) -> Any:
        """multipart.mjs reads the body into one buffer and splits it there: workerd's
        `formData()` holds the body and a copy of each file (docs/performance.md, "Uploads")."""
        try:
            entries = await _multipart_module().readForm(self._request, self._declared, limit)
        except JsException as exc:
            if str(getattr(exc, "name", "")) == "IncompleteBody":
                raise _incomplete() from None
            raise _not_a_form() from None
        if entries is None or entries is jsnull:  # JS null is not None in Pyodide
            raise too_large(limit)
        return entries

    async def _urlencoded(self, limit: int) -> Any:
        source = await self._source(limit)
        try:
            return (await source.formData()).entries()
        except JsException:
            raise _not_a_form() from None


def _is_multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _not_a_form() -> ApiError:
    return invalid("The body is not valid multipart/form-data or urlencoded form data.")


def _py_value(value: Any) -> Any:
    """A JSON-shaped JS value as Python's `json` would read it: one `JSON.stringify` in JS and
    `json.loads` here cost less than the SDK's conversion (`to_py`, then a walk replacing
    `jsnull`), and give plain dicts, lists and None."""
    if not isinstance(value, JsProxy):
        return None if value is jsnull else value
    return json.loads(js.JSON.stringify(value))


class _Ai:
    """`env.AI` (the JS binding) with Python values in and out; failures become mapped
    ApiErrors."""

    def __init__(self, binding: Any) -> None:
        self._binding = binding

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any:
        try:
            result = await self._binding.run(model, _js_inputs(inputs), _js_object(options or {}))
        except JsException as exc:
            raise upstream_error(_js_message(exc), model) from None
        if isinstance(result, JsBuffer):
            return result.to_bytes()
        if isinstance(result, JsProxy) and hasattr(result, "getReader"):
            return JsStream(result)
        return _py_value(result)


class _R2Store:
    """The `IMAGES` R2 bucket (the JS binding) as an `exchange.Storage`; JS failures ->
    OSError."""

    def __init__(self, bucket: Any) -> None:
        self._bucket = bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            metadata = _js_object({"httpMetadata": {"contentType": content_type}})
            await self._bucket.put(key, to_js(data), metadata)
        except JsException as exc:
            raise OSError(f"R2 put failed: {_js_message(exc)}") from None

    async def head(self, key: str) -> StoredObject | None:
        return await self._read("head", key)

    async def get(self, key: str) -> StoredObject | None:
        return await self._read("get", key)

    async def _read(self, method: str, key: str) -> StoredObject | None:
        try:
            found = await getattr(self._bucket, method)(key)
        except JsException as exc:
            raise OSError(f"R2 {method} failed: {_js_message(exc)}") from None
        if found is None or found is jsnull:
            return None
        content_type = getattr(found.httpMetadata, "contentType", None)
        uploaded = found.uploaded
        uploaded_ms = int(uploaded.getTime()) if isinstance(uploaded, JsProxy) else 0
        body = found.body if method == "get" else None
        return StoredObject(
            data=JsStream(body) if body is not None else None,
            content_type=str(content_type or "application/octet-stream"),
            etag=str(found.httpEtag or f'"{found.etag}"'),
            uploaded_ms=uploaded_ms,
        )


class _RateLimiter:
    """The Rate Limiting binding (`[[ratelimits]]`) as an `exchange.RateLimiter`."""

    def __init__(self, binding: Any) -> None:
        self._binding = binding

    async def allow(self, key: str) -> bool:
        outcome = await self._binding.limit(_js_object({"key": key}))
        return bool(outcome.success)


async def _read_capped(stream: Any, limit: int) -> Any:
    """A JS byte stream read into one Blob, or None (the stream cancelled) once more than
    `limit` bytes have come; chunks stay in JavaScript until then."""
    parts = js.Array.new()
    if stream is None or stream is jsnull:  # no body
        return js.Blob.new(parts)
    reader = stream.getReader()
    total = 0
    while not (chunk := await reader.read()).done:
        total += int(chunk.value.byteLength)
        if limit and total > limit:
            await reader.cancel()
            return None
        parts.push(chunk.value)
    return js.Blob.new(parts)


class _KvStore:
    """A KV namespace (the JS binding) as an `exchange.Kv`; JS failures -> OSError."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace

    async def get(self, key: str) -> str | None:
        try:
            value = await self._namespace.get(key)
        except JsException as exc:
            raise OSError(f"KV get failed: {_js_message(exc)}") from None
        return None if value is None or value is jsnull else str(value)

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        try:
            await self._namespace.put(key, value, _js_object({"expirationTtl": ttl_seconds}))
        except JsException as exc:
            raise OSError(f"KV put failed: {_js_message(exc)}") from None

    async def delete(self, key: str) -> None:
        try:
            await self._namespace.delete(key)
        except JsException as exc:
            raise OSError(f"KV delete failed: {_js_message(exc)}") from None


def _defer(work: Awaitable[Any]) -> None:
    """Run `work` under the Worker's `waitUntil`, so it finishes after the reply has gone."""
    task = asyncio.ensure_future(work)
    proxy = create_proxy(task)  # destroyed once the task settles, as the SDK's asgi does
    task.add_done_callback(lambda _: proxy.destroy())
    workers.wait_until(proxy)


async def _fetch(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    *,
    max_bytes: int,
    timeout_s: float,
) -> FetchResult:
    """Outbound HTTP (`exchange.Fetch`); ConnectionError on failure or an oversized body."""
    init: dict[str, Any] = {"method": method, "headers": dict(headers or {}), "redirect": "manual"}
    if body is not None:
        init["body"] = to_js(body) if isinstance(body, bytes) else body
    init["signal"] = js.AbortSignal.timeout(int(timeout_s * 1000))
    try:
        response = await js.fetch(url, _js_object(init))
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            await response.body.cancel()
            raise ConnectionError(f"response larger than {max_bytes} bytes")
        blob = await _read_capped(response.body, max_bytes)
        if blob is None:
            raise ConnectionError(f"response larger than {max_bytes} bytes")
        data = (await blob.arrayBuffer()).to_bytes()
    except JsException as exc:
        if str(getattr(exc, "name", "")) == "TimeoutError" or "TimeoutError" in str(exc):
            raise TimeoutError(f"no answer within {timeout_s:g} s") from None
        raise ConnectionError(f"fetch failed: {_js_message(exc)}") from None
    headers_out = _headers(response.headers)
    return FetchResult(int(response.status), headers_out, data)


def _headers(headers: Any) -> dict[str, str]:
    """JS Headers as a dict of lower-case names (Headers lower-cases them), converted in one
    crossing rather than one per entry (set-cookie aside, repeated names arrive joined)."""
    return js.Object.fromEntries(headers).to_py()


# Vars and secrets are fixed for an isolate's life (changing one deploys a new version), and
# reading one from `env` crosses into JavaScript, so the settings are read once per isolate.
_vars: dict[str, str] | None = None


def _var(env: Any, name: str) -> str | None:
    """A var or secret as text; JSON vars come back as JSON text."""
    value = getattr(env, name, None)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, JsProxy):
        return str(js.JSON.stringify(value))
    return str(value)


def _settings_vars(env: Any) -> dict[str, str]:
    """The settings `core.config` reads, taken from `env` on the first request."""
    global _vars
    if _vars is None:
        _vars = {name: v for name in config.NAMES if (v := _var(env, name)) is not None}
    return _vars


_js_modules: dict[str, Any] = {}


def _js_module(name: str) -> Any:
    """An ES module of the Worker bundle (bridge/*.mjs), imported once per isolate through the
    SDK's public import (workerd resolves the name from the bundle root)."""
    module = _js_modules.get(name)
    if module is None:
        module = _js_modules[name] = workers.import_from_javascript(name)
    return module


def _splicer() -> Any:
    """sse_splice.mjs, which runs streamed replies."""
    return _js_module("bridge/sse_splice.mjs")


def _multipart_module() -> Any:
    """multipart.mjs, which reads multipart bodies."""
    return _js_module("bridge/multipart.mjs")


def _transcoded(splicer: Any, source: JsStream, transform: StreamTransform, idle_ms: int) -> Any:
    """`source` rewritten by `transform`, as a JS ReadableStream of bytes.

    sse_splice.mjs runs the stream and splices the common events itself; Python sees the
    others (whole events, as bytes), the end and failures, through one callable that JS
    destroys when it is done. `control.mode` follows `transform.mode`; it changes a few times
    per stream at most, and `control.callKey`/`control.call` follow `transform.open_call` (the
    tool call whose argument fragments JS may write). A `StoppingTransform` keeps
    `control.held` current too, and settles what JS's matching of the stops changed when a call
    brings it (a third argument). A `NumberedTransform` also hears what was spliced (`SPLICED`)
    and keeps `control.sequence` and `control.head` current after each call. Per stream this
    costs a handful of crossings: each is several µs.
    """
    head = transform.feed(b"")  # the role chunk, sent before the upstream says anything
    mode = transform.mode
    control = js.Object.new()
    control.mode = mode
    numbered = isinstance(transform, NumberedTransform)
    stopping = isinstance(transform, StoppingTransform)
    delta_head = None
    call = None
    held = None

    def follow() -> None:
        nonlocal delta_head, call, held
        if (now := transform.open_call) != call:
            call = now
            control.callKey, control.call = now or (None, None)
        if stopping and (text := transform.held) != held:
            held = control.held = text
        if not numbered:
            return
        control.sequence = transform.sequence
        if transform.delta_head != delta_head:
            delta_head = control.head = transform.delta_head
            control.tail = transform.delta_tail

    follow()

    def python(kind: int, value: Any, state: Any = None) -> Any:
        nonlocal mode
        if state is not None:
            transform.settle(state.to_bytes())
        if kind == chatstream.SPLICED:
            transform.absorb(value.to_bytes())
            return None
        if kind == chatstream.FEED:
            out = transform.feed(value.to_bytes())
        elif kind == chatstream.END:
            out = transform.end(value)
        else:
            out = transform.fail(value)
        if (now := transform.mode) != mode:
            mode = control.mode = now
        follow()
        return to_js(out) if out else None

    heads = transform.splice_heads()
    named = {
        "head": head.decode(),
        "contentHead": heads.content.decode(),
        "tail": heads.tail.decode(),
        "reasoningHead": heads.reasoning.decode(),
        "chunkHead": heads.chunk.decode() if heads.chunk is not None else "",
        "stopTriggers": heads.stop_triggers.decode("latin-1"),  # one char per byte
        "stops": list(heads.stops),
        "idleMs": idle_ms,
    }
    return splicer.transcode(source.js, create_proxy(python), control, _js_object(named))


def _js_response(body: Any, status: int, headers: Mapping[str, str]) -> Any:
    """A JS Response, built directly: the SDK's `workers.Response` re-checks the body's type
    and rebuilds the headers in Python on every request (docs/performance.md)."""
    if isinstance(body, bytes):
        body = to_js(body)
    return js.Response.new(body, _js_object({"status": status, "headers": headers}))


async def _to_response(reply: Reply) -> Any:
    body: Any = reply.body
    if isinstance(body, StreamBody):
        source = body.source
        if not isinstance(source, JsStream):
            raise TypeError("stream replies need a stream from a binding")
        if body.transform:
            idle_ms = int(body.idle_timeout_s * 1000)
            body = _transcoded(_splicer(), source, body.transform, idle_ms)
        else:
            body = source.js
    elif isinstance(body, StoredObject):
        body = body.data.js if isinstance(body.data, JsStream) else body.data
    return _js_response(body, reply.status, reply.headers)


def _call(request: Any, env: Any, request_id: str) -> Call:
    """The `Call` for a JS Request (not the SDK's wrapper: its `method` is an enum that has no
    member for valid methods such as PURGE or PROPFIND)."""
    url = urlsplit(str(request.url))
    query = Form()  # each name's first value; `form_values` gives a repeated one's all
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        if key in query:
            query.repeated.setdefault(key, [query[key]]).append(value)
        else:
            query[key] = value
    headers = _headers(request.headers)
    ai_binding = getattr(env, "AI", None)
    images_binding = getattr(env, "IMAGES", None)
    limiter = getattr(env, "RATE_LIMITER", None)
    responses_binding = getattr(env, "RESPONSES", None)
    return Call(
        method=str(request.method).upper(),
        path=url.path or "/",
        query=query,
        headers=headers,
        body=_Body(request, "content-length" in headers),
        env=Env(
            vars=_settings_vars(env),
            ai=_Ai(ai_binding),
            images=_R2Store(images_binding) if images_binding is not None else None,
            fetch=_fetch,
            rate_limiter=_RateLimiter(limiter) if limiter is not None else None,
            responses=_KvStore(responses_binding) if responses_binding is not None else None,
            defer=_defer,
        ),
        request_id=request_id,
        origin_url=f"{url.scheme}://{url.netloc}",
    )


async def serve(request: Any, env: Any) -> Any:
    """Answer one request; whatever fails, the client gets the error shape and a request id.

    `app.handle` renders every failure of a handler; this also covers what happens around it
    (reading the request, a JS module that fails to import, building the response), which
    workerd would otherwise answer with a bare 500.
    """
    request_id = "req_" + secrets.token_hex(12)
    try:
        return await _to_response(await app.handle(_call(request, env, request_id)))
    except Exception:
        log.error(request_id, "unhandled_exception", traceback=traceback.format_exc())
        reply = error_reply(internal_error(request_id))
        return _js_response(reply.body, reply.status, {**reply.headers, "x-request-id": request_id})
