"""The playground at `/` in real chromium: each panel end to end against the Worker and the
emulator, the key's handling, errors in words, keyboard use and an axe-core audit."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.audio_samples import wav_tone
from tests.http.conftest import REPO_ROOT

pytestmark = pytest.mark.emulator

PUBLIC = REPO_ROOT / "public"
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PANELS = ("models", "chat", "images", "translate", "audio")
BUDGET = 40 * 1024  # the whole page, every file in public/: no build step, nothing fetched


def enter_key(page, key: str) -> None:
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")


def open_panel(page, name: str) -> None:
    page.click(f"#tab-{name}")


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("'axe' in window"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def echo(message: str) -> str:
    """The emulator's answer to a one-message chat."""
    return f"Echo: {message} — this is a deterministic answer from the Workers AI emulator."


def test_the_page_is_static_assets_and_small(base_url):
    with urllib.request.urlopen(base_url + "/") as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.read() == (PUBLIC / "index.html").read_bytes()
    with urllib.request.urlopen(base_url + "/js/app.js") as response:
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert sum(f.stat().st_size for f in PUBLIC.rglob("*") if f.is_file()) < BUDGET


@pytest.mark.parametrize(
    ("path", "status"),
    [("/health", 200), ("/js/", 404), ("/nothing.html", 404), ("/..%2fwrangler.toml", 404)],
)
def test_other_paths_go_to_the_worker(base_url, path, status):
    """Only files in public/ are assets; the rest, a way out of the folder too, is the Worker's."""
    try:
        response = urllib.request.urlopen(base_url + path)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        assert response.status == status
        assert response.headers["content-type"] == "application/json"
        assert list(json.loads(response.read())) == ["status" if status == 200 else "error"]


def test_models_grouped_by_task_with_aliases_and_pickers_filled(page, api_key, shoot):
    enter_key(page, api_key)
    page.wait_for_selector("#model-list table")
    headings = page.locator("#model-list h3").all_text_contents()
    assert [h.split(" (")[0] for h in headings] == [
        "Chat",
        "Embeddings",
        "Images",
        "Speech to text",
        "Text to speech",
        "Translation",
        "Moderation",
    ]
    row = page.locator("#model-list tr", has_text="@cf/meta/llama-3.1-8b-instruct-fast")
    assert "gpt-4o-mini" in row.locator("td").nth(1).text_content()
    chat_models = page.locator("#chat-model option").all_text_contents()
    assert "gpt-4o-mini" in chat_models and "@cf/qwen/qwq-32b" in chat_models
    assert "dall-e-3" not in chat_models
    assert "dall-e-3" in page.locator("#images-model option").all_text_contents()
    shoot(page, "models")


def test_chat_streams_incrementally_with_usage(page, api_key, emulator_control, shoot):
    enter_key(page, api_key)
    open_panel(page, "chat")
    message = "Tell me about the lighthouse by the sea"
    emulator_control.fault(model="*", token_delay_ms=150)
    page.fill("#chat-input", message)
    page.press("#chat-input", "Control+Enter")
    answer = page.locator("#chat-log .assistant .text")
    seen = []
    deadline = time.monotonic() + 30
    while "Tokens" not in page.locator("#chat .status").text_content():
        assert time.monotonic() < deadline, "the stream did not finish"
        text = answer.text_content()
        if text and text not in seen:
            seen.append(text)
        time.sleep(0.03)
    final = answer.text_content()
    assert final == echo(message)
    partial = [s for s in seen if s != final]
    assert len(partial) >= 2, seen
    assert all(final.startswith(s) for s in partial)
    assert page.locator("#chat .status").text_content().startswith("Done. Tokens: ")
    assert page.is_disabled("#chat-stop")
    shoot(page, "chat")


def test_chat_stop_aborts_the_stream(page, api_key, emulator_control):
    enter_key(page, api_key)
    open_panel(page, "chat")
    emulator_control.fault(model="*", token_delay_ms=300)
    page.fill("#chat-input", "one two three four five six seven eight nine ten")
    page.click("#chat button[type=submit]")
    answer = page.locator("#chat-log .assistant .text")
    page.wait_for_function(
        "document.querySelector('#chat-log .assistant .text').textContent.length > 0"
    )
    page.click("#chat-stop")
    page.wait_for_selector("#chat .status:text-is('Stopped.')")
    stopped = answer.text_content()
    assert emulator_control.wait_abandoned()
    time.sleep(0.8)
    assert answer.text_content() == stopped
    assert stopped != echo("one two three four five six seven eight nine ten")
    assert page.is_disabled("#chat-stop") and page.is_enabled("#chat button[type=submit]")
    assert page.is_hidden("#chat .error")


