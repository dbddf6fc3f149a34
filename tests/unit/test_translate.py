"""DeepLX /translate and DeepL /v2/translate: languages, detection, segmenting, wire shapes."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import routes
from core import auth, config
from core.errors import ApiError
from core.exchange import Call, Form
from formats import langdetect, languages
from mapping import translation
from tests.unit.fakes import FakeAi, body_json, make_call, run

M2M = "@cf/meta/m2m100-1.2b"


def tagged(model: str, inputs: dict) -> dict:
    """A stand-in model: marks the text with its language pair so tests can see what was sent."""
    return {
        "translated_text": f"<{inputs['source_lang']}>{inputs['text']}</{inputs['target_lang']}>"
    }


def deeplx_call(body, query=None, headers=None, ai=None, **kw) -> Call:
    return make_call(
        "POST",
        "/translate",
        body=body,
        query={"token": "sk-a"} if query is None else query,
        headers={"content-type": "application/json", **(headers or {})},
        ai=ai or FakeAi(tagged),
        **kw,
    )


def deepl_call(body, content_type="application/json", headers=None, ai=None, **kw) -> Call:
    return make_call(
        "POST",
        "/v2/translate",
        body=body,
        headers={
            "authorization": "DeepL-Auth-Key sk-a",
            **({"content-type": content_type} if content_type else {}),
            **(headers or {}),
        },
        ai=ai or FakeAi(tagged),
        **kw,
    )


# Languages.


def test_m2m100_has_its_hundred_languages_and_each_resolves_to_itself():
    assert len(languages.M2M100) == 100
    for code, names in languages.M2M100.items():
        assert languages.lookup(code) == code
        assert languages.lookup(code.upper()) == code
        for name in names:
            assert languages.lookup(name.title()) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("EN", "en"),
        ("EN-US", "en"),
        ("EN-GB", "en"),
        ("ZH", "zh"),
        ("ZH-HANS", "zh"),
        ("ZH-HANT", "zh"),
        ("PT-BR", "pt"),
        ("PT-PT", "pt"),
        ("NB", "no"),
        ("ES-419", "es"),
        ("zh-CN", "zh"),
        ("zh_TW", "zh"),
        ("sr-Latn", "sr"),
        ("iw", "he"),
        ("in", "id"),
        ("fil", "tl"),
        ("nso", "ns"),
        ("deu", "de"),
        ("German", "de"),
        ("  english ", "en"),
        ("Deutsch", "de"),
        ("Français", "fr"),
        ("简体中文", "zh"),
        ("Simplified Chinese", "zh"),
        ("chinese (traditional)", "zh"),
        ("Norwegian Bokmål", "no"),
        ("AST", "ast"),
    ],
)
def test_lookup_accepts_deepl_codes_bcp47_tags_and_names(value, code):
    assert languages.lookup(value) == code


@pytest.mark.parametrize("value", ["te", "Telugu", "yue", "klingon", "xx-YY", "", "EN US"])
def test_lookup_refuses_what_m2m100_lacks(value):
    assert languages.lookup(value) is None


def test_display_uses_deepl_codes():
    assert languages.display("zh") == "ZH"
    assert languages.display("no") == "NB"
    assert languages.display("ast") == "AST"


def test_language_field_errors_name_the_language():
    with pytest.raises(Exception) as caught:
        translation.language("Klingon", "target_lang", allow_auto=False)
    assert caught.value.status == 400
    assert caught.value.param == "target_lang"
    assert caught.value.message == (
        "Unsupported target_lang 'Klingon': the translation model (m2m100) does not translate "
        "into this language."
    )
    assert translation.language("auto", "source_lang", allow_auto=True) is None
    assert translation.language("", "source_lang", allow_auto=True) is None
    assert translation.language(None, "source_lang", allow_auto=True) is None


# Detection.


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hello world", "en"),
        ("Sign in", "en"),  # short, "in" is also Dutch/German/Italian: English by default
        ("Quantum Computing Breakthrough Announced Today", "en"),  # headline, no evidence
        ("The weather is nice and we are going to the park.", "en"),
        ("Le chat est sur la table et il dort.", "fr"),
        ("Der Hund ist nicht im Garten, aber die Katze schon.", "de"),
        ("El perro está en la casa y no quiere salir.", "es"),
        ("O cão está em casa e não quer sair.", "pt"),
        ("Il gatto è sul tavolo e non vuole scendere.", "it"),
        ("Het is een mooie dag en ik ga naar buiten.", "nl"),
        ("To jest bardzo dobry dzień i nie chcę pracować.", "pl"),
        ("Dnes je velmi pěkný den a nechci pracovat.", "cs"),
        ("Dnes je veľmi pekný deň a nechcem pracovať.", "sk"),
        ("Jeg har ikke tid i dag, men jeg kommer efter.", "da"),
        ("Jeg har ikke tid i dag, men jeg kommer etter.", "no"),
        ("Tämä on erittäin hyvä päivä ja en halua tehdä töitä.", "fi"),
        ("Tôi không biết người này là ai.", "vi"),
        ("Bugün hava çok güzel ve ben dışarı çıkmak istiyorum", "tr"),
        ("Comitetul se va întruni marțea viitoare pentru a discuta bugetul.", "ro"),  # î, â
        ("Kwamitin zai hadu ranar Talata mai zuwa domin tattauna kasafin kudin.", "ha"),
        ("J'arrive tout de suite, attends-moi.", "fr"),  # elisions: j'
        ("I'm not sure what you mean, but let's talk tomorrow.", "en"),
        ("Привет, как дела? Что ты делаешь сегодня?", "ru"),
        ("Привіт, як справи? Що ти робиш сьогодні?", "uk"),
        ("Здравей, как си? Това е много хубаво.", "bg"),
        ("你好，世界", "zh"),
        ("こんにちは世界", "ja"),
        ("東京の天気", "ja"),  # Han with kana is Japanese
        ("안녕하세요", "ko"),
        ("مرحبا بالعالم، هذا هو النص", "ar"),
        ("این یک متن فارسی است که در آن", "fa"),
        ("यह एक हिंदी वाक्य है और यह अच्छा है", "hi"),
        ("שלום עולם, זה טקסט בעברית", "he"),
        ("Γειά σου κόσμε", "el"),
        ("ສະບາຍດີ", "lo"),
        ("გამარჯობა", "ka"),
    ],
)
def test_detect(text, code):
    assert langdetect.detect(text).language == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Guten Morgen", "de"),
        ("Hallo Welt", "de"),
        ("Buenos días", "es"),
        ("Obrigado", "pt"),
        ("Bonne nuit", "fr"),
        ("Terima kasih", "id"),
        ("Xin chào", "vi"),
        ("Sannu", "ha"),
        ("İyi geceler", "tr"),  # "İ".lower() is "i" plus a combining dot
        ("Asante sana", "sw"),
        ("Magandang umaga", "tl"),
        ("شکریہ", "ur"),
        ("तुम्ही कसे आहात?", "mr"),
        ("До свидания", "ru"),
    ],
)
def test_detect_greetings(text, code):
    assert langdetect.detect(text).language == code


def test_a_clear_lead_is_not_a_guess():
    assert langdetect.detect("Guten Morgen") == langdetect.Detection("de", "latin")


@pytest.mark.parametrize(
    ("text", "code", "others"),
    [
        ("Hola", "es", ("ca",)),  # Spanish and Catalan alike: the more spoken one
        ("Sign in", "en", ("nl", "it", "af")),  # a tie including English: English
        ("Vamos a la playa", "es", ("pt", "ca", "fr", "it", "ro")),  # ahead, not clearly
    ],
)
def test_short_text_without_a_clear_lead_is_a_guess(text, code, others):
    found = langdetect.detect(text)
    assert (found.language, found.guessed) == (code, True)
    assert set(found.candidates) >= set(others)


def test_detect_nothing_to_translate():
    assert langdetect.detect("123 !!! 🎉").language == langdetect.NO_TEXT
    assert langdetect.detect("").language == langdetect.NO_TEXT


def test_detect_refuses_to_guess_between_close_languages():
    found = langdetect.detect("Jeg har ikke tid i dag.")
    assert found.language is None
    assert found.reason == langdetect.AMBIGUOUS
    assert set(found.candidates) == {"da", "no"}


def test_detect_refuses_long_text_without_evidence():
    # Zulu, which has no profile: nine words, none of them known.
    found = langdetect.detect(
        "Ngiyabonga kakhulu ngosizo lwakho namhlanje futhi ngiyakuthanda mngane wami"
    )
    assert found == langdetect.Detection(None, "latin", langdetect.NO_EVIDENCE)


def test_detect_names_scripts_m2m100_lacks():
    found = langdetect.detect("తెలుగు భాష")
    assert found == langdetect.Detection(None, "telugu", langdetect.UNSUPPORTED_SCRIPT)


# Segmenting.


def test_plan_keeps_lines_whitespace_and_emoji_out_of_the_model():
    parts = translation.plan("  🎉 Hello world! 🎉\n\nSecond line.\r\n- item\n123", 128)
    assert parts == [
        ("  🎉 ", False),
        ("Hello world!", True),
        (" 🎉", False),
        ("\n", False),
        ("\n", False),
        ("Second line.", True),
        ("\r\n", False),
        ("- item", True),
        ("\n", False),
        ("123", False),
    ]


def test_long_text_is_cut_at_sentence_ends_within_budget():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    parts = translation.plan(text, 40)
    segments = [s for s, send in parts if send]
    assert len(segments) > 1
    assert all(translation.cost(s) <= 40 for s in segments)
    assert all(s.endswith("here.") for s in segments)
    assert translation.assemble(parts, iter(segments)) == text


def test_cjk_text_is_cut_after_full_width_stops():
    text = "这是一个句子。" * 60
    segments = [s for s, send in translation.plan(text, 50) if send]
    assert segments[0] == "这是一个句子。" * 7
    assert "".join(segments) == text


def test_a_run_without_boundaries_is_cut_anyway():
    segments = [s for s, send in translation.plan("x" * 1000, 50) if send]
    assert [len(s) for s in segments] == [200] * 5


def test_assemble_drops_the_space_after_cjk_sentences():
    parts = [("One.", True), (" ", False), ("Two.", True)]
    assert translation.assemble(parts, iter(["一。", "二。"])) == "一。二。"
    assert translation.assemble(parts, iter(["Un.", "Deux."])) == "Un. Deux."


# CJK full-width stops are left out: after them assemble() drops a space on purpose (above).
@given(
    st.text(st.characters(blacklist_characters="。！？」』）"), max_size=400),
    st.integers(min_value=4, max_value=200),
)
@example("0000\u0530\u0530\u0530 A", 4)  # a cut piece starting with a space kept it
def test_plan_then_assemble_with_identity_gives_back_the_text(text, budget):
    parts = translation.plan(text, budget)
    segments = iter([s for s, send in parts if send])
    assert translation.assemble(parts, segments) == text


# DeepLX /translate.


def test_immersive_translate_request_with_query_token():
    ai = FakeAi(tagged)
    call = make_call(
        "POST",
        "/translate",
        body=b'{"text": "Hello world", "source_lang": "auto", "target_lang": "ZH"}',
        query={"token": "sk-a"},
        headers={"content-type": "application/json"},
        ai=ai,
    )
    reply = run(call)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    body = body_json(reply)
    assert isinstance(body.pop("id"), int)
    assert body == {
        "code": 200,
        "data": "<en>Hello world</zh>",
        "alternatives": [],
        "source_lang": "EN",
        "target_lang": "ZH",
        "method": "Free",
    }
    assert ai.calls == [
        (M2M, {"text": "Hello world", "source_lang": "en", "target_lang": "zh"}, None)
    ]


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({"password": "sk-a"}, {}),
        ({}, {"authorization": "Bearer sk-a"}),
        ({}, {"authorization": "DeepL-Auth-Key sk-a"}),
    ],
)
def test_deeplx_other_auth_forms(query, headers):
    body = {"text": "Bonjour", "source_lang": "FR", "target_lang": "EN"}
    reply = run(deeplx_call(body, query=query, headers=headers))
    assert reply.status == 200
    assert body_json(reply)["data"] == "<fr>Bonjour</en>"


def test_deeplx_missing_token_is_401_in_deeplx_shape():
    reply = run(deeplx_call({"text": "Hi", "target_lang": "ZH"}, query={}))
    assert reply.status == 401
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == {
        "code": 401,
        "message": "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
        "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`.",
    }


def test_deeplx_wrong_token_is_401_in_deeplx_shape_without_echo():
    reply = run(deeplx_call({"text": "Hi", "target_lang": "ZH"}, query={"token": "guess-123"}))
    assert reply.status == 401
    assert body_json(reply) == {"code": 401, "message": "Incorrect API key provided."}
    assert "guess-123" not in reply.body


def test_deeplx_no_keys_configured_is_401_in_deeplx_shape():
    reply = run(deeplx_call({"text": "Hi", "target_lang": "ZH"}, vars={}))
    assert reply.status == 401
    assert body_json(reply)["code"] == 401
    assert body_json(reply)["message"].startswith("This server has no API keys configured")


def test_deeplx_preserves_unicode_emoji_and_newlines():
    text = "🎉 Привет, мир! ✨\n\nЭто вторая строка 👍🏽\n"
    reply = run(deeplx_call({"text": text, "source_lang": "RU", "target_lang": "EN"}))
    assert body_json(reply)["data"] == (
        "🎉 <ru>Привет, мир!</en> ✨\n\n<ru>Это вторая строка</en> 👍🏽\n"
    )
    assert "\\u" not in reply.body  # written as UTF-8, not escaped


def test_deeplx_empty_text_makes_no_upstream_call():
    ai = FakeAi(tagged)
    reply = run(deeplx_call({"text": "", "source_lang": "auto", "target_lang": "DE"}, ai=ai))
    assert reply.status == 200
    body = body_json(reply)
    assert (body["data"], body["source_lang"], body["target_lang"]) == ("", "DE", "DE")
    assert ai.calls == []


def test_same_source_and_target_returns_the_text_unchanged():
    ai = FakeAi(tagged)
    reply = run(deeplx_call({"text": "Hello", "source_lang": "EN", "target_lang": "EN-US"}, ai=ai))
    assert body_json(reply)["data"] == "Hello"
    assert ai.calls == []


def test_text_guessed_to_be_in_the_target_language_is_still_translated():
    # "Sign in" is only guessed to be English; the model writes English whatever the text
    # was, so it is asked rather than the text echoed as if it were English.
    ai = FakeAi(tagged)
    reply = run(deeplx_call({"text": "Sign in", "target_lang": "EN-US"}, ai=ai))
    body = body_json(reply)
    assert (body["data"], body["source_lang"]) == ("<en>Sign in</en>", "EN")
    assert ai.calls == [(M2M, {"text": "Sign in", "source_lang": "en", "target_lang": "en"}, None)]


def test_guten_morgen_alone_is_german_and_translated():
    # It used to be taken for English (no German word known) and came back untranslated.
    ai = FakeAi(tagged)
    reply = run(deeplx_call({"text": "Guten Morgen", "target_lang": "EN"}, ai=ai))
    body = body_json(reply)
    assert (body["data"], body["source_lang"]) == ("<de>Guten Morgen</en>", "DE")


def test_text_surely_in_the_target_language_is_returned_unchanged():
    ai = FakeAi(tagged)
    reply = run(deeplx_call({"text": "Thank you very much", "target_lang": "EN-GB"}, ai=ai))
    assert (body_json(reply)["data"], ai.calls) == ("Thank you very much", [])


def test_deeplx_unsupported_target_is_400_naming_it():
    reply = run(deeplx_call({"text": "Hi", "target_lang": "Klingon"}))
    assert reply.status == 400
    assert body_json(reply) == {
        "code": 400,
        "message": "Unsupported target_lang 'Klingon': the translation model (m2m100) does not "
        "translate into this language.",
    }


def test_deeplx_unsupported_source_is_400_naming_it():
    reply = run(deeplx_call({"text": "Hi", "source_lang": "TE", "target_lang": "EN"}))
    assert reply.status == 400
    assert body_json(reply)["message"] == (
        "Unsupported source_lang 'TE': the translation model (m2m100) does not translate from "
        "this language."
    )


def test_deeplx_undetectable_source_is_400_asking_for_source_lang():
    ai = FakeAi(tagged)
    body = {"text": "Jeg har ikke tid i dag.", "source_lang": "auto", "target_lang": "EN"}
    reply = run(deeplx_call(body, ai=ai))
    assert reply.status == 400
    assert body_json(reply) == {
        "code": 400,
        "message": "Could not tell which language the text is in (it could be Danish, "
        "Norwegian). Set source_lang to the language of the text.",
    }
    assert ai.calls == []


def test_deeplx_unsupported_script_is_400():
    reply = run(deeplx_call({"text": "తెలుగు భాష", "target_lang": "EN"}))
    assert reply.status == 400
    assert body_json(reply) == {
        "code": 400,
        "message": "Cannot translate the text: it is written in the Telugu script, which the "
        "translation model (m2m100) does not support.",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target_lang": "ZH"}, "Missing required parameter: 'text'."),
        ({"text": ["a"], "target_lang": "ZH"}, "'text' must be a string."),
        ({"text": "a"}, "Missing required parameter: 'target_lang'."),
        (
            {"text": "a", "target_lang": "auto"},
            "'target_lang' must name a language, such as 'EN', 'DE' or 'ZH'.",
        ),
        (
            {"text": "a", "target_lang": 5},
            "'target_lang' must be a string such as 'EN', 'DE' or 'ZH'.",
        ),
    ],
)
def test_deeplx_bad_fields_are_400_in_deeplx_shape(body, message):
    reply = run(deeplx_call(body))
    assert reply.status == 400
    assert body_json(reply) == {"code": 400, "message": message}


def test_deeplx_bad_json_is_400_in_deeplx_shape():
    reply = run(deeplx_call(b"{not json"))
    assert reply.status == 400
    assert body_json(reply)["code"] == 400


def test_deeplx_oversized_body_is_413_in_deeplx_shape():
    reply = run(
        deeplx_call({"text": "x", "target_lang": "DE"}, headers={"content-length": "200000"})
    )
    assert reply.status == 413
    assert body_json(reply) == {
        "code": 413,
        "message": "The request body is larger than this endpoint accepts (128 KB).",
    }


@pytest.mark.parametrize(
    ("upstream", "status", "message"),
    [
        (
            "3040: Capacity temporarily exceeded, please try again.",
            429,
            "Workers AI rejected the request (3040): Capacity temporarily exceeded, please try "
            "again.",
        ),
        ("3007: Request timeout", 504, "Workers AI failed with error 3007."),
        ("1000: boom at host x", 502, "Workers AI failed with error 1000."),
    ],
)
def test_deeplx_upstream_failures_are_mapped(upstream, status, message):
    ai = FakeAi(lambda model, inputs: Exception(upstream))
    reply = run(deeplx_call({"text": "Hi", "source_lang": "EN", "target_lang": "DE"}, ai=ai))
    assert reply.status == status
    assert body_json(reply) == {"code": status, "message": message}


def test_upstream_answer_without_translation_is_502():
    ai = FakeAi(lambda model, inputs: {"response": "?"})
    reply = run(deeplx_call({"text": "Hi", "source_lang": "EN", "target_lang": "DE"}, ai=ai))
    assert reply.status == 502
    assert body_json(reply) == {
        "code": 502,
        "message": "Workers AI answered without a translation.",
    }


def test_long_text_is_translated_in_segments_and_joined():
    ai = FakeAi(lambda model, inputs: {"translated_text": f"[{len(inputs['text'])}]"})
    text = " ".join(f"This is sentence {i}, which is reasonably long." for i in range(40))
    reply = run(deeplx_call({"text": text, "source_lang": "EN", "target_lang": "FR"}, ai=ai))
    assert reply.status == 200
    sent = [inputs["text"] for _, inputs, _ in ai.calls]
    assert len(set(sent)) == len(sent) > 1  # distinct segments, each sent once
    assert " ".join(sent) == text
    assert all(translation.cost(s) <= 128 for s in sent)
    assert body_json(reply)["data"] == " ".join(f"[{len(s)}]" for s in sent)


# DeepL /v2/translate.


def test_deepl_json_batch_keeps_order_and_detects_each_text():
    body = {"text": ["Hello world", "Le chat est sur la table.", "", "你好"], "target_lang": "DE"}
    reply = run(deepl_call(body))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == {
        "translations": [
            {"detected_source_language": "EN", "text": "<en>Hello world</de>"},
            {"detected_source_language": "FR", "text": "<fr>Le chat est sur la table.</de>"},
            {"detected_source_language": "DE", "text": ""},
            {"detected_source_language": "ZH", "text": "<zh>你好</de>"},
        ]
    }


def test_deepl_form_body_with_repeated_text():
    ai = FakeAi(tagged)
    raw = "text=Hallo+Welt&text=Guten+Morgen%21+%F0%9F%8C%9E&source_lang=DE&target_lang=EN-US"
    reply = run(deepl_call(raw.encode(), content_type="application/x-www-form-urlencoded", ai=ai))
    assert reply.status == 200
    assert body_json(reply) == {
        "translations": [
            {"detected_source_language": "DE", "text": "<de>Hallo Welt</en>"},
            {"detected_source_language": "DE", "text": "<de>Guten Morgen!</en> 🌞"},
        ]
    }


def test_deepl_multipart_body():
    call = deepl_call(
        b"",
        content_type="multipart/form-data; boundary=x",
        form={"text": "Hola usted", "target_lang": "EN"},
    )
    reply = run(call)
    assert body_json(reply) == {
        "translations": [{"detected_source_language": "ES", "text": "<es>Hola usted</en>"}]
    }


def test_deepl_body_without_content_type():
    reply = run(deepl_call(b'{"text": "Hola usted", "target_lang": "PT-BR"}', content_type=None))
    assert body_json(reply)["translations"][0]["text"] == "<es>Hola usted</pt>"
    form = run(deepl_call(b"text=Hola+usted&target_lang=PT-BR", content_type=None))
    assert body_json(form)["translations"][0]["text"] == "<es>Hola usted</pt>"


def test_deepl_query_token_auth():
    call = deepl_call({"text": ["Hi"], "target_lang": "ZH-HANS"}, headers={"authorization": ""})
    call.query = {"token": "sk-a"}
    assert run(call).status == 200


def test_deepl_auth_failures_are_403_in_deepl_shape():
    missing = run(deepl_call({"text": ["Hi"], "target_lang": "DE"}, headers={"authorization": ""}))
    assert missing.status == 403
    assert body_json(missing) == {
        "message": "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
        "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`."
    }
    wrong = run(
        deepl_call(
            {"text": ["Hi"], "target_lang": "DE"}, headers={"authorization": "DeepL-Auth-Key no"}
        )
    )
    assert wrong.status == 403
    assert body_json(wrong) == {"message": "Incorrect API key provided."}


def test_deepl_unsupported_language_is_400_in_deepl_shape():
    reply = run(deepl_call({"text": ["Hi"], "target_lang": "TE"}))
    assert reply.status == 400
    assert body_json(reply) == {
        "message": "Unsupported target_lang 'TE': the translation model (m2m100) does not "
        "translate into this language."
    }


def test_deepl_batch_detection_failure_names_the_text():
    reply = run(deepl_call({"text": ["Hello", "Jeg har ikke tid i dag."], "target_lang": "EN"}))
    assert reply.status == 400
    assert body_json(reply) == {
        "message": "Could not tell which language text[1] is in (it could be Danish, "
        "Norwegian). Set source_lang to the language of the text."
    }


def test_deepl_too_many_texts():
    reply = run(deepl_call({"text": ["a"] * 51, "target_lang": "DE"}))
    assert reply.status == 400
    assert body_json(reply) == {
        "message": "'text' has 51 entries; at most 50 are allowed per request."
    }


@pytest.mark.parametrize(
    ("upstream", "status", "message"),
    [
        (
            "3036: You have used up your daily free allocation of 10,000 neurons.",
            456,
            "Workers AI rejected the request (3036): You have used up your daily free "
            "allocation of 10,000 neurons.",
        ),
        (
            "5006: AiError: Bad input: required properties at '/' are 'text'",
            400,
            "Workers AI rejected the request (5006): Bad input: required properties at '/' are "
            "'text'",
        ),
        ("3046: Request timeout", 504, "Workers AI failed with error 3046."),
    ],
)
def test_deepl_upstream_failures_are_mapped(upstream, status, message):
    ai = FakeAi(lambda model, inputs: Exception(upstream))
    reply = run(deepl_call({"text": ["Hi"], "source_lang": "EN", "target_lang": "DE"}, ai=ai))
    assert reply.status == status
    assert body_json(reply) == {"message": message}


def test_identical_segments_are_translated_once():
    ai = FakeAi(tagged)
    reply = run(deepl_call({"text": ["Menu", "Menu", "Home"], "target_lang": "FR"}, ai=ai))
    assert [t["text"] for t in body_json(reply)["translations"]] == [
        "<en>Menu</fr>",
        "<en>Menu</fr>",
        "<en>Home</fr>",
    ]
    assert [inputs["text"] for _, inputs, _ in ai.calls] == ["Menu", "Home"]


class SlowAi:
    """Answers later for earlier texts, and records how many calls ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> dict:
        self.running += 1
        self.peak = max(self.peak, self.running)
        number = int(inputs["text"].split()[-1])
        await asyncio.sleep(0.001 * (20 - number))
        self.running -= 1
        return {"translated_text": f"Nummer {number}"}


