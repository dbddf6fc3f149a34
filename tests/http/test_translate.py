"""DeepLX `POST /translate` and DeepL `POST /v2/translate` through the local runtime and the
emulated m2m100 (which answers `[<target>] <text unchanged>`)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

M2M = "@cf/meta/m2m100-1.2b"


def post(
    base_url: str,
    path: str,
    data: bytes | None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], dict]:
    """(status, lower-case headers, JSON body) of one request (a POST unless told), errors
    included."""
    url = base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, raw_headers, raw = error.code, error.headers, error.read()
    return status, {k.lower(): v for k, v in raw_headers.items()}, json.loads(raw)


def deeplx(base_url, body: dict, token: str | None, headers=None):
    return post(
        base_url,
        "/translate",
        json.dumps(body, ensure_ascii=False).encode(),
        {"content-type": "application/json", **(headers or {})},
        {"token": token} if token is not None else None,
    )


def deepl(base_url, body: dict, key: str | None):
    auth = {"authorization": f"DeepL-Auth-Key {key}"} if key is not None else {}
    return post(
        base_url,
        "/v2/translate",
        json.dumps(body, ensure_ascii=False).encode(),
        {"content-type": "application/json", **auth},
    )


def m2m_inputs(control) -> list[dict]:
    return [r["inputs"] for r in control.requests() if r["model"] == M2M]


def test_immersive_translate_deeplx_request(base_url, api_key, emulator_control):
    # Exactly what Immersive Translate's DeepLX option sends: the key in the query string,
    # no auth header, source_lang "auto".
    status, headers, body = post(
        base_url,
        "/translate",
        b'{"text": "Hello world", "source_lang": "auto", "target_lang": "ZH"}',
        {"content-type": "application/json"},
        {"token": api_key},
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert isinstance(body.pop("id"), int)
    assert body == {
        "code": 200,
        "data": "[zh] Hello world",
        "alternatives": [],
        "source_lang": "EN",
        "target_lang": "ZH",
        "method": "Free",
    }
    assert m2m_inputs(emulator_control) == [
        {"text": "Hello world", "source_lang": "en", "target_lang": "zh"}
    ]


def test_deeplx_password_query_and_bearer_header(base_url, api_key):
    body = {"text": "Bonjour", "source_lang": "FR", "target_lang": "EN"}
    status, _, answer = post(
        base_url,
        "/translate",
        json.dumps(body).encode(),
        {"content-type": "application/json"},
        {"password": api_key},
    )
    assert (status, answer["data"]) == (200, "[en] Bonjour")
    status, _, answer = deeplx(base_url, body, None, {"authorization": f"Bearer {api_key}"})
    assert (status, answer["data"]) == (200, "[en] Bonjour")


def test_deeplx_unicode_emoji_and_newlines_survive(base_url, api_key):
    text = "🎉 Привет, мир! ✨\n\nЭто вторая строка 👍🏽\n"
    status, _, body = deeplx(
        base_url, {"text": text, "source_lang": "auto", "target_lang": "EN"}, api_key
    )
    assert status == 200
    assert body["data"] == "🎉 [en] Привет, мир! ✨\n\n[en] Это вторая строка 👍🏽\n"
    assert body["source_lang"] == "RU"


def test_deeplx_missing_and_wrong_token(base_url):
    status, headers, body = deeplx(base_url, {"text": "Hi", "target_lang": "ZH"}, None)
    assert status == 401
    assert headers["content-type"] == "application/json"
    assert body == {
        "code": 401,
        "message": "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
        "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`.",
    }
    status, _, body = deeplx(base_url, {"text": "Hi", "target_lang": "ZH"}, "sk-guess")
    assert (status, body) == (401, {"code": 401, "message": "Incorrect API key provided."})


def test_deeplx_unsupported_language(base_url, api_key):
    status, _, body = deeplx(base_url, {"text": "Hi", "target_lang": "TE"}, api_key)
    assert status == 400
    assert body == {
        "code": 400,
        "message": "Unsupported target_lang 'TE': the translation model (m2m100) does not "
        "translate into this language.",
    }


def test_deeplx_undetectable_language_asks_for_source_lang(base_url, api_key, emulator_control):
    status, _, body = deeplx(
        base_url,
        {"text": "Jeg har ikke tid i dag.", "source_lang": "", "target_lang": "EN"},
        api_key,
    )
    assert status == 400
    assert body == {
        "code": 400,
        "message": "Could not tell which language the text is in (it could be Danish, "
        "Norwegian). Set source_lang to the language of the text.",
    }
    assert m2m_inputs(emulator_control) == []


def test_deeplx_empty_text_makes_no_upstream_call(base_url, api_key, emulator_control):
    status, _, body = deeplx(
        base_url, {"text": "", "source_lang": "auto", "target_lang": "ZH"}, api_key
    )
    assert status == 200
    assert (body["data"], body["source_lang"]) == ("", "ZH")
    assert m2m_inputs(emulator_control) == []


def test_deeplx_upstream_capacity_error(base_url, api_key, emulator_control):
    emulator_control.fault(model=M2M, code=3040)
    status, headers, body = deeplx(
        base_url, {"text": "Hello", "source_lang": "EN", "target_lang": "DE"}, api_key
    )
    assert status == 429
    assert headers["content-type"] == "application/json"
    assert body["code"] == 429
    assert body["message"].startswith("Workers AI rejected the request (3040): ")
    assert set(body) == {"code", "message"}


def test_deeplx_upstream_server_error(base_url, api_key, emulator_control):
    emulator_control.fault(model=M2M, code=3001, status=500, message="Internal server error")
    status, _, body = deeplx(
        base_url, {"text": "Hello", "source_lang": "EN", "target_lang": "DE"}, api_key
    )
    assert (status, body) == (502, {"code": 502, "message": "Workers AI failed with error 3001."})


def test_deepl_json_batch_in_order(base_url, api_key, emulator_control):
    texts = ["Hello world", "Le chat est sur la table.", "", "你好，世界", "こんにちは"]
    status, headers, body = deepl(base_url, {"text": texts, "target_lang": "EN-US"}, api_key)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == {
        "translations": [
            {"detected_source_language": "EN", "text": "Hello world"},  # already English
            {"detected_source_language": "FR", "text": "[en] Le chat est sur la table."},
            {"detected_source_language": "EN", "text": ""},
            {"detected_source_language": "ZH", "text": "[en] 你好，世界"},
            {"detected_source_language": "JA", "text": "[en] こんにちは"},
        ]
    }
    assert sorted(i["text"] for i in m2m_inputs(emulator_control)) == sorted(
        ["Le chat est sur la table.", "你好，世界", "こんにちは"]
    )


def test_deepl_batch_order_with_slow_upstream(base_url, api_key, emulator_control):
    emulator_control.fault(model=M2M, latency_ms=50, times=None)
    texts = [f"Number {i} is here" for i in range(12)]
    status, _, body = deepl(
        base_url, {"text": texts, "source_lang": "EN", "target_lang": "DE"}, api_key
    )
    assert status == 200
    assert [t["text"] for t in body["translations"]] == [f"[de] {t}" for t in texts]


def test_deepl_form_body(base_url, api_key):
    data = urllib.parse.urlencode(
        [
            ("text", "Guten Morgen! 🌞"),
            ("text", "Zweite\nZeile"),
            ("source_lang", "DE"),
            ("target_lang", "PT-BR"),
        ]
    ).encode()
    status, _, body = post(
        base_url,
        "/v2/translate",
        data,
        {
            "content-type": "application/x-www-form-urlencoded",
            "authorization": f"DeepL-Auth-Key {api_key}",
        },
    )
    assert status == 200
    assert body == {
        "translations": [
            {"detected_source_language": "DE", "text": "[pt] Guten Morgen! 🌞"},
            {"detected_source_language": "DE", "text": "[pt] Zweite\n[pt] Zeile"},
        ]
    }


def test_deepl_long_text_is_split_and_joined(base_url, api_key, emulator_control):
    sentences = [f"This is sentence number {i}, and it is fairly long." for i in range(30)]
    text = " ".join(sentences)
    status, _, body = deepl(
        base_url, {"text": [text], "source_lang": "EN", "target_lang": "FR"}, api_key
    )
    assert status == 200
    sent = sorted((i["text"] for i in m2m_inputs(emulator_control)), key=text.index)
    assert len(sent) > 1
    assert all(s.endswith("long.") for s in sent)  # cut at sentence ends
    assert " ".join(sent) == text
    assert body["translations"][0]["text"] == " ".join(f"[fr] {s}" for s in sent)


def test_deepl_auth_failures(base_url):
    status, headers, body = deepl(base_url, {"text": ["Hi"], "target_lang": "DE"}, None)
    assert status == 403
    assert headers["content-type"] == "application/json"
    assert body == {
        "message": "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
        "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`."
    }
    status, _, body = deepl(base_url, {"text": ["Hi"], "target_lang": "DE"}, "wrong")
    assert (status, body) == (403, {"message": "Incorrect API key provided."})


def test_deepl_unsupported_language(base_url, api_key):
    status, _, body = deepl(
        base_url, {"text": ["Hi"], "source_lang": "Klingon", "target_lang": "DE"}, api_key
    )
    assert status == 400
    assert body == {
        "message": "Unsupported source_lang 'Klingon': the translation model (m2m100) does not "
        "translate from this language."
    }


def test_deepl_quota_error_is_456(base_url, api_key, emulator_control):
    emulator_control.fault(model=M2M, code=3036)
    status, _, body = deepl(
        base_url, {"text": ["Hi"], "source_lang": "EN", "target_lang": "DE"}, api_key
    )
    assert status == 456
    assert list(body) == ["message"]
    assert body["message"].startswith("Workers AI rejected the request (3036): ")


def test_deepl_upstream_timeout_is_504(base_url, api_key, emulator_control):
    emulator_control.fault(model=M2M, code=3007)
    status, _, body = deepl(
        base_url, {"text": ["Hi"], "source_lang": "EN", "target_lang": "DE"}, api_key
    )
    assert (status, body) == (504, {"message": "Workers AI failed with error 3007."})


def get(base_url, path: str, query=None, headers=None):
    return post(base_url, path, None, headers, query, method="GET")


FORM = "application/x-www-form-urlencoded"
NO_KEY = {
    "message": "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
    "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`."
}
WRONG_KEY = {"message": "Incorrect API key provided."}
TARGET_VARIANTS = [
    {"language": "EN-GB", "name": "English (British)", "supports_formality": False},
    {"language": "EN-US", "name": "English (American)", "supports_formality": False},
    {"language": "ES-419", "name": "Spanish (Latin American)", "supports_formality": False},
    {"language": "PT-BR", "name": "Portuguese (Brazilian)", "supports_formality": False},
    {"language": "PT-PT", "name": "Portuguese (European)", "supports_formality": False},
    {"language": "ZH-HANS", "name": "Chinese (simplified)", "supports_formality": False},
    {"language": "ZH-HANT", "name": "Chinese (traditional)", "supports_formality": False},
]


def test_deepl_source_languages(base_url, api_key, emulator_control):
    status, headers, body = get(
        base_url, "/v2/languages", headers={"authorization": f"DeepL-Auth-Key {api_key}"}
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    codes = [entry["language"] for entry in body]
    assert len(body) == 100
    assert codes == sorted(codes)
    assert {"language": "DE", "name": "German"} in body
    assert {"language": "NB", "name": "Norwegian (Bokmål)"} in body
    assert {"language": "AST", "name": "Asturian"} in body
    assert not any("-" in code for code in codes)
    assert all(set(entry) == {"language", "name"} for entry in body)
    assert m2m_inputs(emulator_control) == []


def test_deepl_target_languages_with_auth_key_in_the_query(base_url, api_key):
    status, _, body = get(base_url, "/v2/languages", {"type": "target", "auth_key": api_key})
    assert status == 200
    codes = [entry["language"] for entry in body]
    assert len(body) == 105
    assert [entry for entry in body if "-" in entry["language"]] == TARGET_VARIANTS
    assert "EN" not in codes and "PT" not in codes
    assert {"language": "ZH", "name": "Chinese (simplified)", "supports_formality": False} in body
    assert all(entry["supports_formality"] is False for entry in body)


def test_deepl_languages_by_post_with_auth_key_in_the_form_body(base_url, api_key):
    data = urllib.parse.urlencode({"auth_key": api_key, "type": "target"}).encode()
    status, headers, body = post(base_url, "/v2/languages", data, {"content-type": FORM})
    assert (status, headers["content-type"], len(body)) == (200, "application/json", 105)
    assert body[0] == {"language": "AF", "name": "Afrikaans", "supports_formality": False}


def test_deepl_languages_bad_type(base_url, api_key):
    status, headers, body = get(base_url, "/v2/languages", {"type": "both", "token": api_key})
    assert (status, headers["content-type"]) == (400, "application/json")
    assert body == {"message": "'type' must be 'source' or 'target'."}


def test_deepl_usage(base_url, api_key):
    expected = {"character_count": 0, "character_limit": 1_000_000_000_000}
    status, headers, body = get(
        base_url, "/v2/usage", headers={"authorization": f"DeepL-Auth-Key {api_key}"}
    )
    assert (status, headers["content-type"], body) == (200, "application/json", expected)
    data = json.dumps({"auth_key": api_key}).encode()
    status, _, body = post(base_url, "/v2/usage", data, {"content-type": "application/json"})
    assert (status, body) == (200, expected)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/languages"),
        ("POST", "/v2/languages"),
        ("GET", "/v2/usage"),
        ("POST", "/v2/usage"),
    ],
)
def test_deepl_languages_and_usage_auth_failures(base_url, method, path):
    data = b"" if method == "POST" else None
    status, headers, body = post(base_url, path, data, {"content-type": FORM}, method=method)
    assert (status, headers["content-type"], body) == (403, "application/json", NO_KEY)
    status, _, body = post(base_url, path, data, None, {"auth_key": "sk-guess"}, method=method)
    assert (status, body) == (403, WRONG_KEY)
    status, _, body = post(
        base_url, path, data, {"authorization": "DeepL-Auth-Key sk-guess"}, method=method
    )
    assert (status, body) == (403, WRONG_KEY)


def test_deepl_translate_with_auth_key_in_the_form_body(base_url, api_key, emulator_control):
    data = urllib.parse.urlencode(
        [
            ("auth_key", api_key),
            ("text", "Hallo Welt"),
            ("source_lang", "DE"),
            ("target_lang", "EN"),
        ]
    ).encode()
    status, _, body = post(base_url, "/v2/translate", data, {"content-type": FORM})
    assert status == 200
    assert body == {"translations": [{"detected_source_language": "DE", "text": "[en] Hallo Welt"}]}
    assert m2m_inputs(emulator_control) == [
        {"text": "Hallo Welt", "source_lang": "de", "target_lang": "en"}
    ]


def test_deepl_translate_with_auth_key_in_the_json_body(base_url, api_key):
    request = {
        "auth_key": api_key,
        "text": ["Hallo Welt"],
        "source_lang": "DE",
        "target_lang": "EN",
    }
    data = json.dumps(request).encode()
    status, _, body = post(base_url, "/v2/translate", data, {"content-type": "application/json"})
    assert status == 200
    assert body == {"translations": [{"detected_source_language": "DE", "text": "[en] Hallo Welt"}]}


def test_deepl_translate_with_auth_key_in_the_query(base_url, api_key):
    data = json.dumps({"text": ["Hallo Welt"], "source_lang": "DE", "target_lang": "EN"}).encode()
    status, _, body = post(
        base_url, "/v2/translate", data, {"content-type": "application/json"}, {"auth_key": api_key}
    )
    assert status == 200
    assert body["translations"][0]["text"] == "[en] Hallo Welt"


@pytest.mark.parametrize("where", ["form", "json", "query"])
def test_deepl_translate_wrong_auth_key(base_url, emulator_control, where):
    fields = {"text": "Hallo Welt", "source_lang": "DE", "target_lang": "EN"}
    query = {"auth_key": "sk-guess"} if where == "query" else None
    if where == "form":
        data, content_type = urllib.parse.urlencode({**fields, "auth_key": "sk-guess"}), FORM
    else:
        body = {**fields, "auth_key": "sk-guess"} if where == "json" else fields
        data, content_type = json.dumps(body), "application/json"
    status, headers, body = post(
        base_url, "/v2/translate", data.encode(), {"content-type": content_type}, query
    )
    assert (status, headers["content-type"], body) == (403, "application/json", WRONG_KEY)
    assert m2m_inputs(emulator_control) == []


@pytest.mark.parametrize("path", ["/translate", "/v2/translate", "/v2/languages", "/v2/usage"])
def test_cors_preflight(base_url, path):
    request = urllib.request.Request(
        base_url + path,
        method="OPTIONS",
        headers={
            "origin": "https://example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204
        assert response.headers["access-control-allow-origin"] == "*"


def test_deepl_target_languages_by_get_with_a_form_body(base_url, api_key):
    # As `deepl.Translator.get_target_languages()` sends it: a GET whose body is `type=target`.
    status, _, body = post(
        base_url,
        "/v2/languages",
        b"type=target",
        {"content-type": FORM, "authorization": f"DeepL-Auth-Key {api_key}"},
        method="GET",
    )
    assert (status, len(body)) == (200, 105)


def test_deepl_billed_characters_from_a_form_body(base_url, api_key):
    # As `deepl-node` sends a translation: a form with `show_billed_characters=1`.
    data = urllib.parse.urlencode(
        [
            ("text", "Grüß Gott, 世界"),
            ("source_lang", "DE"),
            ("target_lang", "EN-GB"),
            ("show_billed_characters", "1"),
        ]
    ).encode()
    status, _, body = post(
        base_url,
        "/v2/translate",
        data,
        {"content-type": FORM, "authorization": f"DeepL-Auth-Key {api_key}"},
    )
    assert status == 200
    assert body == {
        "translations": [
            {
                "detected_source_language": "DE",
                "text": "[en] Grüß Gott, 世界",
                "billed_characters": 13,
            }
        ]
    }


def test_the_guides_deepl_batch_example(base_url, api_key, emulator_control):
    # docs/translation.md: curl -d 'text=Hallo Welt' -d 'text=Guten Morgen' -d 'target_lang=EN-US'
    # (curl joins -d values with "&" and sends them unencoded, spaces included).
    status, _, body = post(
        base_url,
        "/v2/translate",
        b"text=Hallo Welt&text=Guten Morgen&target_lang=EN-US",
        {"content-type": FORM, "authorization": f"DeepL-Auth-Key {api_key}"},
    )
    assert status == 200
    assert body == {
        "translations": [
            {"detected_source_language": "DE", "text": "[en] Hallo Welt"},
            {"detected_source_language": "DE", "text": "[en] Guten Morgen"},
        ]
    }
    assert sorted(i["source_lang"] for i in m2m_inputs(emulator_control)) == ["de", "de"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_deepl_body_without_a_length_is_cut_off_at_the_limit(base_url, api_key, method):
    # Chunked, so no content-length to refuse it by: reading stops at 128 KiB.
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest(method, "/v2/languages")
    conn.putheader("authorization", f"DeepL-Auth-Key {api_key}")
    conn.putheader("content-type", FORM)
    conn.putheader("transfer-encoding", "chunked")
    conn.endheaders()
    chunk = b"type=target&pad=" + b"x" * 65536
    try:
        for _ in range(4):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may answer and close before the whole body is sent
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {
        "message": "The request body is larger than this endpoint accepts (128 KB)."
    }
