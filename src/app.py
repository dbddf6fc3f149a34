"""The request pipeline, runtime-free: preflight -> route -> auth -> size -> handler -> headers.

Every failure leaves here as a rendered error (OpenAI's shape unless the route has its own);
an unexpected exception is logged with its traceback and answered with a generic 500.
"""

from __future__ import annotations

import dataclasses
import sys
import traceback

import agreement
import auth
import config
import cors
import routes
from errors import ApiError
from exchange import Call, Reply, error_reply


def _too_large(limit: int) -> ApiError:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return ApiError(
        413,
        f"The request body is larger than this endpoint accepts ({size}).",
        "invalid_request_error",
        None,
        "request_too_large",
    )


def _declared_length(call: Call) -> int:
    try:
        return int(call.headers.get("content-length", "0") or 0)
    except ValueError:
        return 0


def _check_key(route: routes.Route, call: Call, settings: config.Config) -> None:
    deepl = route.auth == routes.DEEPL_KEY
    allow_query = deepl or route.auth == routes.API_KEY_OR_QUERY
    try:
        auth.check(settings, call.headers, call.query, allow_query, deepl=deepl)
    except ApiError as err:
        # DeepL's legacy `auth_key` may be in the body, which only the handler parses: it
        # checks the key itself (`auth.check_deepl`) before anything else.
        if not (deepl and err.code == auth.MISSING_KEY.code):
            raise


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
        if _declared_length(call) > route.max_body:
            raise _too_large(route.max_body)
        call.params = params
        call.max_body = route.max_body
        return await route.handler(call)
    except ApiError as err:
        return route.render(err)


async def handle(call: Call) -> Reply:
    """Answer one request; never raises."""
    origin = call.headers.get("origin")
    try:
        settings = config.load(call.env.vars)
    except ApiError as err:
        reply = error_reply(err)
        reply.headers["x-request-id"] = call.request_id
        return reply
    if not isinstance(call.env.ai, agreement.AgreeingAi):
        # License-gated models (5016) are agreed to once per isolate, then retried.
        call.env = dataclasses.replace(call.env, ai=agreement.AgreeingAi(call.env.ai))
    if call.method == "OPTIONS":
        reply = Reply(204, None, cors.preflight_headers(settings.cors_origins, call.headers))
    else:
        try:
            reply = await _dispatch(call, settings)
        except Exception:  # a bug: log it, never leak it
            print(
                f"[{call.request_id}] {call.method} {call.path} failed:\n" + traceback.format_exc(),
                file=sys.stderr,
            )
            reply = error_reply(
                ApiError(
                    500,
                    f"The server failed to handle this request (request id {call.request_id}).",
                    "server_error",
                    None,
                    "internal_error",
                )
            )
        reply.headers.update(cors.response_headers(settings.cors_origins, origin))
    reply.headers["x-request-id"] = call.request_id
    if call.method == "HEAD":
        reply.body = None
    return reply
