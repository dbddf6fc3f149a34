"""The JS adapter: the only module that imports `js`, `pyodide` or `workers`.

    workers.Request -> exchange.Call      (body read lazily, size-capped)
    env.AI / fetch                        -> exchange.Ai / exchange.Fetch (plain Python values)
    exchange.Reply -> workers.Response    (streams stay JavaScript ReadableStreams)

A streamed chat runs in sse_splice.mjs, the one JavaScript module: it splices the common events
itself and hands the rest to `sse.ChatStream` synchronously, because each call into Python
costs more than a whole JavaScript transform does per event (docs/performance.md).
"""

from __future__ import annotations

import json
import secrets
import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import _pyodide_entrypoint_helper
import js
from pyodide.ffi import JsException, JsProxy, create_proxy, to_js
from workers import Response

import app
from errors import ApiError, invalid, upstream_error
from exchange import (
    ByteList,
    Call,
    Env,
    FetchResult,
    Form,
    FormInput,
    Reply,
    StoredObject,
    StreamBody,
    StreamInput,
    StreamTransform,
    error_reply,
)


def _js_message(exc: JsException) -> str:
    """A JS error's message (Pyodide exposes the JS `message` as an attribute)."""
    return str(getattr(exc, "message", exc))


def _js_object(value: dict) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


def _without_none(inputs: dict) -> dict:
    # The SDK turns None into JS null, which Workers AI schemas reject.
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
    exactly as Cloudflare's flux-2 example does (workers-ai.md §4.2).
    """
    data = js.FormData.new()
    for name, value in form.fields.items():
        data.append(name, value)  # two arguments: undici rejects an explicit `undefined` third
    encoded = js.Response.new(data)
    return {"body": encoded.body, "contentType": encoded.headers.get("content-type")}


def _js_inputs(inputs: dict) -> Any:
    """`inputs` for the binding; with a `ByteList`, one JS object holding a JS number array.

    `Array.from(Uint8Array)` costs ~0.85 s per 20 MB in Node, a Python list of ints through
    `to_js` ~5.7 s. The object is built here, not by the SDK, because the SDK walks every
    iterable argument in Python, which for a JS Array means 20 million element reads.
    """
    plain = _without_none(inputs)
    arrays = {k: v for k, v in plain.items() if isinstance(v, ByteList)}
    if not arrays:
        return plain
    target = _js_object({k: v for k, v in plain.items() if k not in arrays})
    for key, value in arrays.items():
        setattr(target, key, js.Array.from_(to_js(value.data)))
    return target


class JsStream:
    """A JS ReadableStream returned by a binding, kept on the JS side until it is read."""

    def __init__(self, stream: JsProxy) -> None:
        self.js = stream

    async def read_all(self) -> bytes:
        """The whole stream as bytes."""
        buffer = await js.Response.new(self.js).arrayBuffer()
        return buffer.to_bytes()


class _Upload:
    """A file part of a form: the JS `File`, read only as far as a handler asks.

    Not the SDK's `workers.File`: that wraps each file in a new JS File, and workerd's Blob
    constructor copies its parts, which for a 20 MB upload is 20 MB more per access.
    """

    def __init__(self, file: JsProxy) -> None:
        self._file = file
        self.name = str(file.name or "")
        self.content_type = str(file.type or "")
        self.size = int(file.size)

    async def bytes(self) -> bytes:
        return (await self._file.arrayBuffer()).to_bytes()

    async def head(self, size: int) -> bytes:
        return (await self._file.slice(0, size).arrayBuffer()).to_bytes()

    def stream(self, content_type: str) -> StreamInput:
        return StreamInput(self._file, content_type)


class _Body:
    """The request body, read once, refusing more than the route's limit."""

    def __init__(self, call_request: Any, limit_of: Any) -> None:
        self._request = call_request
        self._limit_of = limit_of

    async def bytes(self) -> bytes:
        data = await self._request.bytes()
        limit = self._limit_of()
        if limit and len(data) > limit:
            raise ApiError(
                413,
                f"The request body is larger than this endpoint accepts ({limit} bytes).",
                "invalid_request_error",
                None,
                "request_too_large",
            )
        return data

    async def form(self) -> Mapping[str, Any]:
        try:
            form = await self._request.form_data()
        except Exception:
            raise invalid(
                "The body is not valid multipart/form-data or urlencoded form data."
            ) from None
        fields = Form()
        for key, value in form.js_object.entries():  # a name sent n times is listed n times
            item = value if isinstance(value, str) else _Upload(value)
            if key not in fields:
                fields[key] = item
            else:
                fields.repeated.setdefault(key, [fields[key]]).append(item)
        return fields


