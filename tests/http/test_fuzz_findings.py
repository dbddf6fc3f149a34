"""Regressions for Worker bugs `make fuzz` found (docs/reliability.md), through the real runtime."""

from __future__ import annotations

import pytest
import requests

HUGE = 10**20  # past 2**53: no JavaScript number holds it exactly
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer", "maximum": HUGE}}}


def _chat(base_url: str, api_key: str, **fields) -> requests.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **fields}
    return requests.post(
        base_url + "/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {api_key}"},
        timeout=60,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": SCHEMA},
            }
        },
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": SCHEMA}}]},
    ],
    ids=["response_format", "tools"],
)
def test_a_huge_integer_in_a_passed_through_schema_is_not_a_502(base_url, api_key, fields):
    response = _chat(base_url, api_key, **fields)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_a_huge_max_tokens_is_a_400_naming_it(base_url, api_key, field):
    response = _chat(base_url, api_key, **{field: HUGE})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": f"Invalid '{field}': {HUGE} is not between 1 and 9007199254740991.",
            "type": "invalid_request_error",
            "param": field,
            "code": "invalid_value",
        }
    }
