"""The request pipeline: routing, auth, CORS, size limits, request ids, error shapes."""

from __future__ import annotations

import json

import pytest

from core.errors import ApiError
from core.exchange import parse_json_object
from tests.audio_samples import wav_tone
from tests.unit.fakes import AUTH, FakeAi, FakeUpload, body_json, make_call, run


def test_health_needs_no_key_and_is_json():
    reply = run(make_call("GET", "/health", vars={}))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == {"status": "ok"}


def test_every_response_has_a_request_id():
    for call in (
        make_call("GET", "/health"),
        make_call("GET", "/nope"),
        make_call("GET", "/v1/models"),
        make_call("OPTIONS", "/v1/models"),
    ):
        assert run(call).headers["x-request-id"] == "req_test"


def test_unknown_route_is_404_in_openai_shape():
    reply = run(make_call("POST", "/v1/nothing", headers=AUTH))
    assert reply.status == 404
    assert body_json(reply) == {
        "error": {
            "message": "Invalid URL (POST /v1/nothing)",
            "type": "invalid_request_error",
            "param": None,
            "code": "not_found",
        }
    }


def test_wrong_method_is_405_with_allow():
    reply = run(make_call("POST", "/v1/models", headers=AUTH))
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, OPTIONS"
    assert body_json(reply)["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/v1/models/", "/models", "/v1/v1/models"])
def test_common_base_url_mistakes_still_route(path):
    reply = run(make_call("GET", path, headers=AUTH))
    assert reply.status == 200
    assert body_json(reply)["object"] == "list"


def test_missing_key_is_401_without_echo():
    reply = run(make_call("GET", "/v1/models"))
    assert reply.status == 401
    error = body_json(reply)["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "missing_api_key"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer sk-b"},
        {"Authorization": "bearer sk-b"},
        {"x-api-key": "sk-b"},
        {"api-key": "sk-b"},
    ],
)
def test_each_header_form_is_accepted(headers):
    call = make_call("GET", "/v1/models", headers=headers, vars={"API_KEYS": "sk-a, sk-b"})
    assert run(call).status == 200


def test_wrong_key_is_401_and_never_echoed():
    secret_guess = "sk-wrong-guess-123456"
    reply = run(make_call("GET", "/v1/models", headers={"authorization": f"Bearer {secret_guess}"}))
    assert reply.status == 401
    assert body_json(reply)["error"]["code"] == "invalid_api_key"
    assert secret_guess not in reply.body
    assert "sk-a" not in reply.body


def test_query_token_is_not_accepted_on_openai_routes():
    reply = run(make_call("GET", "/v1/models", query={"token": "sk-a"}))
    assert reply.status == 401


def test_no_keys_configured_fails_closed_with_a_clear_message():
    reply = run(make_call("GET", "/v1/models", headers=AUTH, vars={}))
    assert reply.status == 401
    error = body_json(reply)["error"]
    assert error["code"] == "no_api_keys_configured"
    assert "API_KEYS" in error["message"]


def test_allow_anonymous_opens_access_only_without_keys():
    assert run(make_call("GET", "/v1/models", vars={"ALLOW_ANONYMOUS": "true"})).status == 200
    keyed = {"ALLOW_ANONYMOUS": "true", "API_KEYS": "sk-a"}
    assert run(make_call("GET", "/v1/models", vars=keyed)).status == 401


def test_preflight_answers_for_any_route_without_auth():
    reply = run(
        make_call(
            "OPTIONS",
            "/v1/chat/completions",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
    )
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "POST" in reply.headers["access-control-allow-methods"]


def test_cors_origin_list_echoes_only_listed_origins():
    vars = {"API_KEYS": "sk-a", "CORS_ORIGINS": "https://a.example, https://b.example"}
    allowed = run(
        make_call("GET", "/v1/models", headers={**AUTH, "origin": "https://b.example"}, vars=vars)
    )
    assert allowed.headers["access-control-allow-origin"] == "https://b.example"
    assert allowed.headers["vary"] == "Origin"
    denied = run(
        make_call(
            "GET", "/v1/models", headers={**AUTH, "origin": "https://evil.example"}, vars=vars
        )
    )
    assert "access-control-allow-origin" not in denied.headers


def test_errors_carry_cors_headers_too():
    reply = run(make_call("GET", "/v1/models", headers={"origin": "https://x.example"}))
    assert reply.status == 401
    assert reply.headers["access-control-allow-origin"] == "*"


def test_declared_body_over_the_limit_is_413():
    call = make_call("GET", "/v1/models", headers={**AUTH, "content-length": str(11 * 2**20)})
    reply = run(call)
    assert reply.status == 413
    assert body_json(reply)["error"]["code"] == "request_too_large"


def test_head_has_headers_but_no_body():
    reply = run(make_call("HEAD", "/health"))
    assert reply.status == 200
    assert reply.body is None


def test_broken_model_aliases_setting_is_a_500_naming_the_setting():
    reply = run(make_call("GET", "/health", vars={"MODEL_ALIASES": "{not json"}))
    assert reply.status == 500
    assert "MODEL_ALIASES" in body_json(reply)["error"]["message"]


def test_a_bug_in_a_handler_is_a_generic_500_and_logged(monkeypatch, capsys):
    import routes
    from handlers import health

    async def boom(call):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(
        routes,
        "ROUTES",
        tuple(
            r if r.handler is not health.show else routes.Route(r.method, r.path, boom, auth=r.auth)
            for r in routes.ROUTES
        ),
    )
    reply = run(make_call("GET", "/health"))
    assert reply.status == 500
    assert "secret internals" not in reply.body
    assert json.loads(reply.body)["error"]["type"] == "server_error"
    assert "secret internals" in capsys.readouterr().err


GATEWAY_VARS = {"API_KEYS": "sk-a", "AI_GATEWAY_ID": "gw"}
JSON_CALLS = [
    (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    ),
    ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"}),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}),
    ("/v1/moderations", {"input": "hi"}),
    ("/v1/images/generations", {"model": "dall-e-3", "prompt": "a cat"}),
    ("/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy"}),
    ("/translate", {"text": "Hallo Welt", "source_lang": "DE", "target_lang": "EN"}),
    ("/v2/translate", {"text": ["Hallo Welt"], "source_lang": "DE", "target_lang": "EN-US"}),
]


