"""API-key checks. Fails closed: no configured key means no access unless ALLOW_ANONYMOUS=true.

The DeepL routes also take DeepL's legacy `auth_key`, in the query (checked here with the
headers) or as a body field: only the handler parses the body, so the pipeline lets a request
without any other key through to it, and the handler calls `check_deepl` with the body's fields
before doing anything else.

Keys are compared with `hmac.compare_digest` against every configured key (no early exit), so
timing reveals neither which key matched nor how much of one did. Keys never appear in errors.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from core.config import Config
from core.errors import ApiError

NO_KEYS_CONFIGURED = ApiError(
    401,
    "This server has no API keys configured, so it refuses every request. Set the API_KEYS "
    "secret (`npx wrangler secret put API_KEYS`, comma-separated) or ALLOW_ANONYMOUS=true.",
    "authentication_error",
    None,
    "no_api_keys_configured",
)
MISSING_KEY = ApiError(
    401,
    "You didn't provide an API key. Send it as `Authorization: Bearer <key>`, `x-api-key: <key>`"
    " or `api-key: <key>`.",
    "authentication_error",
    None,
    "missing_api_key",
)
WRONG_KEY = ApiError(
    401, "Incorrect API key provided.", "authentication_error", None, "invalid_api_key"
)


QUERY_NAMES = ("token", "password")
DEEPL_QUERY_NAMES = (*QUERY_NAMES, "auth_key")


def presented_key(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    allow_query: bool,
    *,
    deepl: bool = False,
) -> str | None:
    """The key a request carries: a header form, or for translation routes `?token=`/`?password=`
    (and on the DeepL routes `?auth_key=`).

    On those routes `Authorization: DeepL-Auth-Key <key>` is accepted too, as DeepL clients
    send it; the OpenAI routes take only the forms README names.
    """
    authorization = headers.get("authorization", "").strip()
    scheme, _, value = authorization.partition(" ")
    schemes = ("bearer", "deepl-auth-key") if allow_query else ("bearer",)
    if scheme.lower() in schemes and value.strip():
        return value.strip()
    for name in ("x-api-key", "api-key"):
        if headers.get(name, "").strip():
            return headers[name].strip()
    if allow_query:
        for name in DEEPL_QUERY_NAMES if deepl else QUERY_NAMES:
            if query.get(name, "").strip():
                return query[name].strip()
    return None


def fingerprint(key: str) -> str:
    """A stable id for a key that does not reveal it: what logs, rate limits, KEY_POLICIES and
    stored responses use (`python -c "from core.auth import fingerprint; ..."`, docs/security.md).
    """
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def key_matches(key: str, keys: tuple[str, ...]) -> bool:
    """Constant-time membership test."""
    presented = key.encode()
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(presented, candidate.encode())
    return found


def check(
    config: Config,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    allow_query: bool,
    *,
    deepl: bool = False,
) -> str | None:
    """The accepted key (None: anonymous access), or a 401 ApiError."""
    key = presented_key(headers, query, allow_query, deepl=deepl)
    verify(config, key)
    return key if config.api_keys else None


def check_deepl(
    config: Config,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    fields: Mapping[str, Any],
) -> None:
    """`check` for a DeepL route, where the key may also be the body's legacy `auth_key` field.

    A header or query key wins over the body's; a non-string `auth_key` counts as no key.
    """
    key = presented_key(headers, query, True, deepl=True)
    if key is None:
        body_key = fields.get("auth_key")
        if isinstance(body_key, str) and body_key.strip():
            key = body_key.strip()
    verify(config, key)


def verify(config: Config, key: str | None) -> None:
    """Raise a 401 ApiError unless `key` (None: none presented) may use the server."""
    if not config.api_keys:
        if config.allow_anonymous:
            return
        raise NO_KEYS_CONFIGURED
    if key is None:
        raise MISSING_KEY
    if not key_matches(key, config.api_keys):
        raise WRONG_KEY
