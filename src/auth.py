"""API-key checks. Fails closed: no configured key means no access unless ALLOW_ANONYMOUS=true.

Keys are compared with `hmac.compare_digest` against every configured key (no early exit), so
timing reveals neither which key matched nor how much of one did. Keys never appear in errors.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from config import Config
from errors import ApiError

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


def presented_key(
    headers: Mapping[str, str], query: Mapping[str, str], allow_query: bool
) -> str | None:
    """The key a request carries: a header form, or for translation routes `?token=`/`?password=`.

    `Authorization: DeepL-Auth-Key <key>` is accepted too, as DeepL clients send it.
    """
    authorization = headers.get("authorization", "").strip()
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in ("bearer", "deepl-auth-key") and value.strip():
        return value.strip()
    for name in ("x-api-key", "api-key"):
        if headers.get(name, "").strip():
            return headers[name].strip()
    if allow_query:
        for name in ("token", "password"):
            if query.get(name, "").strip():
                return query[name].strip()
    return None


def key_matches(key: str, keys: tuple[str, ...]) -> bool:
    """Constant-time membership test."""
    presented = key.encode()
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(presented, candidate.encode())
    return found


def check(
    config: Config, headers: Mapping[str, str], query: Mapping[str, str], allow_query: bool
) -> None:
    """Raise a 401 ApiError unless the request may proceed."""
    if not config.api_keys:
        if config.allow_anonymous:
            return
        raise NO_KEYS_CONFIGURED
    key = presented_key(headers, query, allow_query)
    if key is None:
        raise MISSING_KEY
    if not key_matches(key, config.api_keys):
        raise WRONG_KEY
