"""Images, speech recognition, text to speech and translation."""

from __future__ import annotations

import base64
import io
import json
import uuid
import wave

import pytest
from PIL import Image

from emulator import audio
from tests.emulator.conftest import error_body

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
WHISPER = "@cf/openai/whisper"
TURBO = "@cf/openai/whisper-large-v3-turbo"
M2M = "@cf/meta/m2m100-1.2b"


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x01" * int(seconds * rate))
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


# -- images -----------------------------------------------------------------------------------


def test_sdxl_png_of_requested_size(run):
    reply = run(SDXL, {"prompt": "a red fox", "width": 512, "height": 256, "seed": 7})
    assert reply.status == 200 and reply.content_type == "image/png"
    assert reply.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(reply.body)).size == (512, 256)
    again = run(SDXL, {"prompt": "a red fox", "width": 512, "height": 256, "seed": 7}).body
    assert again == reply.body
    other = run(SDXL, {"prompt": "a blue fox", "width": 512, "height": 256, "seed": 7}).body
    assert other != reply.body


def test_sd15_default_size_and_step_limit(run):
    model = "@cf/lykon/dreamshaper-8-lcm"
    assert Image.open(io.BytesIO(run(model, {"prompt": "x"}).body)).size == (512, 512)
    reply = run(model, {"prompt": "x", "num_steps": 21})
    assert reply.json() == error_body(
        5006, "Bad input: Error: maximum at '/num_steps' not met, 21 > 20"
    )


def test_img2img_needs_an_image(run):
    model = "@cf/runwayml/stable-diffusion-v1-5-img2img"
    assert run(model, {"prompt": "x"}).json()["errors"][0]["code"] == 3010
    reply = run(model, {"prompt": "x", "image": list(png_bytes())})
    assert reply.content_type == "image/png"
    b64 = base64.b64encode(png_bytes()).decode()
    assert run(model, {"prompt": "x", "image_b64": b64}).status == 200
    inpaint = "@cf/runwayml/stable-diffusion-v1-5-inpainting"
    assert run(inpaint, {"prompt": "x", "image": list(png_bytes())}).status == 400
    both = {"prompt": "x", "image": list(png_bytes()), "mask": list(png_bytes())}
    assert run(inpaint, both).content_type == "image/png"


def test_phoenix_jpeg(run):
    reply = run("@cf/leonardo/phoenix-1.0", {"prompt": "x", "width": 320, "height": 240})
    assert reply.content_type == "image/jpeg" and reply.body[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(reply.body)).size == (320, 240)


def test_flux_schnell_json_and_strict_schema(run):
    model = "@cf/black-forest-labs/flux-1-schnell"
    result = run(model, {"prompt": "x", "steps": 4}).json()["result"]
    assert Image.open(io.BytesIO(base64.b64decode(result["image"]))).format == "JPEG"
    assert run(model, {"prompt": "x", "seed": 1}).json() == error_body(
        5006, "Bad input: Error: Additional or unevaluated properties '/seed' at '/' not allowed"
    )
    assert run(model, {"prompt": "x", "steps": 9}).status == 400


def test_lucid_origin_json(run):
    result = run("@cf/leonardo/lucid-origin", {"prompt": "x", "width": 64, "height": 64}).json()
    assert Image.open(io.BytesIO(base64.b64decode(result["result"]["image"]))).size == (64, 64)


