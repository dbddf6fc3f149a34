"""The OpenAPI document: valid OpenAPI 3.1, and exactly the routes of `routes.ROUTES`."""

from __future__ import annotations

import asyncio
import json

from openapi_spec_validator import validate

import routes
from handlers import openapi
from mapping import openapi_doc

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _openapi_path(path: str) -> str:
    # `{name...}` (the rest of the path) is an ordinary path parameter in OpenAPI.
    return path.replace("...}", "}")


def test_document_is_valid_openapi_3_1():
    document = openapi_doc.document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_and_nothing_else():
    documented = {
        (method.upper(), path)
        for path, item in openapi_doc.document()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    routed = {(route.method, _openapi_path(route.path)) for route in routes.ROUTES}
    assert documented == routed


def test_every_operation_documents_a_500_and_its_auth_failure():
    for path, item in openapi_doc.document()["paths"].items():
        for method, operation in item.items():
            (route, _, _) = routes.find(method.upper(), path.replace("{", "x").replace("}", ""))
            assert route is not None, (method, path)
            assert "500" in operation["responses"], (method, path)
            if route.auth == routes.PUBLIC:
                assert operation["security"] == [], (method, path)
            else:
                expected = "403" if route.auth == routes.DEEPL_KEY else "401"
                assert expected in operation["responses"], (method, path)


def test_served_as_json_without_a_key():
    reply = asyncio.run(openapi.show(None))  # type: ignore[arg-type]
    assert reply.status == 200
    assert reply.headers == {"content-type": "application/json"}
    assert json.loads(reply.body) == openapi_doc.document()
    assert routes.find("GET", "/openapi.json")[0].auth == routes.PUBLIC
