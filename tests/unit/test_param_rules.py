"""Per-model sampling ranges: the Worker's table equals the extracted schemas, and OpenAI's wider
ranges are clamped into them instead of earning a 5006."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapping import catalog, chat, param_rules

PUBLISHED = json.loads(
    (Path(__file__).parents[2] / "emulator" / "published_rules.json").read_text()
)["models"]
USER = [{"role": "user", "content": "Hi"}]
TEXT = sorted(m for m in PUBLISHED if catalog.MODELS[m].task == catalog.CHAT)


@pytest.mark.parametrize("model_id", TEXT)
def test_worker_ranges_equal_the_published_schema(model_id):
    published = {k: tuple(v) for k, v in PUBLISHED[model_id]["ranges"].items()}
    mine = dict(param_rules.RANGES[model_id])
    sampling = set(param_rules._WIDE)
    assert {k: v for k, v in mine.items()} == {k: v for k, v in published.items() if k in sampling}


def test_every_catalogued_model_with_published_rules_is_in_the_table():
    for model_id in PUBLISHED:
        assert model_id in catalog.MODELS, model_id
    assert set(TEXT) == set(param_rules.RANGES)


@pytest.mark.parametrize(
    ("model_id", "sent", "expected"),
    [
        ("@cf/meta/llama-3.2-3b-instruct", -1.5, 0),  # schema 0..2
        ("@cf/meta/llama-3.1-8b-instruct-fast", -2, 0),
        ("@cf/mistralai/mistral-small-3.1-24b-instruct", -0.5, 0),
        ("@cf/meta/llama-4-scout-17b-16e-instruct", 1.5, 1.5),
        ("@cf/meta/llama-3.3-70b-instruct-fp8-fast", -1.5, -1.5),  # schema -2..2
    ],
)
def test_penalties_are_clamped_into_the_models_range(model_id, sent, expected):
    body = {"messages": USER, "frequency_penalty": sent, "presence_penalty": sent}
    inputs = chat.chat_request(body, catalog.MODELS[model_id]).inputs
    assert inputs["frequency_penalty"] == expected
    assert inputs["presence_penalty"] == expected


def test_top_p_zero_becomes_the_smallest_the_model_takes():
    narrow = catalog.MODELS["@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"]
    assert chat.chat_request({"messages": USER, "top_p": 0}, narrow).inputs["top_p"] == 0.001


def test_models_without_published_rules_pass_values_through():
    assert param_rules.fit("@cf/some/new-model", {"frequency_penalty": -2}) == {
        "frequency_penalty": -2
    }
