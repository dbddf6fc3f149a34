"""The request pipeline, runtime-free: preflight -> route -> auth -> size -> handler -> headers.

Every failure leaves here as a rendered error (OpenAI's shape unless the route has its own);
an unexpected exception is logged with its traceback and answered with a generic 500.
"""

from __future__ import annotations

import time
import traceback

import routes
from core import auth, config, cors, log
from core.errors import ApiError, internal_error, rate_limited, too_large
from core.exchange import Call, Reply, error_reply


def _declared_length(call: Call) -> int:
    try:
        return int(call.headers.get("content-length", "0") or 0)
    except ValueError:
        return 0


def _check_key(route: routes.Route, call: Call, settings: config.Config) -> None:
    deepl = route.auth == routes.DEEPL_KEY
    allow_query = deepl or route.auth == routes.API_KEY_OR_QUERY
    try:
        key = auth.check(settings, call.headers, call.query, allow_query, deepl=deepl)
    except ApiError as err:
        # DeepL's legacy `auth_key` may be in the body, which only the handler parses: it
        # checks the key itself (`auth.check_deepl`) before anything else.
        if not (deepl and err.code == auth.MISSING_KEY.code):
            raise
        key = None
    call.key_id = auth.fingerprint(key) if key else None


RETRY_AFTER_S = 60  # the longest period the Rate Limiting binding allows


async def _check_rate(call: Call, settings: config.Config) -> None:
    limiter = call.env.rate_limiter
    if limiter is None:
        return
    policy = settings.key_policies.get(call.key_id or "")
    if policy is not None and not policy.rate_limited:
        return
    if not await limiter.allow(call.key_id or "anonymous"):
        raise rate_limited(RETRY_AFTER_S)


async def _dispatch(call: Call, settings: config.Config) -> Reply:
    route, params, allowed = routes.find(call.method, call.path)
    if route is None:
        if allowed:
            reply = error_reply(
                ApiError(405, f"Method {call.method} is not allowed on {call.path}.")
            )
            reply.headers["allow"] = ", ".join([*allowed, "OPTIONS"])
            return reply
        return error_reply(
            ApiError(404, f"Invalid URL ({call.method} {call.path})", code="not_found")
        )
    try:
        if route.auth != routes.PUBLIC:
            _check_key(route, call, settings)
            await _check_rate(call, settings)
        if _declared_length(call) > route.max_body:
            raise too_large(route.max_body)
        call.params = params
        call.max_body = route.max_body
        return await route.handler(call)
    except ApiError as err:
        reply = route.render(err)
        reply.headers.update(err.headers or {})
        return reply


async def handle(call: Call) -> Reply:
    """Answer one request; never raises. Logs one line per request (docs/operations.md)."""
    started = time.monotonic()
    reply = await _answer(call)
    reply.headers["x-request-id"] = call.request_id
    if call.method == "HEAD":
        reply.body = None
    log.event(
        call.request_id,
        "request",
        method=call.method,
        path=call.path,  # never the query: keys may be there
        status=reply.status,
        key=call.key_id,
        models=call.metrics.models or None,
        tokens=call.metrics.tokens,
        upstream_ms=round(call.metrics.upstream_ms, 1),
        total_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return reply


async def _answer(call: Call) -> Reply:
    origin = call.headers.get("origin")
    try:
        settings = call.settings = config.load(call.env.vars)
    except ApiError as err:
        return error_reply(err)
    if call.method == "OPTIONS":
        return Reply(204, None, cors.preflight_headers(settings.cors_origins, call.headers))
    try:
        reply = await _dispatch(call, settings)
    except Exception:  # a bug: log it, never leak it
        log.error(
            call.request_id, "unhandled_exception", method=call.method, path=call.path,
            traceback=traceback.format_exc(),
        )  # fmt: skip
        reply = error_reply(internal_error(call.request_id))
    reply.headers.update(cors.response_headers(settings.cors_origins, origin))
    return reply
