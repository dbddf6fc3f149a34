"""The OpenAPI document kept true by real responses (docs/openapi.md).

For every documented operation a representative request is replayed against the Worker for its
200 and for each error status it documents, and every answer is checked against the document
(`openapi_contract.violations`): status listed, content type listed, JSON body valid. Upstream
failures are made by the emulator's faults, the 500 by a broken setting. A status or operation
added to the document without a way to reach it here fails `test_every_documented_status_is_replayed`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from PIL import Image

from tests.audio_samples import wav_tone
from tests.http import openapi_contract
from tests.http.conftest import DEFAULT_API_KEYS

# Workers AI error codes that the Worker maps onto each documented status (core.errors._UPSTREAM).
FAULTS: dict[int, dict[str, Any]] = {
    403: {"code": 5016},
    404: {"code": 5007},
    413: {"code": 5021},
    429: {"code": 3040},
    456: {"code": 3036},
    502: {"code": 3001, "status": 500, "message": "Internal server error"},
    504: {"code": 3007},
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Sample:
    """A request for one operation: `path` (the template filled in), and `requests` arguments."""

    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    bad: dict[str, Any] | None = None  # what makes it a 400
    key: str = "header"  # how the API key is sent: header, or none for public routes


def _json(body: dict) -> dict[str, Any]:
    return {"json": body}


def _files(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> dict[str, Any]:
    return {"data": fields, "files": files}


RESPONSE = "/v1/responses/{response_id}"
MISSING_RESPONSE = "resp_0123456789abcdef0123456789abcdef"
SAMPLES: dict[tuple[str, str], Callable[[], Sample]] = {
    ("get", "/health"): lambda: Sample("/health", key="none"),
    ("get", "/openapi.json"): lambda: Sample("/openapi.json", key="none"),
    ("get", "/v1/models"): lambda: Sample("/v1/models"),
    ("get", "/v1/models/{model}"): lambda: Sample("/v1/models/gpt-4o-mini"),
    ("post", "/v1/chat/completions"): lambda: Sample(
        "/v1/chat/completions",
        _json({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}),
        _json({"model": "gpt-4o-mini", "messages": []}),
    ),
    ("post", "/v1/completions"): lambda: Sample(
        "/v1/completions",
        _json({"model": "gpt-3.5-turbo", "prompt": "Say hi"}),
        _json({"model": "gpt-3.5-turbo", "prompt": ""}),
    ),
    ("post", "/v1/embeddings"): lambda: Sample(
        "/v1/embeddings",
        _json({"model": "text-embedding-3-small", "input": ["a", "b"]}),
        _json({"input": []}),
    ),
    ("post", "/v1/moderations"): lambda: Sample(
        "/v1/moderations", _json({"input": "hello"}), _json({"input": 3})
    ),
    ("post", "/v1/images/generations"): lambda: Sample(
        "/v1/images/generations",
        _json({"model": "dall-e-2", "prompt": "a cat", "size": "256x256"}),
        _json({"prompt": "a cat", "n": 99}),
    ),
    ("post", "/v1/images/edits"): lambda: Sample(
        "/v1/images/edits",
        _files({"prompt": "blue", "size": "256x256"}, {"image": ("in.png", _png(), "image/png")}),
        _files({"prompt": "blue"}, {"image": ("in.png", b"not an image", "image/png")}),
    ),
    ("post", "/v1/audio/transcriptions"): lambda: Sample(
        "/v1/audio/transcriptions",
        _files({"model": "whisper-1"}, {"file": ("a.wav", wav_tone(), "audio/wav")}),
        _files({"model": "whisper-1"}, {"file": ("a.wav", b"nope", "audio/wav")}),
    ),
    ("post", "/v1/audio/translations"): lambda: Sample(
        "/v1/audio/translations",
        _files({"model": "whisper-1"}, {"file": ("a.wav", wav_tone(), "audio/wav")}),
        _files(
            {"model": "whisper-1", "response_format": "x"},
            {"file": ("a.wav", wav_tone(), "audio/wav")},
        ),
    ),
    ("post", "/v1/audio/speech"): lambda: Sample(
        "/v1/audio/speech",
        _json({"model": "tts-1", "input": "Hello"}),
        _json({"model": "tts-1", "input": "Hello", "speed": 9}),
    ),
    ("post", "/v1/responses"): lambda: Sample(
        "/v1/responses",
        _json({"model": "gpt-4o-mini", "input": "Hi"}),
        _json({"model": "gpt-4o-mini", "input": []}),
    ),
    # The id of a response stored first (`_sample`).
    ("get", "/v1/responses/{response_id}"): lambda: Sample(RESPONSE),
    ("delete", "/v1/responses/{response_id}"): lambda: Sample(RESPONSE),
    ("get", "/v1/responses/{response_id}/input_items"): lambda: Sample(
        RESPONSE + "/input_items", {"params": {"limit": "5"}}, {"params": {"limit": "0"}}
    ),
    # The key of an image stored first (`_sample`).
    ("get", "/file/{key}"): lambda: Sample("/file/{key}", key="none"),
    ("post", "/translate"): lambda: Sample(
        "/translate",
        _json({"text": "Hello world", "source_lang": "EN", "target_lang": "DE"}),
        _json({"text": "Hello", "target_lang": "XX"}),
        key="query",
    ),
    ("post", "/v2/translate"): lambda: Sample(
        "/v2/translate",
        {"data": {"text": "Hello world", "source_lang": "EN", "target_lang": "DE"}},
        _json({"text": [], "target_lang": "DE"}),
    ),
    ("get", "/v2/languages"): lambda: Sample(
        "/v2/languages", {"params": {"type": "target"}}, {"params": {"type": "x"}}
    ),
    ("post", "/v2/languages"): lambda: Sample(
        "/v2/languages", {"data": {"type": "source"}}, {"data": {"type": "x"}}
    ),
    ("get", "/v2/usage"): lambda: Sample("/v2/usage"),
    ("post", "/v2/usage"): lambda: Sample(
        "/v2/usage", {}, {"data": b"{", "headers": {"content-type": "application/json"}}
    ),
}

OPERATIONS = [
    (method, path) for path, item in openapi_contract.document()["paths"].items() for method in item
]
DOCUMENTED = {
    (method, path, int(status))
    for method, path in OPERATIONS
    for status in openapi_contract.document()["paths"][path][method]["responses"]
}
# Operations that run a model: the emulator's faults reach their upstream statuses.
UPSTREAM = {
    ("post", path)
    for path in (
        "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations",
        "/v1/images/generations", "/v1/images/edits", "/v1/audio/transcriptions",
        "/v1/audio/translations", "/v1/audio/speech", "/v1/responses", "/translate",
        "/v2/translate",
    )
}  # fmt: skip
FAULT_CASES = sorted((m, p, s) for m, p, s in DOCUMENTED if (m, p) in UPSTREAM and s in FAULTS)
BAD_CASES = sorted((m, p) for m, p, s in DOCUMENTED if s == 400)
# Statuses of operations that call no model, each reached by a request of its own.
OTHER_CASES: dict[tuple[str, str, int], Callable[[], Sample]] = {
    ("get", "/v1/models/{model}", 404): lambda: Sample("/v1/models/no-such-model"),
    ("get", "/file/{key}", 404): lambda: Sample("/file/0123456789abcdef.png", key="none"),
    # Never stored (another key's response and storage not configured: `test_responses_404`).
    **{
        (method, path, 404): lambda path=path: Sample(
            path.replace("{response_id}", MISSING_RESPONSE)
        )
        for method, path in OPERATIONS
        if "{response_id}" in path
    },
    **{
        (method, path, 413): lambda path=path: Sample(path, {"data": b"x" * 200_000})
        for method, path in OPERATIONS
        if path in ("/v2/languages", "/v2/usage")
    },
}


def _send(base_url: str, api_key: str | None, method: str, sample: Sample) -> requests.Response:
    kwargs = dict(sample.kwargs)
    headers = dict(kwargs.pop("headers", {}))
    params = dict(kwargs.pop("params", {}))
    if api_key and sample.key == "header":
        headers["authorization"] = f"Bearer {api_key}"
    elif api_key and sample.key == "query":
        params["token"] = api_key
    return requests.request(
        method, base_url + sample.path, headers=headers, params=params, timeout=60, **kwargs
    )


def _conforms(method: str, response: requests.Response) -> requests.Response:
    problems = openapi_contract.violations(
        method,
        str(response.request.url),
        response.status_code,
        response.headers.get("content-type"),
        response.content,
    )
    assert not problems, problems
    return response


def _stored_key(base_url: str, api_key: str) -> str:
    created = requests.post(
        base_url + "/v1/images/generations",
        headers={"authorization": f"Bearer {api_key}"},
        json={"model": "dall-e-2", "prompt": "a stored cat", "response_format": "url"},
        timeout=60,
    )
    return created.json()["data"][0]["url"].rsplit("/", 1)[1]


def _stored_response(base_url: str, api_key: str) -> str:
    created = requests.post(
        base_url + "/v1/responses",
        headers={"authorization": f"Bearer {api_key}"},
        json={"model": "gpt-4o-mini", "input": [{"role": "user", "content": "Keep this"}]},
        timeout=60,
    )
    assert created.status_code == 200, created.text
    assert created.json()["store"] is True, "the default worker has the RESPONSES binding"
    return created.json()["id"]


def _sample(method: str, path: str, base_url: str, api_key: str) -> Sample:
    sample = SAMPLES[(method, path)]()
    if path == "/file/{key}":
        sample.path = "/file/" + _stored_key(base_url, api_key)
    if "{response_id}" in path:
        sample.path = sample.path.replace("{response_id}", _stored_response(base_url, api_key))
    return sample


def _ids(cases) -> list[str]:
    return [" ".join(map(str, case)) for case in cases]


def test_every_operation_has_a_sample():
    assert sorted(SAMPLES) == sorted(OPERATIONS)


def test_every_documented_status_is_replayed():
    """Each documented (operation, status) is reached by one of the tests below."""
    reached = {
        *((m, p, 200) for m, p in OPERATIONS),
        *((m, p, 500) for m, p in OPERATIONS),
        *FAULT_CASES,
        *((m, p, 400) for m, p in BAD_CASES),
        *((m, p, s) for m, p in OPERATIONS for s in (401, 403) if SAMPLES[(m, p)]().key != "none"),
        *OTHER_CASES,
        ("get", "/file/{key}", 304),
        ("get", "/file/{key}", 502),
    }
    assert sorted(DOCUMENTED - reached) == []


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=_ids(OPERATIONS))
def test_success_conforms(base_url, api_key, method, path):
    response = _send(base_url, api_key, method, _sample(method, path, base_url, api_key))
    assert response.status_code == 200, response.text
    _conforms(method, response)


@pytest.mark.emulator
@pytest.mark.parametrize(("method", "path", "status"), FAULT_CASES, ids=_ids(FAULT_CASES))
def test_upstream_failures_conform(base_url, api_key, emulator_control, method, path, status):
    emulator_control.fault(model="*", times=None, **FAULTS[status])
    response = _send(base_url, api_key, method, _sample(method, path, base_url, api_key))
    assert response.status_code == status, response.text
    _conforms(method, response)


@pytest.mark.parametrize(("method", "path"), BAD_CASES, ids=_ids(BAD_CASES))
def test_bad_requests_conform(base_url, api_key, method, path):
    sample = _sample(method, path, base_url, api_key) if "{response_id}" in path else None
    sample = sample or SAMPLES[(method, path)]()
    if path == "/file/{key}":
        sample.path = "/file/bad..key"
    else:
        assert sample.bad is not None, "give the sample a `bad` request"
        sample.kwargs = sample.bad
    response = _send(base_url, api_key, method, sample)
    assert response.status_code == 400, response.text
    _conforms(method, response)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=_ids(OPERATIONS))
def test_missing_key_conforms(base_url, method, path):
    sample = SAMPLES[(method, path)]()
    response = _conforms(method, _send(base_url, None, method, sample))
    if sample.key != "none":
        assert response.status_code == (403 if path.startswith("/v2/") else 401), response.text


@pytest.mark.parametrize(
    ("method", "path", "status"), sorted(OTHER_CASES), ids=_ids(sorted(OTHER_CASES))
)
def test_other_statuses_conform(base_url, api_key, method, path, status):
    response = _send(base_url, api_key, method, OTHER_CASES[(method, path, status)]())
    assert response.status_code == status, response.text
    _conforms(method, response)


def test_file_not_modified_conforms(base_url, api_key):
    sample = _sample("get", "/file/{key}", base_url, api_key)
    first = _conforms("get", _send(base_url, None, "get", sample))
    sample.kwargs = {"headers": {"if-none-match": first.headers["etag"]}}
    assert _conforms("get", _send(base_url, None, "get", sample)).status_code == 304


def test_file_host_failure_conforms(start_worker, api_key):
    # No R2 bucket and an upload host that refuses connections: the proxy answers 502.
    worker = start_worker({"API_KEYS": api_key, "IMAGE_UPLOAD_URL": "http://127.0.0.1:9/upload"})
    response = _send(worker.base_url, None, "get", Sample("/file/abc.png", key="none"))
    assert response.status_code == 502, response.text
    _conforms("get", response)


def test_broken_setting_500_conforms_everywhere(start_worker, api_key):
    broken = start_worker({"API_KEYS": api_key, "MODEL_ALIASES": "not json"})
    for method, path in OPERATIONS:
        sample = SAMPLES[(method, path)]()
        sample.path = sample.path.replace("{key}", "abc.png")
        sample.path = sample.path.replace("{response_id}", MISSING_RESPONSE)
        response = _send(broken.base_url, api_key, method, sample)
        assert response.status_code == 500, (method, path, response.text)
        _conforms(method, response)


def test_openapi_json_is_public_json_with_cors(base_url):
    response = requests.get(base_url + "/openapi.json", headers={"origin": "https://example.com"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["x-request-id"]
    assert response.json() == openapi_contract.document()
    head = requests.head(base_url + "/openapi.json")
    assert (head.status_code, head.content) == (200, b"")


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/v1/nothing", 404), ("DELETE", "/v1/embeddings", 405)]
)
def test_unknown_path_and_method_are_openai_errors(base_url, api_key, method, path, status):
    response = requests.request(
        method, base_url + path, headers={"authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == status
    _conforms(method, response)


RESPONSE_READS = [(m, p) for m, p in OPERATIONS if "{response_id}" in p]


@pytest.mark.parametrize(("method", "path"), RESPONSE_READS, ids=_ids(RESPONSE_READS))
def test_responses_404_conforms(start_worker, base_url, api_key, method, path):
    """A stored response read with another key, and any read without storage: 404."""
    other_key = DEFAULT_API_KEYS.split(",")[1]
    sample = _sample(method, path, base_url, api_key)
    response = _conforms(method, _send(base_url, other_key, method, sample))
    assert response.status_code == 404, response.text
    keyless = start_worker({"API_KEYS": DEFAULT_API_KEYS}).base_url  # no RESPONSES binding
    response = _conforms(method, _send(keyless, api_key, method, sample))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "storage_not_configured"


def test_responses_stream_conforms(base_url, api_key):
    sample = SAMPLES[("post", "/v1/responses")]()
    sample.kwargs = _json({"model": "gpt-4o-mini", "input": "Hi", "stream": True})
    response = _conforms("post", _send(base_url, api_key, "post", sample))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: response.completed" in response.text


def test_responses_400_without_storage_conforms(start_worker, api_key):
    keyless = start_worker({"API_KEYS": DEFAULT_API_KEYS}).base_url
    sample = SAMPLES[("post", "/v1/responses")]()
    sample.kwargs = _json({"input": "Hi", "previous_response_id": MISSING_RESPONSE})
    response = _conforms("post", _send(keyless, api_key, "post", sample))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "storage_not_configured"
