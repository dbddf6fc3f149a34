"""Text to speech, pure: an OpenAI `/v1/audio/speech` body -> Workers AI inputs for melotts or
Deepgram aura, and the model's answer -> audio bytes.

melotts takes `{prompt, lang}` and answers JSON `{audio: base64 MP3}`; aura takes `{text,
speaker, encoding, container, sample_rate}` and answers raw audio (docs/workers-ai.md §7). Which
voices and formats each model has is catalog data (`Model.params`).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import validate
from core.errors import ApiError, invalid
from mapping.catalog import Model

MAX_INPUT = 4096  # characters, as OpenAI
RESPONSE_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")

# OpenAI response_format -> (content type, Deepgram aura output options). `pcm` is OpenAI's raw
# 24 kHz 16-bit little-endian mono, which is Deepgram's linear16 without a container.
AURA_OUTPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "mp3": ("audio/mpeg", {}),  # aura's default encoding
    "opus": ("audio/ogg", {"encoding": "opus", "container": "ogg"}),
    "aac": ("audio/aac", {"encoding": "aac"}),
    "flac": ("audio/flac", {"encoding": "flac"}),
    "wav": ("audio/wav", {"encoding": "linear16", "container": "wav", "sample_rate": 24000}),
    "pcm": ("audio/pcm", {"encoding": "linear16", "container": "none", "sample_rate": 24000}),
}
MP3_TYPE = "audio/mpeg"


@dataclass(frozen=True)
class Speech:
    """What to run: the model inputs and the content type of the audio they produce."""

    inputs: dict[str, Any]
    content_type: str


def _kind(model: Model) -> str:
    # Ids outside the catalog: Deepgram's are aura-shaped, anything else is taken as melotts.
    return model.params.get("tts") or ("aura" if "/deepgram/" in model.id else "melotts")


def _unsupported(message: str, param: str) -> ApiError:
    return invalid(message, param, "unsupported_value")


def _input(body: Mapping[str, Any]) -> str:
    text = validate.required_str(body, "input")
    if len(text) > MAX_INPUT:
        raise invalid(
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{MAX_INPUT}, but got a string with length {len(text)} instead.",
            "input",
            "string_above_max_length",
        )
    return text


def _speed(body: Mapping[str, Any], model: Model) -> None:
    speed = validate.optional_number(body, "speed", 0.25, 4.0, 1.0)
    if speed != 1.0:
        raise _unsupported(
            f"`{model.id}` cannot change the speaking speed; send 'speed' 1.0 or leave it out.",
            "speed",
        )


def _voice_choices(model: Model) -> list[str]:
    return [*model.params.get("voices", {}), *model.params.get("speakers", ())]


def _aura_speaker(voice: str | None, model: Model) -> str | None:
    if voice is None:
        return None  # the model's default speaker
    name = voice.strip().lower()
    mapped = model.params.get("voices", {}).get(name)
    if mapped:
        return mapped
    speakers = model.params.get("speakers", ())
    if name in speakers or not speakers:
        return name  # a native speaker name (or an uncatalogued model: let it decide)
    listed = ", ".join(f"'{v}'" for v in _voice_choices(model))
    raise _unsupported(
        f"Invalid value for 'voice': '{voice}'. `{model.id}` supports: {listed}.", "voice"
    )


def _melotts_language(voice: str | None, model: Model) -> str:
    languages = model.params.get("languages", ())
    if voice is None:
        return "en"
    name = voice.strip().lower()
    if name in languages:
        return name  # melotts has one voice per language: `voice` may name the language
    if name in model.params.get("openai_voices", ()) or not languages:
        return "en"
    listed = ", ".join(f"'{v}'" for v in (*model.params.get("openai_voices", ()), *languages))
    raise _unsupported(
        f"Invalid value for 'voice': '{voice}'. `{model.id}` has one voice per language; use an "
        f"OpenAI voice name (English) or a language: {listed}.",
        "voice",
    )


def to_upstream(body: Mapping[str, Any], model: Model) -> Speech:
    """The inputs for `model`, or a 400 for what it cannot produce."""
    text = _input(body)
    voice = validate.optional_str(body, "voice")
    response_format = validate.one_of(body, "response_format", RESPONSE_FORMATS, "mp3")
    _speed(body, model)
    if validate.one_of(body, "stream_format", ("audio", "sse"), "audio") == "sse":
        raise _unsupported("Only 'stream_format' 'audio' is supported.", "stream_format")
    kind = _kind(model)
    formats = model.params.get("formats") or (RESPONSE_FORMATS if kind == "aura" else ("mp3",))
    if response_format not in formats:
        listed = ", ".join(f"'{f}'" for f in formats)
        raise _unsupported(
            f"`{model.id}` cannot produce '{response_format}' audio; it supports: {listed}.",
            "response_format",
        )
    if kind == "melotts":
        inputs = {"prompt": text, "lang": _melotts_language(voice, model)}
        return Speech(inputs, MP3_TYPE)
    content_type, options = AURA_OUTPUTS[response_format]
    inputs = {"text": text, **options}
    speaker = _aura_speaker(voice, model)
    if speaker:
        inputs["speaker"] = speaker
    return Speech(inputs, content_type)


def decoded_audio(output: Any) -> bytes | None:
    """The audio in a JSON answer (`{audio: base64}`) or bytes; None for anything else."""
    if isinstance(output, (bytes, bytearray)):
        return bytes(output)
    if isinstance(output, Mapping) and isinstance(output.get("audio"), str):
        try:
            return binascii.a2b_base64(output["audio"], strict_mode=True)
        except (binascii.Error, ValueError):
            return None
    return None
