"""Embeddings: validation, batching, dimensions, encodings, and the handler with a fake AI."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct

import pytest

from core import config
from core.errors import ApiError
from mapping import catalog, embeddings
from tests.unit.fakes import AUTH, FakeAi, body_json, make_call, run

BGE_M3 = "@cf/baai/bge-m3"
QWEN = "@cf/qwen/qwen3-embedding-0.6b"
GEMMA = "@cf/google/embeddinggemma-300m"
DIMS = {m.id: m.dimensions for m in catalog.MODELS.values() if m.task == catalog.EMBEDDING}


def vector(model: str, text: str) -> list[float]:
    """A unit vector that depends on model and text, like the emulator's."""
    rng = random.Random(hashlib.sha256(f"{model}|{text}".encode()).digest())
    raw = [rng.gauss(0, 1) for _ in range(DIMS.get(model, 16))]
    norm = math.sqrt(sum(x * x for x in raw))
    return [x / norm for x in raw]


def embedder(model: str, inputs: dict) -> dict:
    texts = inputs["text"]
    data = [vector(model, t) for t in texts]
    return {"shape": [len(data), len(data[0])], "data": data, "pooling": "mean"}


def f32(values):
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def post(body, ai=None, vars=None):
    ai = ai or FakeAi(answer=embedder)
    call = make_call("POST", "/v1/embeddings", body=body, headers=AUTH, ai=ai, vars=vars)
    return run(call), ai


def error(message, param, code=None, status=400, type_="invalid_request_error"):
    return status, {"error": {"message": message, "type": type_, "param": param, "code": code}}


# --- parse_input ---------------------------------------------------------------------------


def test_string_and_list_inputs():
    assert embeddings.parse_input("hi") == ["hi"]
    assert embeddings.parse_input(["a", "b"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        (None, "Missing required parameter: 'input'.", "missing_required_parameter"),
        ([], "'input' must not be an empty array.", None),
        ("", "'input' must not be an empty string.", "invalid_value"),
        ("  \n", "'input' must not be an empty string.", "invalid_value"),
        (["a", ""], "'input[1]' must not be an empty string.", "invalid_value"),
        (
            [1, 2, 3],
            "Token arrays are not supported for 'input': Workers AI embedding models take text. "
            "Send a string or an array of strings.",
            "unsupported_input",
        ),
        (
            [[1, 2], [3]],
            "Token arrays are not supported for 'input': Workers AI embedding models take text. "
            "Send a string or an array of strings.",
            "unsupported_input",
        ),
        (5, "Invalid type for 'input': expected a string or an array of strings.", None),
        (
            {"text": "a"},
            "Invalid type for 'input': expected a string or an array of strings.",
            None,
        ),
        (["a", 5], "Invalid type for 'input': expected a string or an array of strings.", None),
        ([True], "Invalid type for 'input': expected a string or an array of strings.", None),
        (
            ["x"] * 2049,
            "'input' has 2049 items; at most 2048 are allowed per request.",
            "invalid_value",
        ),
    ],
)
def test_bad_inputs_name_input(value, message, code):
    with pytest.raises(ApiError) as caught:
        embeddings.parse_input(value)
    assert caught.value.body() == {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "input",
            "code": code,
        }
    }


def test_parse_request_defaults_and_fields():
    request = embeddings.parse_request({"input": "a"})
    assert request == embeddings.EmbeddingRequest(["a"], None, "float", None)
    request = embeddings.parse_request(
        {"input": ["a"], "model": "m", "encoding_format": "base64", "dimensions": 256, "user": "u"}
    )
    assert request == embeddings.EmbeddingRequest(["a"], "m", "base64", 256)


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (
            {"encoding_format": "int8"},
            "encoding_format",
            "Invalid value for 'encoding_format': 'int8'. Supported values are: 'float', 'base64'.",
        ),
        (
            {"dimensions": "256"},
            "dimensions",
            "Invalid type for 'dimensions': expected an integer, but got a string.",
        ),
        ({"dimensions": 0}, "dimensions", "Invalid 'dimensions': 0 is less than the minimum of 1."),
        ({"user": 3}, "user", "Invalid type for 'user': expected a string, but got a number."),
    ],
)
def test_parse_request_rejects_bad_fields(body, param, message):
    with pytest.raises(ApiError) as caught:
        embeddings.parse_request({"input": "a", **body})
    assert caught.value.status == 400
    assert caught.value.param == param
    assert caught.value.message == message


