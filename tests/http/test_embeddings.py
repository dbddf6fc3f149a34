"""`POST /v1/embeddings` through the local runtime and the Workers AI emulator, with `openai`."""

from __future__ import annotations

import base64
import math
import struct
import time

import openai
import pytest

from emulator import embeddings as emulated
from emulator.models import lookup

BGE_M3 = "@cf/baai/bge-m3"
QWEN = "@cf/qwen/qwen3-embedding-0.6b"
GEMMA = "@cf/google/embeddinggemma-300m"


def expected(model_id: str, text: str) -> list[float]:
    """What the emulator embeds `text` as, rounded to float32 as the Worker answers."""
    vec = emulated.vector(lookup(model_id), text)
    return list(struct.unpack(f"<{len(vec)}f", struct.pack(f"<{len(vec)}f", *vec)))


def runs(control) -> list[dict]:
    return [r for r in control.requests() if r["inputs"] is not None]


def bad_request(message: str, param: str | None, code: str | None) -> dict:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def fails(client, status: int, **kwargs) -> dict:
    """Call embeddings.create expecting an error; the JSON error body."""
    with pytest.raises(openai.APIStatusError) as caught:
        client.with_options(max_retries=0).embeddings.create(**kwargs)
    assert caught.value.status_code == status
    assert caught.value.response.headers["content-type"] == "application/json"
    return caught.value.response.json()


def test_sdk_default_base64_equals_float_mode(client, emulator_control):
    texts = ["The quick brown fox", "jumps over the lazy dog"]
    by_default = client.embeddings.create(model="text-embedding-3-small", input=texts)
    as_float = client.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float"
    )
    assert by_default.model == as_float.model == BGE_M3
    assert [d.embedding for d in by_default.data] == [d.embedding for d in as_float.data]
    assert [d.embedding for d in as_float.data] == [expected(BGE_M3, t) for t in texts]
    assert [d.index for d in by_default.data] == [0, 1]
    assert by_default.usage.prompt_tokens == by_default.usage.total_tokens == 11
    assert [r["inputs"] for r in runs(emulator_control)] == [{"text": texts}, {"text": texts}]


def test_raw_base64_is_little_endian_float32(client):
    raw = client.embeddings.with_raw_response.create(
        model=GEMMA, input="hello", encoding_format="base64"
    )
    assert raw.http_request.url.path == "/v1/embeddings"
    assert raw.headers["content-type"] == "application/json"
    body = raw.http_response.json()
    assert body["object"] == "list"
    assert body["model"] == GEMMA
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2}
    assert [(d["object"], d["index"]) for d in body["data"]] == [("embedding", 0)]
    data = base64.b64decode(body["data"][0]["embedding"])
    assert len(data) == 768 * 4
    assert list(struct.unpack("<768f", data)) == expected(GEMMA, "hello")


@pytest.mark.parametrize(
    ("name", "model_id", "dims"),
    [
        ("text-embedding-3-small", BGE_M3, 1024),
        ("text-embedding-3-large", QWEN, 1024),
        ("text-embedding-ada-002", "@cf/baai/bge-base-en-v1.5", 768),
        ("@cf/baai/bge-small-en-v1.5", "@cf/baai/bge-small-en-v1.5", 384),
        ("@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-large-en-v1.5", 1024),
        (GEMMA, GEMMA, 768),
    ],
)
def test_each_model_and_alias(client, emulator_control, name, model_id, dims):
    result = client.embeddings.create(model=name, input="a sentence", encoding_format="float")
    assert result.model == model_id
    assert len(result.data[0].embedding) == dims
    assert result.data[0].embedding == expected(model_id, "a sentence")
    assert [r["model"] for r in runs(emulator_control)] == [model_id]


def test_150_inputs_to_a_100_max_model_make_two_calls_in_order(client, emulator_control):
    texts = [f"input number {i}" for i in range(150)]
    result = client.embeddings.create(model=BGE_M3, input=texts)
    calls = runs(emulator_control)
    # The batches run concurrently, so either may reach the emulator first.
    sent = sorted((c["inputs"]["text"] for c in calls), key=len, reverse=True)
    assert sent == [texts[:100], texts[100:]]
    assert [d.index for d in result.data] == list(range(150))
    assert [d.embedding for d in result.data] == [expected(BGE_M3, t) for t in texts]


def test_qwen3_batches_hold_32(client, emulator_control):
    texts = [f"doc {i}" for i in range(65)]
    result = client.embeddings.create(model="text-embedding-3-large", input=texts)
    assert sorted(len(c["inputs"]["text"]) for c in runs(emulator_control)) == [1, 32, 32]
    assert [d.embedding for d in result.data] == [expected(QWEN, t) for t in texts]


@pytest.mark.parametrize(("model", "dims"), [(QWEN, 256), (QWEN, 32), (GEMMA, 128)])
def test_dimensions_truncate_and_renormalise(client, model, dims):
    short = client.embeddings.create(model=model, input="hello", dimensions=dims)
    full = expected(model, "hello")
    norm = math.sqrt(sum(x * x for x in full[:dims]))
    assert len(short.data[0].embedding) == dims
    assert short.data[0].embedding == pytest.approx([x / norm for x in full[:dims]], rel=1e-6)
    assert math.isclose(sum(x * x for x in short.data[0].embedding), 1.0, rel_tol=1e-5)


