"""CORS for browser clients (LobeChat, NextChat, Open WebUI in the browser, Immersive Translate).

`CORS_ORIGINS` is `*` (default) or a comma-separated list of exact origins.
"""

from __future__ import annotations

from collections.abc import Mapping

ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
# Used when a preflight names no headers; the OpenAI SDKs send these.
DEFAULT_ALLOW_HEADERS = (
    "authorization, content-type, x-api-key, api-key, x-request-id, openai-organization, "
    "openai-project, openai-beta, x-stainless-arch, x-stainless-lang, x-stainless-os, "
    "x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, "
    "x-stainless-runtime-version, x-stainless-timeout, x-stainless-async"
)
EXPOSE_HEADERS = "x-request-id, retry-after"
# Requested headers a preflight never allows: this API reads no cookies and no proxy or
# forwarding headers, so a page has no reason to send them.
_REFUSED = frozenset({"cookie", "cookie2", "set-cookie", "host", "origin", "connection"})
_REFUSED_PREFIXES = ("sec-", "proxy-", "x-forwarded-", "cf-")
_ANY = {"access-control-allow-origin": "*", "access-control-expose-headers": EXPOSE_HEADERS}


def response_headers(origins: tuple[str, ...], request_origin: str | None) -> dict[str, str]:
    """Headers that let `request_origin` read the response (empty if it may not)."""
    if "*" in origins:
        return _ANY
    if request_origin and request_origin in origins:
        return {
            "access-control-allow-origin": request_origin,
            "access-control-expose-headers": EXPOSE_HEADERS,
            "vary": "Origin",
        }
    return {"vary": "Origin"}


def preflight_headers(origins: tuple[str, ...], headers: Mapping[str, str]) -> dict[str, str]:
    """Headers answering an OPTIONS preflight."""
    result = dict(response_headers(origins, headers.get("origin")))
    if "access-control-allow-origin" in result:
        result["access-control-allow-methods"] = ALLOW_METHODS
        result["access-control-allow-headers"] = _allowed_headers(
            headers.get("access-control-request-headers", "")
        )
        result["access-control-max-age"] = "86400"
    return result


def _allowed_headers(requested: str) -> str:
    """The requested header names a page may send, or the SDK defaults when it named none."""
    names = [name.strip().lower() for name in requested.split(",") if name.strip()]
    allowed = [
        name for name in names if name not in _REFUSED and not name.startswith(_REFUSED_PREFIXES)
    ]
    return ", ".join(allowed) if names else DEFAULT_ALLOW_HEADERS
