"""Model resolution: defaults, aliases, removed ids, overrides, and the /v1/models listing."""

from __future__ import annotations

import pytest

from core.config import load
from core.errors import ApiError
from mapping import catalog
from tests.unit.fakes import AUTH, body_json, make_call, run

PLAIN = load({})


def test_default_per_task_and_override():
    assert catalog.resolve(None, catalog.CHAT, PLAIN).id == catalog.DEFAULTS[catalog.CHAT]
    custom = load({"DEFAULT_CHAT_MODEL": "@cf/meta/llama-3.2-3b-instruct"})
    assert catalog.resolve("", catalog.CHAT, custom).id == "@cf/meta/llama-3.2-3b-instruct"


@pytest.mark.parametrize(
    ("alias", "task"),
    [
        ("gpt-4o-mini", catalog.CHAT),
        ("gpt-4o", catalog.CHAT),
        ("text-embedding-3-small", catalog.EMBEDDING),
        ("text-embedding-3-large", catalog.EMBEDDING),
        ("text-embedding-ada-002", catalog.EMBEDDING),
        ("dall-e-3", catalog.IMAGE),
        ("gpt-image-1", catalog.IMAGE),
        ("whisper-1", catalog.TRANSCRIPTION),
        ("tts-1", catalog.SPEECH),
        ("tts-1-hd", catalog.SPEECH),
        ("omni-moderation-latest", catalog.MODERATION),
    ],
)
def test_openai_aliases_resolve_to_a_model_of_their_task(alias, task):
    assert catalog.resolve(alias, task, PLAIN).task == task


def test_gpt4o_alias_is_a_vision_model():
    assert catalog.resolve("gpt-4o", catalog.CHAT, PLAIN).vision


def test_model_aliases_setting_overrides_builtins():
    config = load(
        {"MODEL_ALIASES": '{"gpt-4o-mini": "@cf/qwen/qwen3-30b-a3b-fp8", "mine": "gpt-4o"}'}
    )
    assert catalog.resolve("gpt-4o-mini", catalog.CHAT, config).id == "@cf/qwen/qwen3-30b-a3b-fp8"
    assert catalog.resolve("mine", catalog.CHAT, config).vision


@pytest.mark.parametrize(
    ("removed", "successor"),
    [
        ("@cf/meta/llama-2-7b-chat-int8", "@cf/meta/llama-3.1-8b-instruct-fast"),
        ("@hf/thebloke/zephyr-7b-beta-awq", "@cf/meta/llama-3.1-8b-instruct-fast"),
        ("@cf/meta/llama-3.1-70b-instruct", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
        ("@cf/qwen/qwen1.5-14b-chat-awq", "@cf/meta/llama-3.1-8b-instruct-fast"),
    ],
)
def test_removed_ids_map_to_their_successor(removed, successor):
    assert catalog.resolve(removed, catalog.CHAT, PLAIN).id == successor


def test_uncatalogued_workers_ai_ids_pass_through():
    model = catalog.resolve("@cf/someone/new-model", catalog.CHAT, PLAIN)
    assert (model.id, model.task, model.listed) == ("@cf/someone/new-model", catalog.CHAT, False)


def test_unknown_names_are_404_model_not_found():
    with pytest.raises(ApiError) as caught:
        catalog.resolve("gpt-9000", catalog.CHAT, PLAIN)
    assert (caught.value.status, caught.value.code, caught.value.param) == (
        404,
        "model_not_found",
        "model",
    )


def test_model_of_another_task_is_rejected_by_require_task():
    model = catalog.resolve("dall-e-3", catalog.EMBEDDING, PLAIN)
    with pytest.raises(ApiError) as caught:
        catalog.require_task(model, catalog.EMBEDDING)
    assert caught.value.status == 400
    assert caught.value.param == "model"


def test_models_listing_has_openai_shape_and_aliases():
    reply = run(make_call("GET", "/v1/models", headers=AUTH))
    body = body_json(reply)
    assert body["object"] == "list"
    ids = {entry["id"] for entry in body["data"]}
    assert {"@cf/meta/llama-3.3-70b-instruct-fp8-fast", "gpt-4o-mini", "whisper-1"} <= ids
    for entry in body["data"]:
        assert entry["object"] == "model"
        assert isinstance(entry["created"], int)
        assert entry["owned_by"]
        assert entry["task"] in catalog.TASK_NAMES
    alias = next(e for e in body["data"] if e["id"] == "gpt-4o-mini")
    assert alias["alias_of"] == "@cf/meta/llama-3.1-8b-instruct-fast"


def test_models_listing_includes_configured_aliases():
    vars = {"API_KEYS": "sk-a", "MODEL_ALIASES": '{"house-model": "@cf/openai/gpt-oss-20b"}'}
    body = body_json(run(make_call("GET", "/v1/models", headers=AUTH, vars=vars)))
    assert {"id": "house-model", "alias_of": "@cf/openai/gpt-oss-20b"}.items() <= next(
        e for e in body["data"] if e["id"] == "house-model"
    ).items()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/@cf/meta/llama-3.2-3b-instruct",
        "/v1/models/%40cf%2Fmeta%2Fllama-3.2-3b-instruct",
    ],
)
def test_retrieve_a_model_by_id_with_slashes(path):
    reply = run(make_call("GET", path, headers=AUTH))
    assert reply.status == 200
    assert body_json(reply)["id"] == "@cf/meta/llama-3.2-3b-instruct"


def test_retrieve_an_alias_and_an_unknown_model():
    assert body_json(run(make_call("GET", "/v1/models/whisper-1", headers=AUTH)))["alias_of"] == (
        "@cf/openai/whisper-large-v3-turbo"
    )
    missing = run(make_call("GET", "/v1/models/gpt-9000", headers=AUTH))
    assert missing.status == 404
    assert body_json(missing)["error"]["code"] == "model_not_found"