def test_batch_runs_concurrently_with_a_cap_and_keeps_order():
    ai = SlowAi()
    texts = [f"Number {i}" for i in range(20)]
    call = deepl_call({"text": texts, "source_lang": "EN", "target_lang": "DE"})
    call.env.ai = ai
    reply = run(call)
    assert [t["text"] for t in body_json(reply)["translations"]] == [
        f"Nummer {i}" for i in range(20)
    ]
    assert ai.peak == 6


def test_deepl_json_text_may_be_a_single_string():
    reply = run(deepl_call({"text": "Hola usted", "target_lang": "EN"}))
    assert json.loads(reply.body)["translations"][0]["text"] == "<es>Hola usted</en>"


# DeepL /v2/languages, /v2/usage and the legacy `auth_key`.

NO_KEY = {
    "message": "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
    "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`."
}
WRONG_KEY = {"message": "Incorrect API key provided."}
DEEPL_ROUTES = [(r.method, r.path) for r in routes.ROUTES if r.auth == routes.DEEPL_KEY]


def v2_call(method, path, body=None, content_type=None, headers=None, query=None, **kw) -> Call:
    """A /v2 request, by default with the key in the DeepL header and no body."""
    return make_call(
        method,
        path,
        body=body,
        headers={
            "authorization": "DeepL-Auth-Key sk-a",
            **({"content-type": content_type} if content_type else {}),
            **(headers or {}),
        },
        query=query,
        **kw,
    )


