"""Operator controls: key fingerprints, KEY_POLICIES, the rate limiter, deadlines, request logs."""

from __future__ import annotations

import asyncio
import json

import pytest

from core.auth import fingerprint
from tests.unit.fakes import AUTH, FakeAi, body_json, make_call, run

KEY = "sk-a"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _vars(**extra: str) -> dict[str, str]:
    return {"API_KEYS": f"{KEY},sk-b", **extra}


def _chat(body: dict, ai: FakeAi | None = None, **settings: str):
    """POST `body` to chat completions with the first key, under extra settings."""
    return run(
        make_call(
            "POST", "/v1/chat/completions", body=body, headers=AUTH, ai=ai, vars=_vars(**settings)
        )
    )


def test_a_fingerprint_identifies_a_key_without_revealing_it():
    assert fingerprint(KEY) == fingerprint(KEY) != fingerprint("sk-b")
    assert KEY not in fingerprint(KEY) and fingerprint(KEY).startswith("key_")


def test_key_policy_refuses_models_outside_the_allow_list_before_any_upstream_call():
    policies = json.dumps({fingerprint(KEY): {"models": ["gpt-4o-mini"]}})
    ai = FakeAi()
    body = {**CHAT, "model": "gpt-4o"}
    reply = _chat(body, ai=ai, KEY_POLICIES=policies)
    assert reply.status == 403
    assert body_json(reply)["error"] == {
        "message": "This API key may not use `@cf/meta/llama-4-scout-17b-16e-instruct`.",
        "type": "permission_error",
        "param": "model",
        "code": "model_not_allowed",
    }
    assert ai.calls == []


def test_key_policy_allows_listed_models_by_alias_and_caps_max_tokens():
    policies = json.dumps({fingerprint(KEY): {"models": ["gpt-4o-mini"], "max_tokens": 50}})
    ai = FakeAi()
    body = {**CHAT, "max_tokens": 4000}
    reply = _chat(body, ai=ai, KEY_POLICIES=policies)
    assert reply.status == 200
    assert ai.calls[0][1]["max_tokens"] == 50


def test_other_keys_are_not_bound_by_a_policy():
    policies = json.dumps({fingerprint("sk-b"): {"models": ["gpt-4o-mini"]}})
    body = {**CHAT, "model": "gpt-4o"}
    reply = _chat(body, KEY_POLICIES=policies)
    assert reply.status == 200


@pytest.mark.parametrize(
    "raw",
    ['{"x": {"models": "gpt-4o"}}', '{"x": {"max_tokens": 0}}', '{"x": {"rate": 1}}', "[1]", "{"],
)
def test_a_broken_key_policies_setting_is_a_500_naming_it(raw):
    reply = run(make_call("GET", "/v1/models", headers=AUTH, vars=_vars(KEY_POLICIES=raw)))
    assert reply.status == 500
    error = body_json(reply)["error"]
    assert error["code"] == "invalid_configuration" and "KEY_POLICIES" in error["message"]


class FakeLimiter:
    """The Rate Limiting binding: allows `budget` calls per key."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.keys: list[str] = []

    async def allow(self, key: str) -> bool:
        self.keys.append(key)
        return self.keys.count(key) <= self.budget


def _limited_call(limiter: FakeLimiter, headers=AUTH, vars=None):
    call = make_call("GET", "/v1/models", headers=headers, vars=vars or _vars())
    call.env.rate_limiter = limiter
    return run(call)


def test_rate_limit_is_per_key_and_answers_429_with_retry_after():
    limiter = FakeLimiter(budget=2)
    assert [_limited_call(limiter).status for _ in range(3)] == [200, 200, 429]
    reply = _limited_call(limiter)
    assert reply.headers["retry-after"] == "60"
    assert body_json(reply)["error"]["code"] == "rate_limit_exceeded"
    assert body_json(reply)["error"]["type"] == "rate_limit_error"
    # Another key has its own budget; keys are counted by fingerprint, never in clear.
    assert _limited_call(limiter, headers={"authorization": "Bearer sk-b"}).status == 200
    assert set(limiter.keys) == {fingerprint(KEY), fingerprint("sk-b")}


def test_policy_can_exempt_a_key_from_the_rate_limit():
    policies = json.dumps({fingerprint(KEY): {"rate_limit": False}})
    limiter = FakeLimiter(budget=0)
    assert _limited_call(limiter, vars=_vars(KEY_POLICIES=policies)).status == 200


def test_health_is_not_rate_limited():
    call = make_call("GET", "/health")
    call.env.rate_limiter = FakeLimiter(budget=0)
    assert run(call).status == 200


class SlowAi(FakeAi):
    async def run(self, model, inputs, options=None):
        await asyncio.sleep(5)
        return await super().run(model, inputs, options)


def test_a_workers_ai_call_past_its_deadline_is_a_504():
    reply = _chat(CHAT, ai=SlowAi(), UPSTREAM_TIMEOUT_S="0.05")
    assert reply.status == 504
    assert body_json(reply)["error"] == {
        "message": "Workers AI did not answer within 0.05 s.",
        "type": "timeout_error",
        "param": None,
        "code": "upstream_timeout",
    }


def test_each_request_logs_one_json_line_without_the_key_or_the_prompt(capsys):
    body = {**CHAT, "messages": [{"role": "user", "content": "my secret prompt"}]}
    run(make_call("POST", "/v1/chat/completions", body=body, headers=AUTH, query={"token": KEY}))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (line,) = [entry for entry in lines if entry["event"] == "request"]
    assert line["request_id"] == "req_test"
    assert line["status"] == 200
    assert line["key"] == fingerprint(KEY)
    assert line["models"] == ["@cf/meta/llama-3.1-8b-instruct-fast"]
    assert isinstance(line["tokens"], int) and line["tokens"] > 0
    assert line["path"] == "/v1/chat/completions"
    assert isinstance(line["total_ms"], float) and isinstance(line["upstream_ms"], float)
    assert KEY not in json.dumps(line) and "secret prompt" not in json.dumps(line)


def test_deepl_auth_key_is_not_a_key_form_of_the_openai_routes():
    reply = run(make_call("GET", "/v1/models", headers={"authorization": f"DeepL-Auth-Key {KEY}"}))
    assert reply.status == 401


def test_preflight_never_allows_cookies_or_forwarding_headers():
    headers = {
        "origin": "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "Authorization, Cookie, content-type, X-Forwarded-For, sec-fetch-mode",
    }
    reply = run(make_call("OPTIONS", "/v1/chat/completions", headers=headers))
    assert reply.headers["access-control-allow-headers"] == "authorization, content-type"
