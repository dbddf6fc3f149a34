"""The Worker's shell over HTTP: auth, CORS, routing, errors, request ids, models listing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest

SECRET = "sk-test-1"


def call(base_url: str, path: str, method: str = "GET", headers=None, body: bytes | None = None):
    request = urllib.request.Request(
        base_url + path, data=body, method=method, headers=dict(headers or {})
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_health_is_public(base_url):
    status, headers, body = call(base_url, "/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}
    assert headers["x-request-id"].startswith("req_")


def test_missing_key_is_401_in_openai_shape(base_url):
    status, headers, body = call(base_url, "/v1/models")
    assert status == 401
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "error": {
            "message": "You didn't provide an API key. Send it as `Authorization: Bearer <key>`,"
            " `x-api-key: <key>` or `api-key: <key>`.",
            "type": "authentication_error",
            "param": None,
            "code": "missing_api_key",
        }
    }


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {SECRET}"}, {"x-api-key": SECRET}, {"api-key": SECRET}],
)
def test_each_header_form_is_accepted(base_url, headers):
    status, _, body = call(base_url, "/v1/models", headers=headers)
    assert status == 200
    assert json.loads(body)["object"] == "list"


def test_wrong_key_is_401_and_never_echoed(base_url, worker):
    wrong = "sk-guess-that-must-not-leak-42"
    status, headers, body = call(
        base_url, "/v1/models", headers={"Authorization": f"Bearer {wrong}"}
    )
    assert status == 401
    assert json.loads(body)["error"]["code"] == "invalid_api_key"
    everything = body.decode() + str(headers) + worker.logs()
    assert wrong not in everything
    assert SECRET not in everything


def test_openai_sdk_sees_an_authentication_error(base_url):
    client = openai.OpenAI(base_url=base_url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert caught.value.status_code == 401


@pytest.mark.emulator
def test_no_keys_configured_fails_closed(start_worker):
    worker = start_worker({"API_KEYS": ""})
    status, _, body = call(worker.base_url, "/v1/models", headers={"Authorization": "Bearer x"})
    assert status == 401
    error = json.loads(body)["error"]
    assert error["code"] == "no_api_keys_configured"
    assert "API_KEYS" in error["message"]
    assert call(worker.base_url, "/health")[0] == 200


@pytest.mark.emulator
def test_allow_anonymous(start_worker):
    worker = start_worker({"API_KEYS": "", "ALLOW_ANONYMOUS": "true"})
    assert call(worker.base_url, "/v1/models")[0] == 200


def test_models_list_and_retrieve_with_the_sdk(client):
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in ids
    assert "gpt-4o-mini" in ids and "whisper-1" in ids
    one = client.models.retrieve("gpt-4o-mini")
    assert one.id == "gpt-4o-mini"
    assert one.owned_by == "meta"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-does-not-exist")


def test_model_ids_with_slashes_can_be_retrieved(base_url, api_key):
    status, _, body = call(
        base_url,
        "/v1/models/@cf/openai/gpt-oss-120b",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert status == 200
    assert json.loads(body)["id"] == "@cf/openai/gpt-oss-120b"


def test_unknown_route_is_404_and_wrong_method_405(base_url, api_key):
    auth = {"Authorization": f"Bearer {api_key}"}
    status, _, body = call(base_url, "/v1/nothing-here", headers=auth)
    assert status == 404
    assert json.loads(body)["error"]["message"] == "Invalid URL (GET /v1/nothing-here)"
    status, headers, body = call(base_url, "/v1/chat/completions", headers=auth)
    assert status == 405
    assert headers["Allow"] == "POST, OPTIONS"
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_invalid_json_is_400(base_url, api_key):
    status, _, body = call(
        base_url,
        "/v1/chat/completions",
        "POST",
        {"Authorization": f"Bearer {api_key}", "content-type": "application/json"},
        b"{not json",
    )
    assert status == 400
    assert "could not parse the JSON body" in json.loads(body)["error"]["message"]


def test_body_over_the_limit_is_413(client):
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x" * (11 * 2**20)}]
        )
    assert caught.value.status_code == 413
    assert caught.value.body["code"] == "request_too_large"


def test_cors_preflight_and_headers(base_url, api_key):
    status, headers, _ = call(
        base_url,
        "/v1/chat/completions",
        "OPTIONS",
        {
            "Origin": "https://chat.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "authorization, content-type"
    _, headers, _ = call(
        base_url,
        "/v1/models",
        headers={"Authorization": f"Bearer {api_key}", "Origin": "https://x"},
    )
    assert headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in headers["access-control-expose-headers"]


@pytest.mark.emulator
def test_cors_origin_list(start_worker):
    worker = start_worker({"API_KEYS": SECRET, "CORS_ORIGINS": "https://ok.example"})
    auth = {"Authorization": f"Bearer {SECRET}"}
    _, allowed, _ = call(
        worker.base_url, "/v1/models", headers={**auth, "Origin": "https://ok.example"}
    )
    assert allowed["access-control-allow-origin"] == "https://ok.example"
    _, denied, _ = call(
        worker.base_url, "/v1/models", headers={**auth, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in denied