HALLO = {"text": "Hallo Welt", "source_lang": "DE", "target_lang": "EN"}


def test_deepl_source_languages_are_m2m100s_under_deepl_codes():
    entries = translation.deepl_languages("source")
    codes = [entry["language"] for entry in entries]
    assert len(entries) == 100
    assert codes == sorted(codes)
    assert {"language": "EN", "name": "English"} in entries
    assert {"language": "NB", "name": "Norwegian (Bokmål)"} in entries  # DeepL's code, not NO
    assert {"language": "ZH", "name": "Chinese"} in entries
    assert {"language": "AST", "name": "Asturian"} in entries  # no DeepL code: ISO, upper-cased
    assert {"language": "HT", "name": "Haitian Creole"} in entries
    assert "NO" not in codes
    assert not any("-" in code for code in codes)  # variants are targets only, as in DeepL
    assert all(set(entry) == {"language", "name"} for entry in entries)
    assert {languages.lookup(code) for code in codes} == set(languages.M2M100)


def test_deepl_target_languages_list_deepls_variants():
    entries = translation.deepl_languages("target")
    codes = [entry["language"] for entry in entries]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes)) == 105  # 100 - EN - PT + 7 variants
    for variant, name in [
        ("EN-GB", "English (British)"),
        ("EN-US", "English (American)"),
        ("ES-419", "Spanish (Latin American)"),
        ("PT-BR", "Portuguese (Brazilian)"),
        ("PT-PT", "Portuguese (European)"),
        ("ZH-HANS", "Chinese (simplified)"),
        ("ZH-HANT", "Chinese (traditional)"),
    ]:
        assert {"language": variant, "name": name, "supports_formality": False} in entries
    assert {"language": "ZH", "name": "Chinese (simplified)", "supports_formality": False} in (
        entries
    )
    assert {"language": "ES", "name": "Spanish", "supports_formality": False} in entries
    assert {"language": "AST", "name": "Asturian", "supports_formality": False} in entries
    assert "EN" not in codes and "PT" not in codes  # deprecated as DeepL targets
    assert all(entry["supports_formality"] is False for entry in entries)
    # Every listed target is accepted as a target_lang, and every m2m100 language is listed.
    assert {languages.lookup(code) for code in codes} == set(languages.M2M100)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, "source"), ("", "source"), ("source", "source"), (" Target ", "target")],
)
def test_list_kind(value, kind):
    assert translation.list_kind(value) == kind