# --- dimensions, batching, encodings -------------------------------------------------------


def model(id):
    return catalog.resolve(id, catalog.EMBEDDING, config.load({}))


def test_dimensions_native_size_or_absent_keeps_vectors():
    assert embeddings.check_dimensions(model(BGE_M3), None) is None
    assert embeddings.check_dimensions(model(BGE_M3), 1024) is None
    assert embeddings.check_dimensions(model(GEMMA), 768) is None


def test_dimensions_on_matryoshka_models():
    assert embeddings.check_dimensions(model(QWEN), 32) == 32
    assert embeddings.check_dimensions(model(QWEN), 512) == 512
    assert embeddings.check_dimensions(model(GEMMA), 256) == 256


NO_SHORT = f"`{BGE_M3}` does not support shortened embeddings (its vectors have 1024)."


@pytest.mark.parametrize(
    ("id", "dims", "detail"),
    [
        (BGE_M3, 256, NO_SHORT),
        (BGE_M3, 1536, NO_SHORT),
        (QWEN, 16, "`@cf/qwen/qwen3-embedding-0.6b` supports 32 to 1024 dimensions."),
        (QWEN, 2048, "`@cf/qwen/qwen3-embedding-0.6b` supports 32 to 1024 dimensions."),
        (GEMMA, 300, f"`{GEMMA}` supports these dimensions: 128, 256, 512, 768."),
        ("@cf/acme/x", 64, "`@cf/acme/x` does not support shortened embeddings."),
    ],
)
def test_dimensions_that_cannot_be_honoured(id, dims, detail):
    with pytest.raises(ApiError) as caught:
        embeddings.check_dimensions(model(id), dims)
    assert caught.value.body() == {
        "error": {
            "message": f"Invalid 'dimensions': {dims}. {detail}",
            "type": "invalid_request_error",
            "param": "dimensions",
            "code": "unsupported_value",
        }
    }


def test_batches_keep_order_and_limit():
    texts = [str(i) for i in range(250)]
    groups = embeddings.batches(texts, 100)
    assert [len(g) for g in groups] == [100, 100, 50]
    assert [t for g in groups for t in g] == texts
    assert embeddings.batches(["a"], 32) == [["a"]]


def test_shorten_truncates_and_renormalises():
    short = embeddings.shorten([3.0, 4.0, 12.0], 2)
    assert short == [0.6, 0.8]
    assert embeddings.shorten([0.0, 0.0, 1.0], 2) == [0.0, 0.0]


def test_base64_is_little_endian_float32():
    vec = [0.5, -1.25, 3.0]
    raw = base64.b64decode(embeddings.to_base64(vec))
    assert raw == struct.pack("<3f", *vec)
    assert raw[:4] == bytes.fromhex("0000003f")


def test_float_mode_carries_float32_values():
    vec = [0.1, 1 / 3]
    assert list(embeddings.as_float32(vec)) == f32(vec)
    assert embeddings.as_float32(vec)[0] != 0.1  # rounded, as the base64 bytes are


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("a", 1),
        ("hello world", 3),  # 11 ASCII characters
        ("x" * 400, 100),
        ("日本語のテキスト", 8),  # one per CJK/kana character
        ("привет", 3),  # two per other non-ASCII letter
        ("café", 2),
    ],
)
def test_token_estimate(text, tokens):
    assert embeddings.estimate_tokens(text) == tokens


