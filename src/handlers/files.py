"""`GET /file/{key}`: stored images, public and long-cached so chat UIs can show them.

No API key is needed: a key is an unguessable content hash (or the upload host's own name), and
an `<img>` tag cannot send one. From R2 (binding `IMAGES`) with ETag / Last-Modified and 304s;
otherwise proxied from IMAGE_UPLOAD_URL's host and no other, refusing any key that is not one
plain path segment.
"""

from __future__ import annotations

from core import config, log
from core.errors import ApiError, bad_upstream
from core.exchange import Call, Reply
from upstream import imagestore

PROXY_LIMIT = 20 * 1024 * 1024
_SAFE = {"x-content-type-options": "nosniff"}
_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif", "image/avif"})


def _not_found(message: str = "No stored file has this key.") -> ApiError:
    return ApiError(404, message, "invalid_request_error", None, "file_not_found")


def _cache_headers(etag: str, uploaded_ms: int) -> dict[str, str]:
    headers = {"cache-control": imagestore.CACHE_CONTROL, "etag": etag, **_SAFE}
    if uploaded_ms:
        headers["last-modified"] = imagestore.http_date(uploaded_ms)
    return headers


async def show(call: Call) -> Reply:
    """Serve one stored image (or 304 when the client's copy is current)."""
    key = call.params["key"]
    if not imagestore.valid_key(key):
        raise ApiError(
            400,
            "Invalid file key: it must be one path segment of letters, digits, '.', '_' and '-'.",
            "invalid_request_error",
            None,
            "invalid_file_key",
        )
    settings = call.settings
    if call.env.images is not None:
        return await _from_bucket(call, key)
    if settings.image_upload_url:
        return await _from_upload_host(call, settings, key)
    raise _not_found(
        "Image storage is not configured: bind an R2 bucket as IMAGES or set IMAGE_UPLOAD_URL "
        "(see docs/images.md)."
    )


async def _from_bucket(call: Call, key: str) -> Reply:
    store = call.env.images
    assert store is not None
    try:
        if "if-none-match" in call.headers or "if-modified-since" in call.headers:
            meta = await store.head(key)
            if meta is None:
                raise _not_found()
            if imagestore.not_modified(call.headers, meta.etag, meta.uploaded_ms):
                return Reply(304, None, _cache_headers(meta.etag, meta.uploaded_ms))
        found = await store.get(key)
    except OSError as exc:
        log.error(call.request_id, "file_read_failed", key=key, reason=str(exc))
        raise ApiError(
            502, "The image store could not be read.", "api_error", None, "image_storage_failed"
        ) from None
    if found is None:
        raise _not_found()
    headers = {"content-type": found.content_type, **_cache_headers(found.etag, found.uploaded_ms)}
    return Reply(200, found, headers)


async def _from_upload_host(call: Call, settings: config.Config, key: str) -> Reply:
    origin = imagestore.upload_origin(settings.image_upload_url)
    if origin is None or call.env.fetch is None:
        raise _not_found("IMAGE_UPLOAD_URL is not an http(s) URL.")
    forwarded = {
        name: call.headers[name]
        for name in ("if-none-match", "if-modified-since")
        if name in call.headers
    }
    try:
        answer = await call.env.fetch(
            f"{origin}/file/{key}",
            "GET",
            forwarded,
            max_bytes=PROXY_LIMIT,
            timeout_s=settings.fetch_timeout_s,
        )
    except OSError as exc:
        log.error(call.request_id, "file_proxy_failed", key=key, reason=str(exc))
        raise _bad_gateway() from None
    passed = {"cache-control": imagestore.CACHE_CONTROL, **_SAFE}
    for name in ("etag", "last-modified"):
        if name in answer.headers:
            passed[name] = answer.headers[name]
    if answer.status == 304:
        return Reply(304, None, passed)
    if answer.status == 404:
        raise _not_found()
    content_type = answer.headers.get("content-type", "")
    # Only raster images: anything else from that host (HTML, SVG) could run script on our origin.
    if answer.status != 200 or content_type.split(";")[0].strip().lower() not in _IMAGE_TYPES:
        log.error(
            call.request_id, "file_proxy_failed", key=key, status=answer.status,
            content_type=content_type,
        )  # fmt: skip
        raise _bad_gateway()
    return Reply(200, answer.body, {"content-type": content_type, **passed})


def _bad_gateway() -> ApiError:
    return bad_upstream("The image host did not return the image.")
