"""Where generated images live so answers can link to them, chosen by configuration:

    IMAGES (R2 binding)   content-hash key in the bucket; `GET /file/{key}` serves it
    IMAGE_UPLOAD_URL      a telegra.ph-compatible host: multipart `file` ->
                          [{"src": "/file/<key>"}]; `GET /file/{key}` proxies to that host only
    neither               no link: callers answer a `data:` URL

Pure helpers (keys, URLs, multipart framing, conditional requests) plus `save`, which only uses
the runtime-free `exchange` protocols. A failed store is a 502, never a broken link.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import urlsplit

from core import log
from core.errors import ApiError
from core.exchange import Call
from formats import imagesize

# Keys are content hashes, so an object never changes once written.
CACHE_CONTROL = "public, max-age=31536000, immutable"
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
UPLOAD_ANSWER_LIMIT = 64 * 1024

# One path segment of safe characters: no '/', '\\', '%', '@', ':', '?', '#' or spaces, so a
# key can neither leave `/file/` on our origin nor change the host of a proxied URL.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")


def content_key(data: bytes, content_type: str) -> str:
    """The storage key: 160 bits of SHA-256 of the bytes, so it cannot be guessed without them."""
    digest = hashlib.sha256(data).hexdigest()[:40]
    return f"{digest}.{EXTENSIONS.get(content_type, 'bin')}"


def valid_key(key: str) -> bool:
    """Whether `key` is a single safe path segment (no traversal, encoding or host tricks)."""
    return bool(_KEY.match(key)) and ".." not in key


def file_url(base: str, key: str) -> str:
    """The absolute link to a stored key on this Worker."""
    return f"{base.rstrip('/')}/file/{key}"


def data_url(data: bytes, content_type: str) -> str:
    """A self-contained `data:` URL (used when no storage is configured)."""
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def upload_origin(upload_url: str) -> str | None:
    """`scheme://host[:port]` of IMAGE_UPLOAD_URL: the only host `/file/` may proxy to."""
    parts = urlsplit(upload_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def upload_body(data: bytes, content_type: str, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one `file` part, and its Content-Type header."""
    # Derived from the data, so it cannot occur in it (and needs no entropy source).
    boundary = "----workers-ai-openai-" + hashlib.sha256(b"boundary" + data).hexdigest()[:32]
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, f"multipart/form-data; boundary={boundary}"


def upload_key(answer: bytes) -> str:
    """The key in a telegra.ph-style answer `[{"src": "/file/<key>"}]`; ValueError otherwise."""
    value = json.loads(answer)
    if isinstance(value, dict) and "error" in value:
        raise ValueError(f"the upload host refused the file: {str(value['error'])[:200]}")
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        raise ValueError("the upload host answered without a file path")
    src = value[0].get("src")
    if not isinstance(src, str) or not src.startswith("/file/"):
        raise ValueError("the upload host answered without a /file/ path")
    key = src[len("/file/") :]
    if not valid_key(key):
        raise ValueError("the upload host answered with an unusable file path")
    return key


def http_date(ms: int) -> str:
    """An IMF-fixdate for Last-Modified."""
    return formatdate(ms / 1000, usegmt=True)


def not_modified(headers: Mapping[str, str], etag: str, uploaded_ms: int) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since when both are sent."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or etag.removeprefix("W/") in wanted
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return uploaded_ms // 1000 <= since
    return False


def storage_failed(what: str) -> ApiError:
    """The 502 for a store or upload that did not work (the detail stays in the logs)."""
    return ApiError(
        502,
        f"The image was generated but could not be stored ({what}). No link was made; "
        'retry, or ask for response_format "b64_json".',
        "api_error",
        None,
        "image_storage_failed",
    )


async def save(call: Call, data: bytes, content_type: str) -> str:
    """Store `data` where configuration says and return its absolute URL; a `data:` URL when
    no storage is configured."""
    env, settings = call.env, call.settings
    base_url = settings.public_base_url or call.origin_url
    key = content_key(data, content_type)
    if env.images is not None:
        try:
            await env.images.put(key, data, content_type)
        except OSError as exc:
            log.error(call.request_id, "image_store_failed", reason=str(exc))
            raise storage_failed("the IMAGES bucket refused it") from None
        return file_url(base_url, key)
    if settings.image_upload_url:
        return file_url(base_url, await _upload(call, data, key))
    return data_url(data, content_type)


async def _upload(call: Call, data: bytes, key: str) -> str:
    env, settings = call.env, call.settings
    if env.fetch is None or upload_origin(settings.image_upload_url) is None:
        raise storage_failed("IMAGE_UPLOAD_URL is not an http(s) URL")
    content_type = imagesize.sniff(data)
    body, form_type = upload_body(data, content_type, key)
    try:
        answer = await env.fetch(
            settings.image_upload_url,
            "POST",
            {"content-type": form_type, "accept": "application/json"},
            body,
            max_bytes=UPLOAD_ANSWER_LIMIT,
            timeout_s=settings.fetch_timeout_s,
        )
    except OSError as exc:
        log.error(call.request_id, "image_upload_failed", reason=str(exc))
        raise storage_failed("the upload host could not be reached") from None
    if not 200 <= answer.status < 300:
        log.error(call.request_id, "image_upload_failed", status=answer.status)
        raise storage_failed(f"the upload host answered HTTP {answer.status}")
    try:
        return upload_key(answer.body)
    except (ValueError, UnicodeDecodeError) as exc:
        log.error(call.request_id, "image_upload_failed", reason=str(exc))
        raise storage_failed("the upload host gave no usable link") from None
