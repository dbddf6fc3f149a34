"""Plain-Python stand-ins for what the JS adapter provides, for runtime-free tests."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import app
from core.errors import too_large, upstream_error
from core.exchange import Base64Input, ByteList, Call, Env, Reply, StreamBody, StreamInput


class FakeStream:
    """An upstream stream delivered in the given byte chunks."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after

    async def iterate(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.fail_after is not None and index >= self.fail_after:
                raise ConnectionError("upstream broke")
            yield chunk

    async def read_all(self) -> bytes:
        return b"".join(self.chunks)


def _whole(data: Any) -> bytes:
    """A file input's bytes, taken as the adapter takes them: from the upload itself."""
    reader = getattr(data, "reader", None)  # a FileBytes
    return reader.data if isinstance(reader, FakeUpload) else bytes(data)


def as_sent(inputs: Any) -> Any:
    """`inputs` as the adapter sends them: what it encodes in JavaScript, encoded here."""
    if not isinstance(inputs, dict):
        return inputs
    sent = {}
    for key, value in inputs.items():
        if isinstance(value, Base64Input):
            value = base64.b64encode(_whole(value.source)).decode("ascii")
        elif isinstance(value, ByteList) and not isinstance(value.data, bytes):
            value = ByteList(_whole(value.data))
        sent[key] = value
    return sent


@dataclass
class FakeAi:
    """Records calls (`calls`: the inputs as sent, `given`: as the Worker passed them); answers
    with `answer(model, inputs)` or raises `"<code>: <text>"`."""

    answer: Callable[[str, dict], Any] = lambda model, inputs: {"response": "ok"}
    calls: list[tuple[str, dict, dict | None]] = field(default_factory=list)
    given: list[dict] = field(default_factory=list)

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any:
        self.given.append(inputs)
        inputs = as_sent(inputs)
        self.calls.append((model, inputs, options))
        result = self.answer(model, inputs)
        if isinstance(result, Exception):
            raise upstream_error(str(result), model)
        return result


@dataclass
class FakeKv:
    """A KV namespace in a dict; `ttls` records each put's time to live."""

    data: dict[str, str] = field(default_factory=dict)
    ttls: dict[str, int] = field(default_factory=dict)

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self.data[key] = value
        self.ttls[key] = ttl_seconds

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)


class Deferred(list):
    """`Env.defer`: work collected here, run by `serve` once the reply is complete."""

    def __call__(self, work: Awaitable[Any]) -> None:
        self.append(work)


class FakeUpload:
    """A form file part (`exchange.Upload`); `reads` logs what was read: "bytes", "head:<n>"
    or "read:<start>:<stop>"."""

    def __init__(self, data: bytes, name: str = "upload", content_type: str = "") -> None:
        self.data, self.name, self.content_type, self.size = data, name, content_type, len(data)
        self.reads: list[str] = []

    async def bytes(self) -> bytes:
        self.reads.append("bytes")
        return self.data

    async def head(self, size: int) -> bytes:
        self.reads.append(f"head:{size}")
        return self.data[:size]

    def read(self, start: int, stop: int) -> bytes:
        self.reads.append(f"read:{start}:{stop}")
        return self.data[start:stop]

    def stream(self, content_type: str) -> StreamInput:
        return StreamInput(self, content_type)  # the adapter's source is the JS File


class FakeBody:
    def __init__(self, data: bytes = b"", form: Mapping[str, Any] | None = None) -> None:
        self.data = data
        self._form = form or {}

    async def bytes(self, limit: int) -> bytes:
        if limit and len(self.data) > limit:
            raise too_large(limit)  # as the adapter does while reading
        return self.data

    async def form(self, limit: int) -> Mapping[str, Any]:
        return self._form


def make_call(
    method: str = "GET",
    path: str = "/health",
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    vars: Mapping[str, str] | None = None,
    ai: FakeAi | None = None,
    form: Mapping[str, Any] | None = None,
    kv: FakeKv | None = None,
) -> Call:
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    return Call(
        method=method,
        path=path,
        query=dict(query or {}),
        headers={k.lower(): v for k, v in (headers or {}).items()},
        body=FakeBody(raw, form),
        env=Env(
            vars=dict({"API_KEYS": "sk-a"} if vars is None else vars),
            ai=ai or FakeAi(),
            responses=kv,
            defer=Deferred(),
        ),
        request_id="req_test",
        origin_url="https://worker.test",
    )


AUTH = {"authorization": "Bearer sk-a"}


async def serve(call: Call) -> Reply:
    """Run the pipeline and collect a streamed body the way the adapter would."""
    reply = await app.handle(call)
    if isinstance(reply.body, StreamBody):
        stream, transform = reply.body.source, reply.body.transform
        parts: list[bytes] = []
        try:
            async for chunk in stream.iterate():
                parts.append(transform.feed(chunk) if transform else chunk)
            parts.append(transform.end() if transform else b"")
        except ConnectionError:
            parts.append(transform.fail("The upstream stream failed before it finished."))
            parts.append(transform.end())
        reply.body = b"".join(parts)
    deferred = call.env.defer
    while isinstance(deferred, Deferred) and deferred:
        await deferred.pop(0)
    if isinstance(reply.body, bytes) and reply.headers.get("content-type", "").startswith(
        ("text/", "application/json")
    ):
        reply.body = reply.body.decode()
    return reply


def body_json(reply: Reply) -> Any:
    return json.loads(reply.body)


def run(call: Call) -> Reply:
    """Serve `call` synchronously."""
    return asyncio.run(serve(call))
