"""Checks one HTTP response against the Worker's OpenAPI document (`GET /openapi.json`).

Used by the replay test (`test_openapi.py`) and the `client` fixture's response hook
(`recorder`), so every response those see must be documented: its status listed for the
operation, its content type listed for that status, and a JSON body valid against that
content's schema. The operation is found with the Worker's own matcher (`routes.find`), so
`/chat/completions` and `/v1/v1/...` resolve as the Worker resolves them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import referencing

import routes
from mapping import openapi_doc

_URI = "urn:workers-ai-openai:openapi"


@cache
def document() -> dict[str, Any]:
    return openapi_doc.document()


@cache
def _registry() -> referencing.Registry:
    resource = referencing.Resource.from_contents(
        document(), default_specification=referencing.jsonschema.DRAFT202012
    )
    return referencing.Registry().with_resource(_URI, resource)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def operation_of(method: str, url: str) -> tuple[str, str] | None:
    """(OpenAPI path, method) of the operation answering `method url`, or None (404/405)."""
    route, _, _ = routes.find(method.upper(), urlsplit(url).path)
    if route is None:
        return None
    return route.path.replace("...}", "}"), route.method.lower()


def violations(
    method: str, url: str, status: int, content_type: str | None, body: bytes | None
) -> list[str]:
    """What in this response the document does not allow (empty: it conforms)."""
    found = operation_of(method, url)
    where = f"{method.upper()} {urlsplit(url).path} -> {status}"
    if found is None:
        # Unknown paths and methods are the pipeline's 404/405, always OpenAI's error shape.
        if status in (404, 405):
            return _body_violations(where, body, "#/components/schemas/OpenAIError")
        return [f"{where}: no documented operation"]
    path, verb = found
    responses = document()["paths"][path][verb]["responses"]
    if str(status) not in responses:
        return [f"{where}: status not documented (documented: {sorted(responses)})"]
    content = responses[str(status)].get("content")
    if not content:
        return [] if not body else [f"{where}: a body where none is documented"]
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in content:
        return [f"{where}: content type {content_type!r} not documented ({sorted(content)})"]
    if media != "application/json":
        return []
    ref = "#" + _pointer("", "paths", path, verb, "responses", str(status), "content", media)
    return _body_violations(where, body, ref + "/schema")


def recorder(problems: list[str]) -> Callable[[Any], None]:
    """An httpx response hook that appends each response's violations to `problems`.

    Streams are checked by status and content type only: reading one here would change what
    the test sees (timing, aborts).
    """

    def hook(response: Any) -> None:
        content_type = response.headers.get("content-type")
        streamed = (content_type or "").startswith("text/event-stream")
        body = None if streamed else response.read()
        request = response.request
        problems.extend(
            violations(request.method, str(request.url), response.status_code, content_type, body)
        )

    return hook


def _body_violations(where: str, body: bytes | None, ref: str) -> list[str]:
    try:
        instance = json.loads(body or b"")
    except ValueError:
        return [f"{where}: the body is not JSON: {(body or b'')[:200]!r}"]
    validator = jsonschema.Draft202012Validator({"$ref": _URI + ref}, registry=_registry())
    return [
        f"{where}: {error.message} at {error.json_path}"
        for error in validator.iter_errors(instance)
    ]
