"""What handlers see and return: the runtime-free request/response types.

The JS adapter (`bridge.adapter`) builds a `Call` from a `workers.Request` and turns a `Reply`
into a `workers.Response`; unit tests build them from plain Python fakes. Nothing here imports `js`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.config import Config
from core.errors import ApiError, invalid
from core.validate import MAX_SAFE_INTEGER
from formats.filebytes import Data

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"


def dumps(obj: Any) -> str:
    """Compact JSON as every response body is written."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Upload(Protocol):
    """A file part of a multipart body (a JS `File` in production, kept on the JS side)."""

    name: str
    content_type: str
    size: int

    async def bytes(self) -> bytes:
        """The whole file, copied into Python."""
        ...

    async def head(self, size: int) -> bytes:
        """At most the first `size` bytes (to sniff the type), without reading the rest."""
        ...

    def read(self, start: int, stop: int) -> bytes:
        """Bytes `start:stop`, copied into Python: how the format readers go through a file
        (`formats.filebytes`), a bounded slice at a time. The file is already in memory."""
        ...

    def stream(self, content_type: str) -> StreamInput:
        """The file as a model input the binding sends as the raw request body; reads nothing."""
        ...


class Form(dict):
    """A parsed form: each field name's first value, plus `all(name)` for every value of a name
    sent several times (`timestamp_granularities[]`). A plain dict to code that needs one value."""

    def __init__(
        self, first: Mapping[str, Any] | None = None, repeated: Mapping[str, list] | None = None
    ) -> None:
        super().__init__(first or {})
        self.repeated: dict[str, list] = dict(repeated or {})

    def all(self, name: str) -> list:
        """Every value sent under `name`, in order."""
        if name in self.repeated:
            return list(self.repeated[name])
        return [self[name]] if name in self else []


def form_values(form: Mapping[str, Any], name: str) -> list:
    """Every value of `name` in a parsed form (a `Form`, or any mapping of single values)."""
    if isinstance(form, Form):
        return form.all(name)
    return [form[name]] if name in form else []


class Body(Protocol):
    """Access to the request body, read at most once, refused (413) past `limit` bytes while
    it is read: a body without a Content-Length is never buffered beyond the limit."""

    async def bytes(self, limit: int) -> bytes: ...

    async def form(self, limit: int) -> Form: ...


# The most bytes sent as a JSON array of numbers (whisper's `audio`, SD inpainting's `image` and
# `mask`, the only form those inputs have). Each byte costs about 12 bytes of isolate memory on
# the way (a JS number array, then its JSON text at ~3.6 characters a byte; docs/audio.md
# measures it), and a Worker has 128 MB including the Pyodide heap (cloudflare-docs
# workers/platform/limits.mdx @ 01589d2e, "Worker memory 128 MB"); large arrays are also refused
# upstream (3010 "failed to decode JSON: Request is too large" / 3006, workers-ai.md §5).
BYTE_ARRAY_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class ByteList:
    """Bytes a model takes as a JSON array of numbers (whisper's `audio`).

    The adapter builds that array on the JavaScript side from one typed-array copy: a Python
    list of 20 million ints crossing into JS costs seconds and hundreds of MB. `data` may also
    be a `FileBytes` over an upload (an edit's image), whose array is built from its JS view.
    """

    data: Data


@dataclass(frozen=True)
class StreamInput:
    """An uploaded file a model takes as a stream (whisper-large-v3-turbo's `audio`).

    `source` is the adapter's handle on the file (a JS `File`; the upload itself in unit tests)
    and is opaque to handlers. `env.ai.run` sends it as `{"body": <ReadableStream>,
    "contentType": ...}`, so the file goes to Workers AI without a copy in Python. The binding
    allows one per run, and not through AI Gateway (docs/workers-ai.md §1.1).
    """

    source: Any
    content_type: str


@dataclass(frozen=True)
class Base64Input:
    """An uploaded file a model takes as base64 text (img2img's `image_b64`).

    `source` is a `FileBytes` over the upload (bytes in unit tests). `env.ai.run` builds the
    text in JavaScript from the upload's view, so the file is never copied into Python, and
    neither is its base64 (docs/performance.md, "Uploads").
    """

    source: Data