@pytest.mark.parametrize("value", ["both", 1, ["target"]])
def test_list_kind_refuses_others(value):
    with pytest.raises(ApiError) as caught:
        translation.list_kind(value)
    assert (caught.value.status, caught.value.param) == (400, "type")
    assert caught.value.message == "'type' must be 'source' or 'target'."


def test_get_languages_defaults_to_source():
    ai = FakeAi(tagged)
    reply = run(v2_call("GET", "/v2/languages", ai=ai))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    body = body_json(reply)
    assert len(body) == 100
    assert body[:2] == [
        {"language": "AF", "name": "Afrikaans"},
        {"language": "AM", "name": "Amharic"},
    ]
    assert ai.calls == []


@pytest.mark.parametrize(
    ("method", "body", "content_type", "query"),
    [
        ("GET", None, None, {"type": "target"}),
        ("POST", b"type=target", "application/x-www-form-urlencoded", None),
        ("POST", {"type": "target"}, "application/json", None),
        ("POST", b"type=target", None, None),
        ("POST", b"", "application/x-www-form-urlencoded", {"type": "target"}),
    ],
)
def test_target_languages_by_query_form_or_json(method, body, content_type, query):
    reply = run(v2_call(method, "/v2/languages", body, content_type, query=query))
    assert reply.status == 200
    body = body_json(reply)
    assert len(body) == 105
    assert {"language": "PT-BR", "name": "Portuguese (Brazilian)", "supports_formality": False} in (
        body
    )