@pytest.mark.parametrize(("path", "body"), JSON_CALLS, ids=[p for p, _ in JSON_CALLS])
def test_every_endpoint_runs_workers_ai_through_the_configured_gateway(path, body):
    # Every env.AI.run goes through upstream.ai; embeddings, moderations, images and speech
    # used to drop AI_GATEWAY_ID. The call is recorded before its answer is read.
    ai = FakeAi(lambda model, inputs: {})
    run(make_call("POST", path, body=body, headers=AUTH, vars=GATEWAY_VARS, ai=ai))
    assert ai.calls, path
    assert {json.dumps(options) for _, _, options in ai.calls} == {'{"gateway": {"id": "gw"}}'}


def test_transcription_runs_through_the_configured_gateway():
    ai = FakeAi(lambda model, inputs: {"text": "hi"})
    form = {"file": FakeUpload(wav_tone(0.1), "a.wav", "audio/wav"), "model": "whisper-1"}
    run(
        make_call(
            "POST", "/v1/audio/transcriptions", headers=AUTH, vars=GATEWAY_VARS, ai=ai, form=form
        )
    )
    assert [options for _, _, options in ai.calls] == [{"gateway": {"id": "gw"}}]


@pytest.mark.parametrize(
    "body",
    [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b"[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
def test_deeply_nested_json_is_a_400_before_it_is_parsed(body):
    # Pyodide's decoder recursed on the JS stack and a few thousand levels killed the isolate.
    reply = run(make_call("POST", "/v1/chat/completions", body=body, headers=AUTH))
    assert reply.status == 400
    assert body_json(reply)["error"]["code"] == "json_too_deep"


def test_nesting_within_the_limit_and_brackets_in_strings_still_parse():
    nested = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "[[[[" * 50}]}
    value = {"x": nested}
    for _ in range(60):
        value = {"x": value}
    assert parse_json_object(json.dumps(value).encode())["x"]["x"]
    with pytest.raises(ApiError):
        parse_json_object(json.dumps([[[[]]]] * 1).encode())  # valid JSON, not an object


def _chat_error(raw: bytes) -> dict:
    reply = run(make_call("POST", "/v1/chat/completions", body=raw, headers=AUTH))
    assert reply.status == 400, reply.body
    return body_json(reply)["error"]


@pytest.mark.parametrize(
    ("fragment", "code", "param"),
    [
        (b'"max_tokens": 9007199254740993', "invalid_value", "max_tokens"),
        (b'"max_tokens": 1e308', "invalid_value", "max_tokens"),
        (b'"max_tokens": 1e999', "invalid_number", None),
        (b'"temperature": NaN', "invalid_number", None),
        (b'"temperature": -Infinity', "invalid_number", None),
    ],
)
def test_numbers_javascript_cannot_carry_are_400s_not_upstream_failures(fragment, code, param):
    # These used to fail while serialising for env.AI.run and came back as a 502.
    raw = (
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], '
        + fragment
        + b"}"
    )
    error = _chat_error(raw)
    assert (error["code"], error["param"]) == (code, param)


@pytest.mark.parametrize("text", [rb"a\ud800b", rb"\udc00", rb"x\ud83d"])
def test_lone_surrogates_are_refused_before_they_reach_workers_ai(text):
    raw = b'{"messages": [{"role": "user", "content": "' + text + b'"}]}'
    assert _chat_error(raw)["code"] == "invalid_unicode"


def test_surrogate_pairs_are_text():
    ai = FakeAi()
    raw = rb'{"messages": [{"role": "user", "content": "\ud83d\ude00"}]}'
    reply = run(make_call("POST", "/v1/chat/completions", body=raw, headers=AUTH, ai=ai))
    assert reply.status == 200
    assert ai.calls[0][1]["messages"][-1]["content"] == "😀"


def test_integers_past_javascripts_range_parse_as_floats():
    # Found by `make fuzz`: a Python int past 2**53 in a model input cannot cross into
    # JavaScript, so a JSON schema or tool default holding one failed as a 502.
    body = parse_json_object(
        b'{"a": 9007199254740993, "b": -9007199254740993, "c": 9007199254740991}'
    )
    assert body == {"a": 9007199254740992.0, "b": -9007199254740992.0, "c": 9007199254740991}
    assert isinstance(body["c"], int)
