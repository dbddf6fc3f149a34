"""The route table: every (method, path) the Worker answers, in one place.

A path matches FULL (method too), PARTIAL (path only: 405 with `Allow`) or not at all (404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.errors import ApiError
from core.exchange import Call, Reply, error_reply
from handlers import (
    audio,
    chat,
    completions,
    embeddings,
    files,
    health,
    images,
    models,
    moderations,
    openapi,
    responses,
    translate,
)

Handler = Callable[[Call], Awaitable[Reply]]

# Auth schemes.
PUBLIC = "public"
API_KEY = "api_key"  # Authorization: Bearer, x-api-key, api-key
API_KEY_OR_QUERY = "api_key_or_query"  # + ?token= / ?password= for translation clients
# + DeepL's legacy `auth_key`: in the query, or in the body, which the handler checks
# (`auth.check_deepl`); the pipeline lets a request without any other key through to it.
DEEPL_KEY = "deepl_key"

MiB = 1024 * 1024
JSON_LIMIT = 10 * MiB  # room for inline data-URI images in vision requests
UPLOAD_LIMIT = 25 * MiB + 64 * 1024  # OpenAI's 25 MB file cap plus multipart framing
TRANSLATE_LIMIT = 128 * 1024  # DeepL's own request-size cap


@dataclass(frozen=True)
class Route:
    """One endpoint: `{name}` captures one path segment, a final `{name...}` the rest."""

    method: str
    path: str
    handler: Handler
    auth: str = API_KEY
    max_body: int = JSON_LIMIT
    render: Callable[[ApiError], Reply] = error_reply  # the route family's error shape

    def match(self, path: str) -> dict[str, str] | None:
        """Captured parameters when `path` fits this route's pattern."""
        want = self.path.split("/")
        got = path.split("/")
        params: dict[str, str] = {}
        if want[-1].endswith("...}"):
            if len(got) < len(want):
                return None
            params[want[-1][1:-4]] = "/".join(got[len(want) - 1 :])
            want, got = want[:-1], got[: len(want) - 1]
        if len(want) != len(got):
            return None
        for pattern, segment in zip(want, got, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                params[pattern[1:-1]] = segment
            elif pattern != segment:
                return None
        return params if all(params.values()) else None


def _deepl(method: str, path: str, handler: Handler) -> Route:
    """A DeepL API route: DeepL's key forms, body cap and error shape."""
    return Route(
        method, path, handler, DEEPL_KEY, max_body=TRANSLATE_LIMIT, render=translate.render_deepl
    )


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", health.show, auth=PUBLIC),
    # Public: API tools and browsers read it before they have a key (docs/openapi.md).
    Route("GET", "/openapi.json", openapi.show, auth=PUBLIC),
    Route("GET", "/v1/models", models.list_models),
    Route("GET", "/v1/models/{model...}", models.retrieve),
    Route("POST", "/v1/chat/completions", chat.create),
    Route("POST", "/v1/completions", completions.create),
    Route("POST", "/v1/embeddings", embeddings.create),
    Route("POST", "/v1/moderations", moderations.create),
    Route("POST", "/v1/responses", responses.create),
    Route("GET", "/v1/responses/{response_id}", responses.retrieve),
    Route("DELETE", "/v1/responses/{response_id}", responses.delete),
    Route("GET", "/v1/responses/{response_id}/input_items", responses.input_items),
    Route("POST", "/v1/images/generations", images.generate),
    Route("POST", "/v1/images/edits", images.edit, max_body=UPLOAD_LIMIT),
    Route("POST", "/v1/audio/transcriptions", audio.transcribe, max_body=UPLOAD_LIMIT),
    Route("POST", "/v1/audio/translations", audio.translate, max_body=UPLOAD_LIMIT),
    Route("POST", "/v1/audio/speech", audio.create_speech),
    # Public: <img> tags cannot send a key; keys are unguessable content hashes (docs/images.md).
    Route("GET", "/file/{key}", files.show, auth=PUBLIC),
    # DeepLX (Immersive Translate) and DeepL: query-string tokens, errors in their own shapes.
    Route(
        "POST",
        "/translate",
        translate.deeplx,
        auth=API_KEY_OR_QUERY,
        max_body=TRANSLATE_LIMIT,
        render=translate.render_deeplx,
    ),
    _deepl("POST", "/v2/translate", translate.deepl),
    # What DeepL clients ask at startup; DeepL answers GET and POST alike.
    _deepl("GET", "/v2/languages", translate.deepl_languages),
    _deepl("POST", "/v2/languages", translate.deepl_languages),
    _deepl("GET", "/v2/usage", translate.deepl_usage),
    _deepl("POST", "/v2/usage", translate.deepl_usage),
)


def candidates(path: str) -> tuple[str, ...]:
    """Paths to try: as sent without a trailing slash, then with `/v1` added or a doubled one cut.

    Clients are often configured with a base URL without `/v1`, or with it twice.
    """
    path = path.rstrip("/") or "/"
    if path.startswith("/v1/v1/"):
        return (path, path[3:])
    if not path.startswith("/v1/"):
        return (path, "/v1" + path)
    return (path,)


def find(method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
    """The matching route and its params, or None and the methods the path allows."""
    allowed: list[str] = []
    for candidate in candidates(path):
        for route in ROUTES:
            params = route.match(candidate)
            if params is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, params, []
            if route.method not in allowed:
                allowed.append(route.method)
        if allowed:
            break
    return None, {}, allowed
