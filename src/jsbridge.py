"""The JS adapter: the only module that imports `js`, `pyodide` or `workers`.

    workers.Request -> exchange.Call      (body read lazily, size-capped)
    env.AI / fetch                        -> exchange.Ai / exchange.Fetch (plain Python values)
    exchange.Reply -> workers.Response    (streams stay JavaScript ReadableStreams)

A stream that Python rewrites runs as a JS TransformStream whose `transform` callback is a
synchronous Python function: per event that costs one call and one string in each direction,
far less than an async Python reader loop (DESIGN.md §2).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import js
from pyodide.ffi import JsException, JsProxy, create_proxy, to_js
from workers import Response

import app
from errors import ApiError, invalid, upstream_error
from exchange import Call, Env, FetchResult, Reply, StreamBody, StreamTransform


def _js_object(value: dict) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


def _without_none(inputs: dict) -> dict:
    # The SDK turns None into JS null, which Workers AI schemas reject.
    return {k: v for k, v in inputs.items() if v is not None}


class JsStream:
    """A JS ReadableStream returned by a binding, kept on the JS side until it is read."""

    def __init__(self, stream: JsProxy) -> None:
        self.js = stream

    async def read_all(self) -> bytes:
        """The whole stream as bytes."""
        buffer = await js.Response.new(self.js).arrayBuffer()
        return buffer.to_bytes()


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
        return {key: form[key] for key in form}


class _Ai:
    """`env.AI` with Python values in and out; failures become mapped ApiErrors."""

    def __init__(self, binding: Any) -> None:
        self._binding = binding

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any:
        try:
            result = await self._binding.run(model, _without_none(inputs), options or {})
        except JsException as exc:
            raise upstream_error(str(getattr(exc, "message", exc)), model) from None
        if isinstance(result, memoryview):
            return result.tobytes()
        if isinstance(result, JsProxy):
            return JsStream(result)
        return result


async def _fetch(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    max_bytes: int | None = None,
) -> FetchResult:
    """Outbound HTTP; raises ConnectionError on network failure or an oversized body."""
    init: dict[str, Any] = {"method": method, "headers": dict(headers or {}), "redirect": "follow"}
    if body is not None:
        init["body"] = to_js(body) if isinstance(body, bytes) else body
    try:
        response = await js.fetch(url, _js_object(init))
    except JsException as exc:
        raise ConnectionError(f"fetch failed: {getattr(exc, 'message', exc)}") from None
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


class _Vars(Mapping[str, str]):
    """String vars and secrets from `env`; JSON vars come back as JSON text."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def __getitem__(self, name: str) -> str:
        value = getattr(self._env, name, None)
        if value is None:
            raise KeyError(name)
        if isinstance(value, str):
            return value
        if isinstance(value, JsProxy):
            return json.dumps(value.to_py())
        return str(value)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _transcoded(source: JsStream, transform: StreamTransform) -> Any:
    """`source` (UTF-8 bytes) rewritten by `transform`, as a JS ReadableStream of bytes.

    TextDecoderStream keeps multi-byte characters split across chunks intact. When the source
    fails mid-way, the transform's `fail` events are written and the stream still closes.
    """
    failure: list[str] = []

    def on_chunk(chunk: str, controller: Any) -> None:
        out = transform.fail(failure[0]) if failure else transform.feed(chunk)
        if out:
            controller.enqueue(out)

    def on_flush(controller: Any) -> None:
        out = transform.end()
        if out:
            controller.enqueue(out)

    chunk_proxy = create_proxy(on_chunk)
    flush_proxy = create_proxy(on_flush)
    rewrite = js.TransformStream.new(_js_object({"transform": chunk_proxy, "flush": flush_proxy}))
    encoded = rewrite.readable.pipeThrough(js.TextEncoderStream.new())

    def finish(_: Any = None) -> None:
        writer = rewrite.writable.getWriter()
        closing = writer.close()
        closing.catch(create_proxy(lambda _e: None))
        chunk_proxy.destroy()
        flush_proxy.destroy()

    def broke(error: Any) -> None:
        failure.append("The upstream stream failed before it finished.")
        writer = rewrite.writable.getWriter()
        writer.write("")
        writer.releaseLock()
        finish()

    piping = source.js.pipeThrough(js.TextDecoderStream.new()).pipeTo(
        rewrite.writable, _js_object({"preventClose": True, "preventAbort": True})
    )
    piping.then(create_proxy(finish), create_proxy(broke))
    return encoded


def _to_response(reply: Reply) -> Response:
    body: Any = reply.body
    if isinstance(body, StreamBody):
        source = body.source
        if not isinstance(source, JsStream):
            raise TypeError("stream replies need a stream from a binding")
        body = _transcoded(source, body.transform) if body.transform else source.js
    return Response(body, status=reply.status, headers=reply.headers)


def _call(request: Any, env: Any) -> Call:
    url = urlsplit(str(request.url))
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query.setdefault(key, value)
    headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
    ai_binding = getattr(env, "AI", None)
    call = Call(
        method=str(request.method).upper(),
        path=url.path or "/",
        query=query,
        headers=headers,
        body=None,  # type: ignore[arg-type]  # set below: it needs the call's limit
        env=Env(vars=_Vars(env), ai=_Ai(ai_binding), fetch=_fetch),
        request_id="req_" + secrets.token_hex(12),
        origin_url=f"{url.scheme}://{url.netloc}",
    )
    call.body = _Body(request, lambda: call.max_body)
    return call


async def serve(request: Any, env: Any) -> Response:
    """Answer one request."""
    return _to_response(await app.handle(_call(request, env)))