def test_post_languages_with_an_empty_json_body_is_the_source_list():
    reply = run(v2_call("POST", "/v2/languages", b"", "application/json"))
    assert reply.status == 200
    assert len(body_json(reply)) == 100


def test_bad_language_list_type_is_400_in_deepl_shape():
    reply = run(v2_call("GET", "/v2/languages", query={"type": "both"}))
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == {"message": "'type' must be 'source' or 'target'."}


def test_post_languages_bad_json_is_400_in_deepl_shape():
    reply = run(v2_call("POST", "/v2/languages", b"{nope", "application/json"))
    assert reply.status == 400
    assert body_json(reply) == {
        "message": "We could not parse the JSON body of your request. The API expects a JSON "
        "payload, but what was sent was not valid JSON."
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_usage_reports_no_quota(method):
    reply = run(v2_call(method, "/v2/usage"))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == {"character_count": 0, "character_limit": 1_000_000_000_000}


def test_head_usage_has_no_body():
    reply = run(v2_call("HEAD", "/v2/usage"))
    assert (reply.status, reply.body) == (200, None)


def test_deepl_routes():
    assert DEEPL_ROUTES == [
        ("POST", "/v2/translate"),
        ("GET", "/v2/languages"),
        ("POST", "/v2/languages"),
        ("GET", "/v2/usage"),
        ("POST", "/v2/usage"),
    ]


@pytest.mark.parametrize(("method", "path"), DEEPL_ROUTES)
def test_every_deepl_route_refuses_a_request_without_key(method, path):
    # The pipeline lets keyless DeepL requests through to the handler (the key may be in the
    # body): every such handler must refuse them itself, before calling anything.
    ai = FakeAi(tagged)
    body = b"text=Hello&target_lang=DE"
    reply = run(
        v2_call(
            method, path, body, "application/x-www-form-urlencoded", {"authorization": ""}, ai=ai
        )
    )
    assert reply.status == 403
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == NO_KEY
    assert ai.calls == []


@pytest.mark.parametrize(("method", "path"), DEEPL_ROUTES)
def test_every_deepl_route_refuses_a_wrong_key(method, path):
    reply = run(v2_call(method, path, headers={"authorization": "DeepL-Auth-Key sk-guess"}))
    assert (reply.status, body_json(reply)) == (403, WRONG_KEY)
    assert "sk-guess" not in reply.body


@pytest.mark.parametrize(("method", "path"), DEEPL_ROUTES)
def test_every_deepl_route_refuses_when_no_keys_are_configured(method, path):
    reply = run(v2_call(method, path, vars={}))
    assert reply.status == 403
    assert list(body_json(reply)) == ["message"]
    assert body_json(reply)["message"].startswith("This server has no API keys configured")


def test_deepl_routes_serve_anonymous_when_allowed():
    call = v2_call(
        "GET", "/v2/usage", headers={"authorization": ""}, vars={"ALLOW_ANONYMOUS": "true"}
    )
    assert run(call).status == 200


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/v2/languages", {"auth_key": "sk-a", "type": "target"}),
        ("GET", "/v2/usage", {"auth_key": "sk-a"}),
        ("POST", "/v2/usage", {"token": "sk-a"}),
        ("GET", "/v2/languages", {"password": "sk-a"}),
    ],
)
def test_query_keys_on_the_new_routes(method, path, query):
    reply = run(v2_call(method, path, headers={"authorization": ""}, query=query))
    assert reply.status == 200