def multipart(fields: dict[str, str | bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        if isinstance(value, bytes):
            head = f'Content-Disposition: form-data; name="{name}"; filename="{name}.png"\r\n'
            head += "Content-Type: image/png\r\n"
            parts.append(f"--{boundary}\r\n{head}\r\n".encode() + value + b"\r\n")
        else:
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
            parts.append(f"--{boundary}\r\n{head}\r\n{value}\r\n".encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_flux2_multipart_only(run):
    model = "@cf/black-forest-labs/flux-2-klein-4b"
    body, ctype = multipart(
        {"prompt": "a cat", "width": "256", "height": "320", "input_image_0": png_bytes()}
    )
    result = run(model, body=body, content_type=ctype).json()["result"]
    assert Image.open(io.BytesIO(base64.b64decode(result["image"]))).size == (256, 320)
    assert run(model, {"prompt": "a cat"}).json() == error_body(
        5006, "Bad input: Error: required properties at '/' are 'multipart'"
    )
    body, ctype = multipart({"prompt": "nsfw cat"})
    assert run(model, body=body, content_type=ctype).json() == error_body(
        8007, "Input prompt contains NSFW content."
    )


def test_image_safety_filter(run):
    reply = run(SDXL, {"prompt": "nsfw scene"})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 3030


# -- speech recognition ---------------------------------------------------------------------


def test_whisper_raw_wav_body(run):
    reply = run(WHISPER, body=wav_bytes(2.5), content_type="audio/wav")
    result = reply.json()["result"]
    assert result["text"] == "Transcribed 2.50 seconds of audio."
    assert result["word_count"] == len(result["words"]) == 5
    assert result["words"][0]["start"] == 0 and result["words"][-1]["end"] == 2.5
    assert all(w["start"] < w["end"] for w in result["words"])
    assert result["vtt"].startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n")


def test_whisper_uint8_array_and_mp3(run):
    result = run("@cf/openai/whisper-tiny-en", {"audio": list(wav_bytes(1.0))}).json()["result"]
    assert result["text"] == "Transcribed 1.00 seconds of audio."
    mp3 = audio.mp3_silence(3.0)
    text = run(WHISPER, body=mp3, content_type="audio/mpeg").json()["result"]["text"]
    assert text.startswith("Transcribed 3.0")


def test_whisper_rejects_non_audio(run):
    reply = run(WHISPER, body=b"this is not audio", content_type="audio/mpeg")
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 3010


def test_turbo_base64_segments_and_translate(run):
    b64 = base64.b64encode(wav_bytes(1.5)).decode()
    result = run(TURBO, {"audio": b64, "language": "fr"}).json()["result"]
    assert result["transcription_info"]["duration"] == 1.5
    assert result["transcription_info"]["language"] == "fr"
    assert result["segments"][0]["words"] and result["vtt"].startswith("WEBVTT")
    translated = run(TURBO, {"audio": b64, "task": "translate"}).json()["result"]["text"]
    assert translated.startswith("Translated 1.50 seconds") and "English" in translated
    assert run(TURBO, {"audio": [1, 2, 3]}).json() == error_body(
        5006, "Bad input: Error: Type mismatch of '/audio', 'array' not in 'string,binary'"
    )


def test_turbo_raw_body_with_inputs_in_the_query(run, control):
    wav = wav_bytes(1.5)
    query = "?task=translate&language=fr&initial_prompt=123&prefix=true"
    reply = run(TURBO, body=wav, content_type="audio/wav", query=query)
    result = reply.json()["result"]
    assert result["text"] == "Translated 1.50 seconds of audio into English."
    assert result["transcription_info"]["language"] == "fr"
    # String-typed inputs stay strings even when they read as JSON literals.
    spoken = run(TURBO, body=wav, content_type="audio/wav", query="?initial_prompt=123")
    assert spoken.status == 200
    assert spoken.json()["result"]["text"] == "Transcribed 1.50 seconds of audio."
    # Typed inputs still parse: a number where a boolean belongs is refused.
    bad = run(TURBO, body=wav, content_type="audio/wav", query="?vad_filter=3")
    assert bad.status == 400
    [first, *_] = control.requests()
    assert first["query"] == {
        "task": "translate",
        "language": "fr",
        "initial_prompt": "123",
        "prefix": "true",
    }


# -- text to speech -------------------------------------------------------------------------


def test_melotts_json_mp3(run):
    result = run("@cf/myshell-ai/melotts", {"prompt": "hello", "lang": "en"}).json()["result"]
    assert base64.b64decode(result["audio"])[:2] == b"\xff\xfb"


def test_aura_mp3_grows_with_text(run):
    short = run("@cf/deepgram/aura-1", {"text": "hi there, this is short"})
    long = run("@cf/deepgram/aura-1", {"text": "hi there, this is much longer " * 5})
    assert short.content_type == "audio/mpeg" and short.body[:2] == b"\xff\xfb"
    assert len(long.body) > len(short.body)
    assert audio.sniff(short.body) == "mp3" and audio.duration(short.body, "mp3") > 1


@pytest.mark.parametrize(
    ("encoding", "container", "content_type", "magic"),
    [
        ("linear16", "wav", "audio/wav", b"RIFF"),
        ("opus", "ogg", "audio/ogg", b"OggS"),
        ("flac", "none", "audio/flac", b"fLaC"),
        ("aac", "none", "audio/aac", b"\xff\xf1"),
        ("mulaw", "wav", "audio/wav", b"RIFF"),
    ],
)
def test_aura_encodings(run, encoding, container, content_type, magic):
    inputs = {"text": "hola", "speaker": "luna", "encoding": encoding, "container": container}
    reply = run("@cf/deepgram/aura-2-en", inputs)
    assert reply.content_type == content_type and reply.body.startswith(magic)
    if encoding == "linear16":
        with wave.open(io.BytesIO(reply.body)) as wav:
            assert wav.getnframes() > 0


def test_aura_speaker_enum(run):
    reply = run("@cf/deepgram/aura-2-es", {"text": "hola", "speaker": "luna"})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 5006


# -- translation ----------------------------------------------------------------------------


def test_m2m100_preserves_text(run):
    text = "Grüße 👋\n  second line\t— ok"
    result = run(M2M, {"text": text, "source_lang": "english", "target_lang": "french"}).json()
    assert result["result"] == {"translated_text": f"[fr] {text}"}
    assert (
        run(M2M, {"text": "x", "target_lang": "de"}).json()["result"]["translated_text"] == "[de] x"
    )


def test_m2m100_errors(run):
    assert run(M2M, {"text": "x"}).json() == error_body(
        5006, "Bad input: Error: required properties at '/' are 'target_lang'"
    )
    assert run(M2M, {"text": "", "target_lang": "fr"}).status == 400
    reply = run(M2M, {"text": "x", "target_lang": "klingon"})
    assert reply.json()["errors"][0]["code"] == 3010


def test_indictrans(run):
    inputs = {"text": ["a", "b"], "target_language": "hin_Deva"}
    result = run("@cf/ai4bharat/indictrans2-en-indic-1B", inputs).json()["result"]
    assert result == {"translations": ["[hin_Deva] a", "[hin_Deva] b"]}


def test_json_body_must_be_an_object(run):
    reply = run(M2M, body=json.dumps([1]).encode())
    assert reply.json() == error_body(
        5006, "Bad input: Error: Type mismatch of '/', 'array' not in 'object'"
    )


def test_aura_2_en_refuses_selene(run):
    # aura-2-en.json's speaker enum (cloudflare-docs @ 14f349e2) has no "selene".
    reply = run("@cf/deepgram/aura-2-en", {"text": "hi", "speaker": "selene"})
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 5006


def test_turbo_stream_input_can_be_rejected(run, control):
    wav = wav_bytes(1.0)
    assert run(TURBO, body=wav, content_type="audio/wav").status == 200
    control.quirks(turbo_stream_input="reject")
    reply = run(TURBO, body=wav, content_type="audio/wav")
    assert reply.status == 400 and reply.json()["errors"][0]["code"] == 5006
    b64 = base64.b64encode(wav).decode()
    assert run(TURBO, {"audio": b64}).status == 200


@pytest.mark.parametrize("quirk", ["honour", "ignore"])
def test_turbo_translate_may_answer_in_the_spoken_language(run, control, quirk):
    control.quirks(turbo_translate=quirk, spoken_language="fr")
    b64 = base64.b64encode(wav_bytes(1.0)).decode()
    result = run(TURBO, {"audio": b64, "task": "translate"}).json()["result"]
    assert result["transcription_info"]["language"] == "fr"
    english = result["text"].startswith("Translated")
    assert english is (quirk == "honour")
