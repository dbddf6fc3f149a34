"""Catalog details checked against the published schemas (gap 10 of issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import load
from core.errors import ApiError, upstream_error
from mapping import catalog, chat, speech

PUBLISHED = json.loads(
    (Path(__file__).parents[2] / "emulator" / "published_rules.json").read_text()
)["models"]
USER = [{"role": "user", "content": "Hi"}]
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}}


def test_aura_2_en_has_no_selene_voice():
    aura = catalog.MODELS["@cf/deepgram/aura-2-en"]
    assert "selene" not in aura.params["speakers"]
    assert list(aura.params["speakers"]) == PUBLISHED[aura.id]["enums"]["speaker"]
    with pytest.raises(ApiError) as caught:
        speech.to_upstream({"input": "hi", "voice": "selene"}, aura)
    assert caught.value.status == 400 and caught.value.param == "voice"


@pytest.mark.parametrize("model_id", [m for m, r in PUBLISHED.items() if r["context_window"]])
def test_context_windows_are_the_published_ones(model_id):
    assert catalog.MODELS[model_id].context_window == PUBLISHED[model_id]["context_window"]


def test_llama_3_2_3b_window_agrees_with_the_emulator():
    from emulator.models import MODELS as EMULATED

    model_id = "@cf/meta/llama-3.2-3b-instruct"
    assert catalog.MODELS[model_id].context_window == EMULATED[model_id].context_window == 128000


def test_kimi_k2_6_accepts_images():
    kimi = catalog.MODELS["@cf/moonshotai/kimi-k2.6"]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "?"}, image]}]}
    inputs = chat.chat_request(body, kimi).inputs
    assert inputs["messages"][0]["content"][1] == image


@pytest.mark.parametrize(
    "model_id",
    ["@cf/zai-org/glm-5.3", "@cf/deepseek-ai/deepseek-v4-flash-0731", "@cf/qwen/qwen3.8-27b"],
)
def test_unknown_chat_completions_ids_get_the_json_schema_envelope(model_id):
    model = catalog.resolve(model_id, catalog.CHAT, load({}))
    assert not model.listed and model.shape == catalog.OPENAI
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}
    inputs = chat.chat_request({"messages": USER, "response_format": fmt}, model).inputs
    assert inputs["response_format"] == fmt


def test_unknown_native_ids_keep_the_bare_schema():
    model = catalog.resolve("@cf/meta/llama-9-new", catalog.CHAT, load({}))
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}
    inputs = chat.chat_request({"messages": USER, "response_format": fmt}, model).inputs
    assert inputs["response_format"] == {"type": "json_schema", "json_schema": SCHEMA}


def test_8006_is_a_400_with_the_upstream_reason():
    error = upstream_error("8006: AiError: AiError: image too small for the model")
    assert error.status == 400
    assert error.code == "invalid_upstream_input"
    assert "image too small for the model" in error.message