def test_auth_key_in_the_query_of_translate():
    call = deepl_call({"text": ["Hallo Welt"], "source_lang": "DE", "target_lang": "EN"})
    call.headers.pop("authorization")
    call.query = {"auth_key": "sk-a"}
    reply = run(call)
    assert reply.status == 200
    assert body_json(reply)["translations"][0]["text"] == "<de>Hallo Welt</en>"


@pytest.mark.parametrize(
    ("body", "content_type", "form"),
    [
        (
            b"auth_key=sk-a&text=Hallo+Welt&source_lang=DE&target_lang=EN",
            "application/x-www-form-urlencoded",
            None,
        ),
        ({"auth_key": "sk-a", **HALLO, "text": ["Hallo Welt"]}, "application/json", None),
        (json.dumps({"auth_key": " sk-a ", **HALLO}).encode(), None, None),  # sniffed as JSON
        (b"", "multipart/form-data; boundary=x", {"auth_key": "sk-a", **HALLO}),
    ],
)
def test_auth_key_in_the_body_of_translate(body, content_type, form):
    ai = FakeAi(tagged)
    call = deepl_call(
        body, content_type=content_type, headers={"authorization": ""}, ai=ai, form=form
    )
    reply = run(call)
    assert reply.status == 200
    assert body_json(reply) == {
        "translations": [{"detected_source_language": "DE", "text": "<de>Hallo Welt</en>"}]
    }
    assert "sk-a" not in json.dumps(ai.calls)  # the key is not sent on as a field


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/v2/languages", b"auth_key=sk-a&type=target", "application/x-www-form-urlencoded"),
        ("/v2/languages", b'{"auth_key": "sk-a", "type": "target"}', "application/json"),
        ("/v2/usage", b"auth_key=sk-a", "application/x-www-form-urlencoded"),
        ("/v2/usage", b'{"auth_key": "sk-a"}', "application/json"),
    ],
)
def test_auth_key_in_the_body_of_languages_and_usage(path, body, content_type):
    reply = run(v2_call("POST", path, body, content_type, {"authorization": ""}))
    assert reply.status == 200
    if path == "/v2/languages":
        assert len(body_json(reply)) == 105