class _Ai:
    """`env.AI` with Python values in and out; failures become mapped ApiErrors."""

    def __init__(self, binding: Any) -> None:
        self._binding = binding

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any:
        try:
            result = await self._binding.run(model, _js_inputs(inputs), options or {})
        except JsException as exc:
            raise upstream_error(_js_message(exc), model) from None
        if isinstance(result, memoryview):
            return result.tobytes()
        if isinstance(result, JsProxy):
            return JsStream(result)
        return result


class _R2Store:
    """The `IMAGES` R2 bucket (SDK-wrapped) as an `exchange.Storage`; JS failures -> OSError."""

    def __init__(self, bucket: Any) -> None:
        self._bucket = bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await self._bucket.put(key, data, {"httpMetadata": {"contentType": content_type}})
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
        if found is None:
            return None
        meta = found.httpMetadata or {}
        uploaded = found.uploaded
        if hasattr(uploaded, "timestamp"):  # the SDK turns a JS Date into a datetime
            uploaded_ms = int(uploaded.timestamp() * 1000)
        else:
            uploaded_ms = int(uploaded.getTime()) if uploaded is not None else 0
        body = found.body if method == "get" else None
        return StoredObject(
            data=JsStream(body) if body is not None else None,
            content_type=str(meta.get("contentType") or "application/octet-stream"),
            etag=str(found.httpEtag or f'"{found.etag}"'),
            uploaded_ms=uploaded_ms,
        )


async def _fetch(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    max_bytes: int | None = None,
    redirect: str = "follow",
) -> FetchResult:
    """Outbound HTTP; raises ConnectionError on network failure or an oversized body."""
    init: dict[str, Any] = {"method": method, "headers": dict(headers or {}), "redirect": redirect}
    if body is not None:
        init["body"] = to_js(body) if isinstance(body, bytes) else body
    try:
        response = await js.fetch(url, _js_object(init))
    except JsException as exc:
        raise ConnectionError(f"fetch failed: {_js_message(exc)}") from None
    declared = response.headers.get("content-length")
    if max_bytes and declared and declared.isdigit() and int(declared) > max_bytes:
        raise ConnectionError(f"response larger than {max_bytes} bytes")
    data = (await response.arrayBuffer()).to_bytes()
    if max_bytes and len(data) > max_bytes:
        raise ConnectionError(f"response larger than {max_bytes} bytes")
    headers_out = {k.lower(): v for k, v in _header_pairs(response.headers)}
    return FetchResult(int(response.status), headers_out, data)


def _header_pairs(headers: Any) -> Iterator[tuple[str, str]]:
    for pair in headers.entries():
        yield pair[0], pair[1]


# Vars and secrets are fixed for an isolate's life (changing one deploys a new version), and
# reading one from `env` crosses into JavaScript, so each is read once per isolate.
_VAR_CACHE: dict[str, str | None] = {}