def test_chat_reasoning_is_shown_apart_and_collapsed(page, api_key):
    enter_key(page, api_key)
    page.wait_for_selector("#model-list table")
    open_panel(page, "chat")
    page.select_option("#chat-model", "@cf/qwen/qwq-32b")
    page.fill("#chat-input", "Why is the sky blue")
    page.click("#chat button[type=submit]")
    page.wait_for_selector("#chat .status:has-text('Tokens')")
    reasoning = page.locator("#chat-log .assistant details.reasoning")
    assert reasoning.is_visible()
    assert reasoning.get_attribute("open") is None
    assert reasoning.locator("summary").text_content() == "Reasoning"
    thought = reasoning.locator("div").text_content()
    assert thought
    assert page.locator("#chat-log .assistant .text").text_content() == echo("Why is the sky blue")
    reasoning.locator("summary").click()
    assert not serious_violations(page)


def curl_json(page, panel: str) -> dict:
    """The JSON body of a panel's curl command, unquoted as a shell would."""
    curl = page.locator(f"#{panel} .curl code").text_content()
    return json.loads(curl.split("-d '", 1)[1].rsplit("'", 1)[0].replace("'\\''", "'"))


def test_chat_curl_matches_the_request_with_the_key_masked(page, api_key, base_url):
    enter_key(page, api_key)
    open_panel(page, "chat")
    page.fill("#chat-input", "It's me")
    page.click("#chat details.curl summary")
    curl = page.locator("#chat .curl code").text_content()
    assert curl.startswith(f"curl '{base_url}/v1/chat/completions'")
    assert f"Bearer {api_key[:4]}…" in curl and api_key not in curl
    sent = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "It's me"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert curl_json(page, "chat") == sent
    page.click("#chat button[type=submit]")
    page.wait_for_selector("#chat .status:has-text('Tokens')")
    assert curl_json(page, "chat") == sent  # what was sent, though the input is empty now
    page.fill("#chat-input", "And now?")
    assert curl_json(page, "chat")["messages"][1:] == [
        {"role": "user", "content": "It's me"},
        {"role": "assistant", "content": echo("It's me")},
        {"role": "user", "content": "And now?"},
    ]
    page.click("#chat-new")
    assert page.locator("#chat-log > *").count() == 0
    assert curl_json(page, "chat")["messages"][1:] == [{"role": "user", "content": "And now?"}]


def test_image_renders_with_a_download_link(page, api_key, shoot):
    enter_key(page, api_key)
    open_panel(page, "images")
    page.click("#images button[type=submit]")
    page.wait_for_selector("#images-result img[src^='blob:']")
    page.wait_for_function("document.querySelector('#images-result img').complete")
    assert page.evaluate("document.querySelector('#images-result img').naturalWidth") > 0
    link = page.locator("#images-result a")
    assert link.get_attribute("download") == "image.jpg"
    assert link.get_attribute("href").startswith("blob:")
    assert page.locator("#images-result img").get_attribute("alt") == (
        "Generated from the prompt: a lighthouse at dusk"
    )
    shoot(page, "images")


def test_translation_with_detected_and_explicit_source(page, api_key, shoot):
    enter_key(page, api_key)
    open_panel(page, "translate")
    page.select_option("#translate-target", "FR")
    page.click("#translate button[type=submit]")
    page.wait_for_selector("#translate .status:has-text('Done')")
    assert page.locator("#translate-result").text_content() == "[fr] Hello world"
    assert page.locator("#translate .status").text_content() == "Done. Detected language: English."
    shoot(page, "translate")
    page.select_option("#translate-source", "DE")
    page.fill("#translate-text", "Guten Morgen")
    page.click("#translate button[type=submit]")
    page.wait_for_selector("#translate .status:text-is('Done.')")
    assert page.locator("#translate-result").text_content() == "[fr] Guten Morgen"


def test_transcription_of_an_uploaded_file(page, api_key, tmp_path):
    enter_key(page, api_key)
    open_panel(page, "audio")
    sample = tmp_path / "tone.wav"
    sample.write_bytes(wav_tone(1.5))
    page.set_input_files("#stt-file", str(sample))
    assert "-F 'file=@tone.wav'" in page.locator("#stt .curl code").text_content()
    page.click("#stt button[type=submit]")
    page.wait_for_selector("#stt .status:text-is('Done.')")
    assert page.locator("#stt-result").text_content() == "Transcribed 1.50 seconds of audio."


def test_transcription_of_a_microphone_recording(page, api_key):
    enter_key(page, api_key)
    open_panel(page, "audio")
    page.click("#stt-record")
    page.wait_for_selector("#stt-record[aria-pressed=true]")  # once the microphone is open
    page.wait_for_timeout(1200)
    page.click("#stt-record")
    page.wait_for_selector("#stt .status:text-is('Done.')")
    assert page.locator("#stt-result").text_content().startswith("Transcribed ")
    assert page.get_attribute("#stt-record", "aria-pressed") == "false"