def test_native_dimensions_are_accepted_anywhere(client):
    result = client.embeddings.create(model=BGE_M3, input="hello", dimensions=1024)
    assert result.data[0].embedding == expected(BGE_M3, "hello")


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        (
            {"model": "text-embedding-3-small", "input": "x", "dimensions": 512},
            bad_request(
                "Invalid 'dimensions': 512. `@cf/baai/bge-m3` does not support shortened "
                "embeddings (its vectors have 1024).",
                "dimensions",
                "unsupported_value",
            ),
        ),
        (
            {"model": GEMMA, "input": "x", "dimensions": 300},
            bad_request(
                f"Invalid 'dimensions': 300. `{GEMMA}` supports these dimensions: 128, 256, "
                "512, 768.",
                "dimensions",
                "unsupported_value",
            ),
        ),
        (
            {"model": BGE_M3, "input": [[1, 2, 3]]},
            bad_request(
                "Token arrays are not supported for 'input': Workers AI embedding models take "
                "text. Send a string or an array of strings.",
                "input",
                "unsupported_input",
            ),
        ),
        (
            {"model": BGE_M3, "input": [1, 2, 3]},
            bad_request(
                "Token arrays are not supported for 'input': Workers AI embedding models take "
                "text. Send a string or an array of strings.",
                "input",
                "unsupported_input",
            ),
        ),
        (
            {"model": BGE_M3, "input": ""},
            bad_request("'input' must not be an empty string.", "input", "invalid_value"),
        ),
        (
            {"model": BGE_M3, "input": ["ok", ""]},
            bad_request("'input[1]' must not be an empty string.", "input", "invalid_value"),
        ),
        (
            {"model": BGE_M3, "input": []},
            bad_request("'input' must not be an empty array.", "input", None),
        ),
        (
            {"model": BGE_M3, "input": ["x"] * 2049},
            bad_request(
                "'input' has 2049 items; at most 2048 are allowed per request.",
                "input",
                "invalid_value",
            ),
        ),
        (
            {"model": BGE_M3, "input": "x", "encoding_format": "binary"},
            bad_request(
                "Invalid value for 'encoding_format': 'binary'. Supported values are: 'float', "
                "'base64'.",
                "encoding_format",
                "invalid_value",
            ),
        ),
        (
            {"model": "gpt-4o-mini", "input": "x"},
            bad_request(
                "`@cf/meta/llama-3.1-8b-instruct-fast` is a text-generation model; this endpoint "
                "needs an embedding model.",
                "model",
                "model_not_supported",
            ),
        ),
    ],
)
def test_bad_requests_are_400_without_upstream_calls(client, emulator_control, kwargs, body):
    assert fails(client, 400, **kwargs) == body
    assert runs(emulator_control) == []


def test_wrong_input_type_is_400(client, emulator_control):
    assert fails(client, 400, model=BGE_M3, input=None, extra_body={"input": {"a": 1}}) == (
        bad_request(
            "Invalid type for 'input': expected a string or an array of strings.", "input", None
        )
    )


def test_unknown_model_is_404(client, emulator_control):
    assert fails(client, 404, model="text-embedding-9", input="x") == {
        "error": {
            "message": "The model `text-embedding-9` does not exist or you do not have access "
            "to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert runs(emulator_control) == []


def test_capacity_fault_is_429(client, emulator_control):
    emulator_control.fault(model=BGE_M3, code=3040)
    assert fails(client, 429, model=BGE_M3, input="x") == {
        "error": {
            "message": "Workers AI rejected the request (3040): No more data centers to forward "
            "the request to",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_a_fault_in_one_batch_fails_the_request(client, emulator_control):
    emulator_control.fault(model=BGE_M3, code=3040, times=1)
    assert fails(client, 429, model=BGE_M3, input=[f"t{i}" for i in range(120)])
    # Both batches were sent concurrently; the Worker may answer from the first failure before
    # the second reaches the emulator's log (seen on a loaded 2-core machine), so wait briefly.
    deadline = time.monotonic() + 5
    while len(runs(emulator_control)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(runs(emulator_control)) == 2


def test_quota_fault_is_429_insufficient_quota(client, emulator_control):
    emulator_control.fault(model=BGE_M3, code=3036)
    error = fails(client, 429, model=BGE_M3, input="x")["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")


def test_removed_upstream_model_is_404(client, emulator_control):
    emulator_control.fault(model=BGE_M3, code=5007)
    assert fails(client, 404, model="text-embedding-3-small", input="x")["error"] == {
        "message": "The model `@cf/baai/bge-m3` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_malformed_upstream_result_is_502(client, emulator_control):
    emulator_control.script(model=BGE_M3, json={"shape": [1, 2], "data": []})
    assert fails(client, 502, model=BGE_M3, input="x") == {
        "error": {
            "message": "Workers AI returned an unexpected embeddings result.",
            "type": "api_error",
            "param": None,
            "code": "upstream_error",
        }
    }
