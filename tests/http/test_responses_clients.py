"""The Responses API with real JavaScript clients: the OpenAI Node SDK and the Vercel AI SDK's
default OpenAI provider. Each script (tests/http/node/) runs on Node 22 from npm and prints what
it saw as one JSON object."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.http.conftest import NODE, REPO_ROOT

SCRIPTS = REPO_ROOT / "tests" / "http" / "node"


def run_script(name: str, base_url: str, api_key: str) -> dict:
    env = {**os.environ, "BASE_URL": base_url, "API_KEY": api_key}
    done = subprocess.run(
        [str(NODE), str(SCRIPTS / name)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        pytest.fail(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_openai_node_sdk(base_url, api_key):
    seen = run_script("openai_responses.mjs", base_url, api_key)
    assert seen["created"]["id"].startswith("resp_")
    assert seen["created"]["status"] == "completed"
    assert "hello" in seen["created"]["text"].lower()
    stream = seen["stream"]
    assert stream["types"][:2] == ["response.created", "response.in_progress"]
    assert stream["types"][-1] == "response.completed"
    assert stream["deltas"] == stream["text"] and "hello" in stream["text"].lower()
    assert set(seen["parsed"]) == {"city", "temperature_c"}
    assert seen["tools"]["name"] == "get_weather"
    assert seen["tools"]["arguments"]["city"]
    assert seen["tools"]["answer"] == "The tool returned: sunny"


def test_vercel_ai_sdk(base_url, api_key):
    seen = run_script("ai_sdk.mjs", base_url, api_key)
    assert "hello" in seen["text"]["text"].lower()
    assert seen["text"]["finishReason"] == "stop"
    assert seen["text"]["usage"]["inputTokens"] > 0
    assert seen["stream"]["pieces"] > 3 and "hello" in seen["stream"]["text"].lower()
    assert seen["stream"]["finishReason"] == "stop"
    tools = seen["tools"]
    assert len(tools["calls"]) == 2 and tools["steps"] == 2  # one call per loop
    assert tools["text"].startswith("The tool returned:") and "sunny" in tools["text"]
    assert tools["finishReason"] == "stop"
    assert seen["streamedTools"]["steps"] == 2
    assert "sunny" in seen["streamedTools"]["text"]
    assert set(seen["object"]) == {"city", "temperature_c"}