def test_speech_plays_in_an_audio_element(page, api_key, shoot):
    enter_key(page, api_key)
    open_panel(page, "audio")
    page.click("#tts button[type=submit]")
    page.wait_for_selector("#tts-audio[src^='blob:']")
    page.wait_for_function("document.getElementById('tts-audio').readyState >= 1")
    assert page.evaluate("document.getElementById('tts-audio').duration") > 0
    shoot(page, "audio")


def test_a_wrong_key_is_explained_in_every_panel(page):
    page.expect_console_error(r"status of 401")
    enter_key(page, "sk-wrong")
    page.wait_for_selector("#models .error:not([hidden])")
    message = "The API key was not accepted. Check the key at the top of the page: it must be one of the Worker's API_KEYS."
    assert page.locator("#models .error").text_content() == message
    for panel in ("chat", "images", "translate"):
        open_panel(page, panel)
        if panel == "chat":
            page.fill("#chat-input", "hi")
        page.click(f"#{panel} button[type=submit]")
        page.wait_for_selector(f"#{panel} .error:not([hidden])")
        assert page.locator(f"#{panel} .error").text_content() == message
    assert "sk-wrong" not in page.url
    for scheme in ("light", "dark"):  # the error box is readable too
        page.emulate_media(color_scheme=scheme)
        assert not serious_violations(page), scheme


def test_chat_failing_midstream_keeps_the_partial_answer(page, api_key, emulator_control):
    enter_key(page, api_key)
    open_panel(page, "chat")
    # Paced, so the events before the cut reach the page before the cut does.
    emulator_control.fault(model="*", token_delay_ms=100, abort_after_events=4)
    page.fill("#chat-input", "one two three four five six seven eight")
    page.click("#chat button[type=submit]")
    page.wait_for_selector("#chat .error:not([hidden])")
    assert (
        page.locator("#chat .error")
        .text_content()
        .startswith("The model failed partway through its answer (")
    )
    partial = page.locator("#chat-log .assistant .text").text_content()
    assert partial == "Echo: one two three"
    assert page.is_enabled("#chat button[type=submit]")


def test_busy_failing_and_unreachable_are_explained(page, api_key, emulator_control):
    page.expect_console_error(r"status of 429")
    page.expect_console_error(r"status of 502")
    page.expect_console_error(r"ERR_FAILED|ERR_INTERNET_DISCONNECTED")
    enter_key(page, api_key)
    open_panel(page, "images")
    emulator_control.fault(model="*", code=3040)
    page.click("#images button[type=submit]")
    page.wait_for_selector("#images .error:not([hidden])")
    assert page.locator("#images .error").text_content() == (
        "Workers AI is busy (too many requests). Wait a few seconds and try again."
    )
    emulator_control.fault(model="*", code=3043)  # an internal error: 502 without details
    page.click("#images button[type=submit]")
    page.wait_for_selector("#images .error:has-text('HTTP 502')")
    assert page.locator("#images .error").text_content() == (
        "The model or the Worker failed (HTTP 502). This is usually temporary: try again in a moment."
    )
    page.route("**/v1/images/generations", lambda route: route.abort())
    page.click("#images button[type=submit]")
    page.wait_for_selector("#images .error:has-text('Could not reach')")
    assert page.locator("#images .error").text_content() == (
        "Could not reach the Worker. Check your connection, or whether the Worker is running."
    )


def test_the_key_is_stored_only_when_remembered(page, api_key):
    enter_key(page, api_key)
    stored = "localStorage.getItem('playground.apiKey')"
    assert page.evaluate(stored) is None
    page.check("#remember")
    assert page.evaluate(stored) == api_key
    page.reload()
    assert page.input_value("#api-key") == api_key
    assert page.is_checked("#remember")
    page.wait_for_selector("#model-list table")  # a remembered key loads the models at once
    page.uncheck("#remember")
    assert page.evaluate(stored) is None
    assert api_key not in page.url


def test_tabs_work_from_the_keyboard_with_a_visible_focus(page):
    page.focus("#tab-models")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-chat"
    assert page.is_visible("#chat") and page.is_hidden("#models")
    assert page.url.endswith("#chat")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-audio"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "audio"  # the panel, then its controls


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_serious_violations(page, api_key, scheme, width):
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": width, "height": 800})
    enter_key(page, api_key)
    page.wait_for_selector("#model-list table")
    for panel in PANELS:
        open_panel(page, panel)
        violations = serious_violations(page)
        assert not violations, f"{panel}, {scheme}, {width}px: {violations}"