class UpstreamStream(Protocol):
    """An opaque stream returned by `env.AI.run` (SSE, PNG, MP3...)."""

    async def read_all(self) -> bytes: ...


class StreamTransform(Protocol):
    """Rewrites a byte stream chunk by chunk; `fail` writes the events that end a broken stream.

    In the Worker the common events are spliced in JavaScript (sse_splice.mjs) from
    `splice_heads()`, while `mode` allows it; `feed` gets everything else, and `end` the
    length of content spliced there.
    """

    def feed(self, data: bytes) -> bytes: ...

    def end(self, spliced_chars: int = 0) -> bytes: ...

    def fail(self, message: str) -> bytes: ...

    @property
    def mode(self) -> int: ...

    @property
    def open_call(self) -> tuple[int, str] | None: ...  # see `ChatStream.open_call`

    def splice_heads(self) -> Any: ...  # an `sse.SpliceHeads`


@runtime_checkable
class NumberedTransform(StreamTransform, Protocol):
    """A transform whose events carry sequence numbers (a Responses stream).

    sse_splice.mjs numbers what it splices from `sequence` (`delta_head` with the number in
    place of its NUL, then the text and `delta_tail`) and reports it to `absorb`
    (`<count>\\n<JSON string literal bodies>`) before Python is asked anything else.
    """

    sequence: int
    delta_head: str
    delta_tail: str

    def absorb(self, report: bytes) -> None: ...


@runtime_checkable
class StoppingTransform(StreamTransform, Protocol):
    """A transform whose content sse_splice.mjs cuts at stop sequences (a chat stream).

    Either side may match content against the stops, and the other adopts the outcome: `held`
    (the text held back, in case a stop starts there) after each call, and `settle` (what
    JavaScript's matching changed) before one (`ChatStream.settle`).
    """

    held: str

    def settle(self, state: bytes) -> None: ...


class Ai(Protocol):
    """`env.AI`: returns parsed JSON (dict/list/str/number) or an UpstreamStream."""

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any: ...


@dataclass(frozen=True)
class FormInput:
    """Text fields a model takes as one multipart/form-data body (flux-2).

    Put it in `inputs` (e.g. `{"multipart": FormInput(...)}`); `env.ai.run` encodes it as
    `{"body": <stream>, "contentType": "multipart/form-data; boundary=..."}` on the JS side.
    """

    fields: Mapping[str, str]


class Storage(Protocol):
    """An R2 bucket as the image store uses it; failures raise OSError."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def head(self, key: str) -> StoredObject | None: ...

    async def get(self, key: str) -> StoredObject | None: ...


class Kv(Protocol):
    """A KV namespace (the `RESPONSES` binding): text values with a time to live."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def delete(self, key: str) -> None: ...


@dataclass
class StoredObject:
    """An object read from storage, with the metadata conditional requests need."""

    data: Any  # bytes, an UpstreamStream the adapter sends as a body, or None (head)
    content_type: str
    etag: str  # quoted, as sent in the ETag header
    uploaded_ms: int


class Fetch(Protocol):
    """Outbound HTTP (vision image URLs, the image upload host). Redirects come back as they
    are (callers check each hop); the body is read at most to `max_bytes` (ConnectionError past
    it), and the whole exchange within `timeout_s` (TimeoutError)."""

    async def __call__(
        self,
        url: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        max_bytes: int,
        timeout_s: float,
    ) -> FetchResult: ...


@dataclass
class FetchResult:
    """A buffered outbound response."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class RateLimiter(Protocol):
    """The Workers Rate Limiting binding (`[[ratelimits]]`): one counter per key string."""

    async def allow(self, key: str) -> bool: ...


@dataclass
class Env:
    """The Worker's configuration and bindings for one request."""

    vars: Mapping[str, str]
    ai: Ai
    images: Storage | None = None
    fetch: Fetch | None = None
    rate_limiter: RateLimiter | None = None
    responses: Kv | None = None  # stored Responses API objects
    # Runs work after the reply has gone (the Worker's `waitUntil`): a stream's last write.
    defer: Callable[[Awaitable[Any]], None] | None = None