class _Vars(Mapping[str, str]):
    """String vars and secrets from `env`; JSON vars come back as JSON text."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def _read(self, name: str) -> str | None:
        value = getattr(self._env, name, None)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, JsProxy):
            return json.dumps(value.to_py())
        return str(value)

    def __getitem__(self, name: str) -> str:
        try:
            value = _VAR_CACHE[name]
        except KeyError:
            value = _VAR_CACHE[name] = self._read(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_splice_module: Any = None


async def _splicer() -> Any:
    """sse_splice.mjs, an ES module in the Worker bundle, imported once per isolate."""
    global _splice_module
    if _splice_module is None:
        _splice_module = await _pyodide_entrypoint_helper.doAnImport("sse_splice.mjs")
    return _splice_module


# What sse_splice.mjs asks of Python: `python(kind, value)`.
_FEED, _END, _FAIL = 0, 1, 2


def _transcoded(splicer: Any, source: JsStream, transform: StreamTransform) -> Any:
    """`source` rewritten by `transform`, as a JS ReadableStream of bytes.

    sse_splice.mjs runs the stream and splices the common events itself; Python sees the
    others (whole events, as bytes), the end and failures, through one callable that JS
    destroys when it is done. `control.mode` follows `transform.mode`; it changes a few times
    per stream at most. Per stream this costs a handful of crossings: each is several µs.
    """
    head = transform.feed(b"")  # the role chunk, sent before the upstream says anything
    mode = transform.mode
    control = js.Object.new()
    control.mode = mode

    def python(kind: int, value: Any) -> Any:
        nonlocal mode
        if kind == _FEED:
            out = transform.feed(value.to_bytes())
            if (now := transform.mode) != mode:
                mode = control.mode = now
            return to_js(out) if out else None
        if kind == _END:
            return to_js(transform.end(value))
        return to_js(transform.fail(value))

    heads = transform.splice_heads()
    return splicer.transcode(
        source.js,
        create_proxy(python),
        control,
        head.decode(),
        heads.content.decode(),
        heads.tail.decode(),
        heads.reasoning.decode(),
        heads.chunk.decode() if heads.chunk is not None else "",
        heads.stop_triggers.decode("latin-1"),  # one char per byte
    )


async def _to_response(reply: Reply) -> Response:
    body: Any = reply.body
    if isinstance(body, StreamBody):
        source = body.source
        if not isinstance(source, JsStream):
            raise TypeError("stream replies need a stream from a binding")
        if body.transform:
            body = _transcoded(await _splicer(), source, body.transform)
        else:
            body = source.js
    elif isinstance(body, StoredObject):
        body = body.data.js if isinstance(body.data, JsStream) else body.data
    return Response(body, status=reply.status, headers=reply.headers)


def _call(request: Any, env: Any, request_id: str) -> Call:
    url = urlsplit(str(request.url))
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query.setdefault(key, value)
    headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
    ai_binding = getattr(env, "AI", None)
    images_binding = getattr(env, "IMAGES", None)
    call = Call(
        method=str(request.method).upper(),
        path=url.path or "/",
        query=query,
        headers=headers,
        body=None,  # type: ignore[arg-type]  # set below: it needs the call's limit
        env=Env(
            vars=_Vars(env),
            ai=_Ai(ai_binding),
            images=_R2Store(images_binding) if images_binding is not None else None,
            fetch=_fetch,
        ),
        request_id=request_id,
        origin_url=f"{url.scheme}://{url.netloc}",
    )
    call.body = _Body(request, lambda: call.max_body)
    return call


async def serve(request: Any, env: Any) -> Response:
    """Answer one request; never raises.

    `app.handle` renders its own failures, but building the call and converting the reply run
    JavaScript (a JS error there, e.g. a failed import of sse_splice.mjs, would otherwise reach
    workerd, which answers a bare 500): those are logged and answered in OpenAI's shape too.
    """
    request_id = "req_" + secrets.token_hex(12)
    try:
        return await _to_response(await app.handle(_call(request, env, request_id)))
    except Exception:
        print(
            f"[{request_id}] {request.method} {request.url} failed:\n" + traceback.format_exc(),
            file=sys.stderr,
        )
        reply = error_reply(
            ApiError(
                500,
                f"The server failed to handle this request (request id {request_id}).",
                "server_error",
                None,
                "internal_error",
            )
        )
        reply.headers["x-request-id"] = request_id
        return Response(reply.body, status=reply.status, headers=reply.headers)
