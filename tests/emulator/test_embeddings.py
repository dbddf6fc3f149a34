"""Embedding models: dimensions, normalisation, determinism, batch limits."""

from __future__ import annotations

import math

import pytest

from tests.emulator.conftest import error_body


@pytest.mark.parametrize(
    ("model", "dims"),
    [
        ("@cf/baai/bge-small-en-v1.5", 384),
        ("@cf/baai/bge-base-en-v1.5", 768),
        ("@cf/baai/bge-large-en-v1.5", 1024),
        ("@cf/baai/bge-m3", 1024),
        ("@cf/google/embeddinggemma-300m", 768),
    ],
)
def test_shape_and_unit_norm(run, model, dims):
    result = run(model, {"text": ["alpha", "beta", "alpha"]}).json()["result"]
    assert result["shape"] == [3, dims]
    assert all(len(v) == dims for v in result["data"])
    for vector in result["data"]:
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-9)
    assert result["data"][0] == result["data"][2] != result["data"][1]


def test_pooling_is_echoed_and_changes_vectors(run):
    model = "@cf/baai/bge-small-en-v1.5"
    mean = run(model, {"text": "same"}).json()["result"]
    cls = run(model, {"text": "same", "pooling": "cls"}).json()["result"]
    assert mean["pooling"] == "mean" and cls["pooling"] == "cls"
    assert mean["data"] != cls["data"]


def test_single_string_and_batch_agree(run):
    model = "@cf/baai/bge-base-en-v1.5"
    single = run(model, {"text": "x"}).json()["result"]["data"][0]
    batch = run(model, {"text": ["y", "x"]}).json()["result"]["data"][1]
    assert single == batch


def test_batch_limits(run):
    reply = run("@cf/baai/bge-small-en-v1.5", {"text": ["t"] * 101})
    assert reply.json() == error_body(
        5006, "Bad input: Error: maxItems at '/text' not met, 101 > 100"
    )
    qwen = "@cf/qwen/qwen3-embedding-0.6b"
    assert run(qwen, {"queries": ["q"] * 32}).status == 200
    assert run(qwen, {"documents": ["d"] * 33}).status == 400


def test_qwen3_embedding_queries_and_documents(run):
    result = run("@cf/qwen/qwen3-embedding-0.6b", {"queries": "q", "documents": ["a", "b"]}).json()
    assert result["result"]["shape"] == [3, 1024]


def test_bge_m3_rerank(run):
    inputs = {"query": "cats", "contexts": [{"text": "dogs"}, {"text": "cats"}]}
    ranked = run("@cf/baai/bge-m3", inputs).json()["result"]["response"]
    assert ranked[0]["id"] == 1 and math.isclose(ranked[0]["score"], 1.0)


def test_empty_text_is_5006(run):
    reply = run("@cf/baai/bge-small-en-v1.5", {"text": ""})
    assert reply.json() == error_body(5006, "Bad input: Error: minLength at '/text' not met")
