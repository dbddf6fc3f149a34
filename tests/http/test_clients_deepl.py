"""DeepL's official clients against the Worker: the Python `deepl` library and `deepl-node`
(versions pinned in pyproject.toml and package.json), with `server_url` = the Worker.

They are what DeepL users run, and each is stricter than a hand-written request: `deepl`
always sends `show_billed_characters` and fails without `billed_characters`, and sends
`GET /v2/languages` with a form body for the target list; `deepl-node` sends forms and reads
languages from the query.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import deepl
import pytest

from tests.http.conftest import NODE

SCRIPT = Path(__file__).with_name("clients") / "deepl_node.mjs"
UNMETERED = 1_000_000_000_000  # /v2/usage's limit: no quota is kept


@pytest.fixture
def translator(base_url, api_key) -> deepl.Translator:
    return deepl.Translator(api_key, server_url=base_url)


def test_deepl_python_translates_one_text(translator):
    result = translator.translate_text("Hallo Welt", target_lang="EN-US")
    assert (result.text, result.detected_source_lang, result.billed_characters) == (
        "[en] Hallo Welt",
        "DE",
        10,
    )


def test_deepl_python_translates_a_batch_in_order(translator):
    results = translator.translate_text(
        ["Hallo Welt", "Guten Morgen", "¿Qué tal?"], source_lang=None, target_lang="EN-GB"
    )
    assert [(r.text, r.detected_source_lang, r.billed_characters) for r in results] == [
        ("[en] Hallo Welt", "DE", 10),
        ("[en] Guten Morgen", "DE", 12),
        ("[en] ¿Qué tal?", "ES", 9),
    ]


def test_deepl_python_usage(translator):
    usage = translator.get_usage()
    assert (usage.character.count, usage.character.limit) == (0, UNMETERED)
    assert usage.any_limit_reached is False


def test_deepl_python_source_languages(translator):
    languages = translator.get_source_languages()
    assert len(languages) == 100
    german = next(language for language in languages if language.code == "DE")
    assert (german.name, german.supports_formality) == ("German", None)


def test_deepl_python_target_languages(translator):
    # Sent as GET with `type=target` in a form body.
    languages = translator.get_target_languages()
    assert len(languages) == 105
    codes = {language.code for language in languages}
    assert {"EN-US", "EN-GB", "PT-BR", "ZH-HANT"} <= codes
    assert "EN" not in codes
    assert all(language.supports_formality is False for language in languages)


def test_deepl_python_wrong_key(base_url):
    with pytest.raises(deepl.AuthorizationException):
        deepl.Translator("sk-guess", server_url=base_url).get_usage()


def test_deepl_node(base_url, api_key):
    completed = subprocess.run(
        [str(NODE), str(SCRIPT), base_url, api_key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["single"] == {
        "text": "[en] Hallo Welt",
        "detectedSourceLang": "de",
        "billedCharacters": 10,
    }
    assert seen["batch"] == [
        {"text": "[en] Hallo Welt", "detectedSourceLang": "de", "billedCharacters": 10},
        {"text": "[en] Guten Morgen", "detectedSourceLang": "de", "billedCharacters": 12},
    ]
    assert seen["usage"] == {"count": 0, "limit": UNMETERED, "anyLimitReached": False}
    assert len(seen["sources"]) == 100
    assert {"code": "de", "name": "German"} in seen["sources"]
    assert len(seen["targets"]) == 105
    assert {"code": "en-US", "name": "English (American)", "supportsFormality": False} in (
        seen["targets"]
    )