@dataclass
class Metrics:
    """What the request log line reports besides status and time (never content)."""

    models: list[str] = field(default_factory=list)
    upstream_ms: float = 0.0
    tokens: int | None = None


@dataclass
class StreamBody:
    """A streamed reply: an upstream stream, optionally rewritten as text by `transform`."""

    source: UpstreamStream
    transform: StreamTransform | None = None
    idle_timeout_s: float = 0.0  # with a transform: end with an error after this much silence


@dataclass
class Call:
    """One incoming request as handlers see it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: Body
    env: Env
    request_id: str
    origin_url: str = ""  # scheme://host of the request, for absolute URLs in answers
    params: dict[str, str] = field(default_factory=dict)
    max_body: int = 0
    settings: Config = field(default_factory=Config)  # parsed once per request by `app`
    key_id: str | None = None  # the key's fingerprint (`auth.fingerprint`); None: anonymous
    metrics: Metrics = field(default_factory=Metrics)

    async def raw(self) -> bytes:
        """The body's bytes, within the route's limit."""
        return await self.body.bytes(self.max_body)

    async def form(self) -> Form:
        """The body as multipart or urlencoded form data, within the route's limit."""
        return await self.body.form(self.max_body)

    async def json(self) -> dict:
        """The body as a JSON object, or a 400 naming what is wrong with it."""
        return parse_json_object(await self.raw())


MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def _too_deep(raw: bytes) -> bool:
    """Whether JSON text nests arrays/objects more than MAX_JSON_DEPTH deep (or unbalanced).

    Pyodide's JSON decoder recurses on the JavaScript stack, and a few thousand levels crash
    the whole isolate before Python's recursion limit applies. Strings are cut out, then each
    pass removes one level of innermost brackets, at C speed.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return False
    rest = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_JSON_DEPTH):
        if not rest:
            return False
        rest = rest.replace(b"[]", b"").replace(b"{}", b"")
    return bool(rest)


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# A high surrogate escape not followed by a low one, or a low one not preceded by a high one.
_LONE_SURROGATE = re.compile(
    rb"(?i)\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})"
    rb"|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)


class _BadNumber(ValueError):
    """A JSON number the Worker refuses to carry (a 400, not a parse error)."""


def _no_constant(name: str) -> Any:
    raise _BadNumber(f"The JSON body holds {name}, which is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadNumber(f"The JSON body holds the number {text[:40]}, too large to represent.")
    return value


def _js_int(text: str) -> int | float:
    """A JSON integer as JavaScript reads it: past 2**53 a float, not a Python int that
    cannot cross into JavaScript (a model input holding one failed as a 502). Schemas carry
    such bounds (pydantic's int64 limits), so they are kept, not refused; validated fields
    (`max_tokens`) still refuse what is out of their range."""
    value = int(text)
    return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(value)


def parse_json_object(raw: bytes) -> dict:
    """`raw` as a JSON object, or a 400 naming what is wrong with it."""
    if not raw.strip():
        raise invalid("The request body is empty; send a JSON object.")
    if _too_deep(raw):
        raise invalid(
            f"The JSON body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep.",
            code="json_too_deep",
        )
    if _LONE_SURROGATE.search(raw):
        raise invalid(
            "The JSON body holds a lone UTF-16 surrogate escape (such as \\ud800), which is not "
            "text; send well-formed Unicode.",
            code="invalid_unicode",
        )
    try:
        value = json.loads(
            raw, parse_constant=_no_constant, parse_int=_js_int, parse_float=_finite_float
        )
    except _BadNumber as exc:
        raise invalid(str(exc), code="invalid_number") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid(
            "We could not parse the JSON body of your request. The API expects a JSON "
            "payload, but what was sent was not valid JSON."
        ) from None
    if not isinstance(value, dict):
        raise invalid("The request body must be a JSON object.")
    return value


@dataclass
class Reply:
    """A response before the adapter turns it into a `workers.Response`."""

    status: int = 200
    body: bytes | str | StreamBody | StoredObject | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON response with an explicit content type."""
    return Reply(status, dumps(obj), {"content-type": JSON_TYPE, **(headers or {})})


def error_reply(err: ApiError) -> Reply:
    """OpenAI's error shape for `err`."""
    return json_reply(err.body(), err.status)