@pytest.mark.parametrize(
    "output",
    [
        None,
        "text",
        {"shape": [1, 2]},
        {"data": [[0.1, 0.2]]},  # two inputs asked
        {"data": [[0.1], []]},
        {"data": [[0.1], "x"]},
    ],
)
def test_malformed_upstream_is_502(output):
    with pytest.raises(ApiError) as caught:
        embeddings.vectors_from(output, 2)
    assert caught.value.status == 502
    assert caught.value.code == "upstream_error"


# --- the handler ---------------------------------------------------------------------------


def test_single_string_default_model():
    reply, ai = post({"input": "hello world"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert ai.calls == [(BGE_M3, {"text": ["hello world"]}, None)]
    expected = f32(vector(BGE_M3, "hello world"))
    assert body_json(reply) == {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": expected}],
        "model": BGE_M3,
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("text-embedding-3-small", BGE_M3),
        ("text-embedding-3-large", QWEN),
        ("text-embedding-ada-002", "@cf/baai/bge-base-en-v1.5"),
        ("@cf/baai/bge-small-en-v1.5", "@cf/baai/bge-small-en-v1.5"),
        ("@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-large-en-v1.5"),
        (GEMMA, GEMMA),
    ],
)
def test_aliases_and_catalog_models(name, target):
    reply, ai = post({"input": ["a", "b"], "model": name})
    assert reply.status == 200
    body = body_json(reply)
    assert body["model"] == target
    assert [d["embedding"] for d in body["data"]] == [f32(vector(target, t)) for t in "ab"]
    assert len(body["data"][0]["embedding"]) == DIMS[target]
    assert [c[0] for c in ai.calls] == [target]


def test_default_model_is_configurable():
    reply, _ = post({"input": "a"}, vars={"API_KEYS": "sk-a", "DEFAULT_EMBEDDING_MODEL": GEMMA})
    assert body_json(reply)["model"] == GEMMA


def test_more_inputs_than_the_batch_limit_split_in_order():
    texts = [f"text number {i}" for i in range(150)]
    reply, ai = post({"input": texts, "model": BGE_M3})
    assert reply.status == 200
    assert [len(c[1]["text"]) for c in ai.calls] == [100, 50]
    assert [c[1]["text"] for c in ai.calls] == [texts[:100], texts[100:]]
    body = body_json(reply)
    assert [d["index"] for d in body["data"]] == list(range(150))
    assert [d["embedding"] for d in body["data"]] == [f32(vector(BGE_M3, t)) for t in texts]
    assert body["usage"]["prompt_tokens"] == sum(embeddings.estimate_tokens(t) for t in texts)


def test_qwen3_batches_of_32():
    texts = [f"q{i}" for i in range(70)]
    reply, ai = post({"input": texts, "model": "text-embedding-3-large"})
    assert [len(c[1]["text"]) for c in ai.calls] == [32, 32, 6]
    got = [d["embedding"] for d in body_json(reply)["data"]]
    assert got == [f32(vector(QWEN, t)) for t in texts]


def test_base64_round_trip_equals_float_mode():
    texts = ["alpha", "beta"]
    floats = body_json(post({"input": texts, "encoding_format": "float"})[0])
    encoded = body_json(post({"input": texts, "encoding_format": "base64"})[0])
    for f, b in zip(floats["data"], encoded["data"], strict=True):
        raw = base64.b64decode(b["embedding"])
        assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == f["embedding"]
    assert floats["usage"] == encoded["usage"]


def test_dimensions_truncate_and_renormalise():
    reply, _ = post({"input": "a", "model": QWEN, "dimensions": 64})
    got = body_json(reply)["data"][0]["embedding"]
    full = vector(QWEN, "a")
    assert got == f32(embeddings.shorten(full, 64))
    assert len(got) == 64
    assert math.isclose(math.sqrt(sum(x * x for x in got)), 1.0, rel_tol=1e-6)


def test_dimensions_with_base64():
    reply, _ = post({"input": "a", "model": GEMMA, "dimensions": 128, "encoding_format": "base64"})
    raw = base64.b64decode(body_json(reply)["data"][0]["embedding"])
    assert len(raw) == 128 * 4


def test_unsupported_dimensions_is_400_before_any_upstream_call():
    reply, ai = post({"input": "a", "model": "text-embedding-3-small", "dimensions": 512})
    assert (reply.status, body_json(reply)) == error(
        "Invalid 'dimensions': 512. `@cf/baai/bge-m3` does not support shortened embeddings "
        "(its vectors have 1024).",
        "dimensions",
        "unsupported_value",
    )
    assert ai.calls == []


def test_unknown_model_is_404():
    reply, ai = post({"input": "a", "model": "text-embedding-4"})
    assert (reply.status, body_json(reply)) == error(
        "The model `text-embedding-4` does not exist or you do not have access to it.",
        "model",
        "model_not_found",
        404,
    )
    assert ai.calls == []


def test_chat_model_is_400():
    reply, ai = post({"input": "a", "model": "gpt-4o"})
    assert (reply.status, body_json(reply)) == error(
        "`@cf/meta/llama-4-scout-17b-16e-instruct` is a text-generation model; this endpoint "
        "needs an embedding model.",
        "model",
        "model_not_supported",
    )
    assert ai.calls == []


def test_bad_input_is_400_without_upstream_call():
    reply, ai = post({"input": [[1, 2, 3]]})
    assert reply.status == 400
    assert body_json(reply)["error"]["param"] == "input"
    assert ai.calls == []


def test_bad_json_is_400():
    call = make_call("POST", "/v1/embeddings", body=b"{", headers=AUTH)
    assert run(call).status == 400


@pytest.mark.parametrize(
    ("fault", "status", "type_", "code"),
    [
        ("3040: No more data centers", 429, "rate_limit_error", "rate_limit_exceeded"),
        ("5006: Bad input", 400, "invalid_request_error", "invalid_upstream_input"),
        ("3007: Request timeout", 504, "timeout_error", "upstream_timeout"),
        ("3001: Internal server error", 502, "api_error", "upstream_error"),
    ],
)
def test_upstream_faults_are_mapped(fault, status, type_, code):
    reply, _ = post({"input": "a"}, ai=FakeAi(answer=lambda m, i: Exception(fault)))
    assert reply.status == status
    error = body_json(reply)["error"]
    assert (error["type"], error["code"], error["param"]) == (type_, code, None)


def test_one_failing_batch_fails_the_request():
    def answer(model, inputs):
        return Exception("3040: busy") if "x150" in inputs["text"] else embedder(model, inputs)

    texts = [f"x{i}" for i in range(200)]
    reply, ai = post({"input": texts})
    assert reply.status == 200
    reply, ai = post({"input": texts}, ai=FakeAi(answer=answer))
    assert reply.status == 429
    assert len(ai.calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        lambda m, i: {"shape": [1, 2], "data": [[0.1, 0.2]] * (len(i["text"]) + 1)},
        lambda m, i: {"response": "nope"},
        lambda m, i: {"data": [["a", "b"]] * len(i["text"])},
        lambda m, i: {"data": [[1e39, 0.0]] * len(i["text"])},
    ],
)
def test_unexpected_upstream_result_is_502(answer):
    reply, _ = post({"input": "a"}, ai=FakeAi(answer=answer))
    assert (reply.status, body_json(reply)) == error(
        "Workers AI returned an unexpected embeddings result.",
        None,
        "upstream_error",
        502,
        "api_error",
    )


def test_shorter_upstream_vector_than_dimensions_is_502():
    answer = lambda m, i: {"data": [[0.6, 0.8]] * len(i["text"])}  # noqa: E731
    reply, _ = post({"input": "a", "model": QWEN, "dimensions": 64}, ai=FakeAi(answer=answer))
    assert reply.status == 502