@pytest.mark.parametrize(
    ("body", "content_type", "query"),
    [
        (b"auth_key=sk-guess&text=Hallo&target_lang=EN", "application/x-www-form-urlencoded", None),
        ({"auth_key": "sk-guess", **HALLO}, "application/json", None),
        (HALLO, "application/json", {"auth_key": "sk-guess"}),
    ],
)
def test_wrong_auth_key_is_403_in_deepl_shape_without_echo(body, content_type, query):
    ai = FakeAi(tagged)
    call = deepl_call(body, content_type=content_type, headers={"authorization": ""}, ai=ai)
    call.query = query or {}
    reply = run(call)
    assert reply.status == 403
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == WRONG_KEY
    assert "sk-guess" not in reply.body
    assert ai.calls == []


@pytest.mark.parametrize("auth_key", [12345, None, "", "  ", ["sk-a"]])
def test_auth_key_that_is_not_a_key_counts_as_none(auth_key):
    call = deepl_call(
        {"auth_key": auth_key, "text": ["Hi"], "target_lang": "DE"}, headers={"authorization": ""}
    )
    reply = run(call)
    assert (reply.status, body_json(reply)) == (403, NO_KEY)


def test_unreadable_body_without_key_is_403_not_400():
    # Only a caller with a good key learns anything about the body.
    keyless = run(deepl_call(b"{nope", headers={"authorization": ""}))
    assert (keyless.status, body_json(keyless)) == (403, NO_KEY)
    wrong = run(deepl_call(b"{nope", headers={"authorization": "Bearer sk-guess"}))
    assert (wrong.status, body_json(wrong)) == (403, WRONG_KEY)
    with_key = run(deepl_call(b"{nope"))
    assert with_key.status == 400
    assert body_json(with_key) == {
        "message": "We could not parse the JSON body of your request. The API expects a JSON "
        "payload, but what was sent was not valid JSON."
    }


def test_header_key_decides_over_the_body_auth_key():
    assert run(deepl_call({"auth_key": "sk-guess", **HALLO})).status == 200
    wrong_header = deepl_call(
        {"auth_key": "sk-a", **HALLO},
        headers={"authorization": "DeepL-Auth-Key sk-guess"},
    )
    assert (run(wrong_header).status, body_json(run(wrong_header))) == (403, WRONG_KEY)


def test_auth_key_is_not_a_deeplx_key():
    # DeepLX never had `auth_key`; /translate keeps its own forms (and its 401).
    reply = run(deeplx_call({"text": "Hi", "target_lang": "ZH"}, query={"auth_key": "sk-a"}))
    assert reply.status == 401
    body = run(deeplx_call({"auth_key": "sk-a", "text": "Hi", "target_lang": "ZH"}, query={}))
    assert body.status == 401


def test_check_deepl_is_the_pipeline_check_plus_the_body_field():
    settings = config.load({"API_KEYS": "sk-a,sk-b"})
    auth.check_deepl(settings, {}, {}, {"auth_key": "sk-b"})
    auth.check_deepl(settings, {}, {"auth_key": "sk-a"}, {})
    auth.check_deepl(settings, {"x-api-key": "sk-a"}, {}, {})
    with pytest.raises(ApiError) as caught:
        auth.check_deepl(settings, {}, {}, {"auth_key": "sk-c"})
    assert caught.value is auth.WRONG_KEY
    with pytest.raises(ApiError) as caught:
        auth.check_deepl(settings, {}, {}, {"key": "sk-a"})
    assert caught.value is auth.MISSING_KEY
    assert auth.presented_key({}, {"auth_key": "sk-a"}, True) is None  # DeepL routes only
    assert auth.presented_key({}, {"auth_key": "sk-a"}, True, deepl=True) == "sk-a"


# `show_billed_characters` and fields from the query, form or JSON body on any method.


@pytest.mark.parametrize("value", [True, "1", "true", "True"])
def test_billed_characters_are_the_source_texts_code_points(value):
    # DeepL bills the source text in Unicode code points, spaces included, even when nothing
    # needed translating; its libraries read the number from every translation.
    texts = ["Hallo Welt", "你好，世界", "🎉 Привет!", "", "Hi\nthere"]
    body = {
        "text": texts,
        "source_lang": "DE",
        "target_lang": "EN",
        "show_billed_characters": value,
    }
    reply = run(deepl_call(body))
    assert reply.status == 200
    assert [t["billed_characters"] for t in body_json(reply)["translations"]] == [10, 5, 9, 0, 8]


@pytest.mark.parametrize("value", [None, False, "0", "false"])
def test_billed_characters_only_when_asked(value):
    body = {"text": ["Hallo Welt"], "source_lang": "DE", "target_lang": "EN"}
    if value is not None:
        body["show_billed_characters"] = value
    reply = run(deepl_call(body))
    assert body_json(reply) == {
        "translations": [{"detected_source_language": "DE", "text": "<de>Hallo Welt</en>"}]
    }


def test_billed_characters_flag_must_be_boolean():
    reply = run(deepl_call({"text": ["Hi"], "target_lang": "DE", "show_billed_characters": "yes"}))
    assert (reply.status, body_json(reply)) == (
        400,
        {"message": "'show_billed_characters' must be true or false."},
    )


def test_deepl_python_target_languages_request_is_a_get_with_a_form_body():
    # `deepl.Translator.get_target_languages()` sends `GET /v2/languages` with `type=target` as
    # a urlencoded body, not in the query.
    call = v2_call("GET", "/v2/languages", b"type=target", "application/x-www-form-urlencoded")
    reply = run(call)
    assert reply.status == 200
    assert len(body_json(reply)) == 105


def test_get_languages_json_body():
    reply = run(v2_call("GET", "/v2/languages", {"type": "target"}, "application/json"))
    assert len(body_json(reply)) == 105


def test_body_field_wins_over_the_query():
    call = v2_call(
        "POST",
        "/v2/languages",
        b"type=source",
        "application/x-www-form-urlencoded",
        query={"type": "target"},
    )
    assert len(body_json(run(call))) == 100


def test_translate_fields_in_the_query_repeated_text_included():
    query = Form(
        {"text": "Hallo Welt", "source_lang": "DE", "target_lang": "EN"},
        {"text": ["Hallo Welt", "Guten Tag"]},
    )
    call = deepl_call(b"", content_type=None)
    call.query = query
    reply = run(call)
    assert reply.status == 200
    assert body_json(reply) == {
        "translations": [
            {"detected_source_language": "DE", "text": "<de>Hallo Welt</en>"},
            {"detected_source_language": "DE", "text": "<de>Guten Tag</en>"},
        ]
    }


def test_get_body_over_the_limit_is_413():
    raw = b"type=target&pad=" + b"x" * (129 * 1024)
    call = v2_call("GET", "/v2/languages", raw, "application/x-www-form-urlencoded")
    call.headers["content-length"] = str(len(raw))
    reply = run(call)
    assert reply.status == 413
    assert body_json(reply) == {
        "message": "The request body is larger than this endpoint accepts (128 KB)."
    }


def test_empty_translate_body_names_the_missing_field():
    reply = run(deepl_call(b"", content_type="application/json"))
    assert (reply.status, body_json(reply)) == (
        400,
        {"message": "Missing required parameter: 'text'."},
    )


def test_deepl_python_translate_request():
    # What `deepl.Translator.translate_text(["Hallo Welt", "Guten Morgen"], target_lang="EN-US")`
    # sends (deepl 1.32).
    body = {"target_lang": "EN-US", "text": ["Hallo Welt", "Guten Morgen"]}
    reply = run(deepl_call({**body, "show_billed_characters": True}))
    assert body_json(reply) == {
        "translations": [
            {
                "detected_source_language": "DE",
                "text": "<de>Hallo Welt</en>",
                "billed_characters": 10,
            },
            {
                "detected_source_language": "DE",
                "text": "<de>Guten Morgen</en>",
                "billed_characters": 12,
            },
        ]
    }
