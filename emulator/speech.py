"""Speech models: whisper transcription (`{text, word_count, words, vtt}`) and text to speech.

Transcripts are derived from the audio itself: "Transcribed N.NN seconds of audio." where N is
the duration read from the container (exact for WAV/MP3/FLAC/Ogg). TTS answers silent but valid
audio whose length grows with the text: melotts JSON `{audio: base64 MP3}`, aura raw bytes.
"""

from __future__ import annotations

import base64
import binascii

from emulator import audio, schema
from emulator.calls import Binary, Call, Json, Result
from emulator.errors import AiError, invalid_input

SECONDS_PER_CHARACTER = 0.06  # roughly 15 characters per second of speech
TURBO_SCHEMA = {
    "type": "object",
    "required": ["audio"],
    "properties": {
        "audio": {"type": ["string", "binary"]},
        "task": {"enum": ["transcribe", "translate"]},
        "language": {"type": "string"},
        "vad_filter": {"type": ["boolean", "string"]},
        "initial_prompt": {"type": "string"},
        "prefix": {"type": "string"},
        "beam_size": {"type": "integer", "minimum": 1},
        "condition_on_previous_text": {"type": "boolean"},
        "no_speech_threshold": {"type": "number"},
        "compression_ratio_threshold": {"type": "number"},
        "log_prob_threshold": {"type": "number"},
        "hallucination_silence_threshold": {"type": "number"},
    },
}
WHISPER_SCHEMA = {
    "type": "object",
    "required": ["audio"],
    "properties": {"audio": {"type": ["array", "binary"]}},
}


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _audio_bytes(call: Call) -> bytes:
    """The uploaded audio: the raw body, a uint8 array, or base64 (v3-turbo)."""
    value = call.inputs.get("audio")
    if isinstance(value, bytes):
        return value
    if isinstance(value, list):
        try:
            return bytes(value)
        except (TypeError, ValueError):
            raise AiError(
                5006, "Bad input: Error: Type mismatch of '/audio', items must be uint8"
            ) from None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise AiError(5004, "Invalid data type for base64 input: string") from None


def _verbatim_strings(call: Call, spec: dict) -> dict:
    """The inputs, with string-typed ones from the query string as sent.

    A raw-body request carries its other inputs as query parameters, which the server reads as
    JSON literals when they parse; a prompt "123" or "true" is still a string.
    """
    inputs = dict(call.inputs)
    if call.content_type != "application/json":
        for key, raw in call.query.items():
            if key in inputs and spec["properties"].get(key, {}).get("type") == "string":
                inputs[key] = raw
    return inputs


def run_asr(call: Call) -> Result:
    """whisper / whisper-tiny-en / whisper-large-v3-turbo."""
    turbo = call.model.variant == "turbo"
    spec = TURBO_SCHEMA if turbo else WHISPER_SCHEMA
    call.inputs = _verbatim_strings(call, spec)
    if turbo and call.quirks["turbo_stream_input"] == "reject":
        # The docs JSON types `audio` as a base64 string only (whisper-large-v3-turbo.json);
        # the stream form comes from workerd's 2026 types (workers-ai.md §5). This quirk
        # answers the raw-body form as a schema that knew only the string would.
        spec = {**spec, "properties": {**spec["properties"], "audio": {"type": "string"}}}
    schema.validate(call.inputs, spec)
    data = _audio_bytes(call)
    kind = audio.sniff(data)
    if kind is None:
        raise invalid_input("audio could not be decoded (not WAV, MP3, Ogg, FLAC, WebM or MP4)")
    seconds = audio.duration(data, kind)
    # The language spoken: the `language` input, else quirk `spoken_language` (the emulator
    # cannot hear; tests say what the audio "contains").
    spoken = call.inputs.get("language") or call.quirks["spoken_language"]
    ignores_task = turbo and call.quirks["turbo_translate"] == "ignore"
    if call.inputs.get("task") == "translate" and ignores_task and spoken != "en":
        # OpenAI: large-v3-turbo was not trained for translation and answers in the spoken
        # language; the emulator's stand-in for non-English speech is a French sentence.
        text = f"Transcription de {seconds:.2f} secondes d'audio en français."
    elif call.inputs.get("task") == "translate":
        text = f"Translated {seconds:.2f} seconds of audio into English."
    else:
        text = f"Transcribed {seconds:.2f} seconds of audio."
    tokens = text.split()
    step = seconds / len(tokens)
    words = [
        {"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
        for i, w in enumerate(tokens)
    ]
    vtt = f"WEBVTT\n\n{_timestamp(0)} --> {_timestamp(seconds)}\n{text}\n\n"
    if not turbo:
        return Json({"text": text, "word_count": len(words), "words": words, "vtt": vtt})
    vad = call.inputs.get("vad_filter") in (True, "true")
    segment = {
        "start": 0.0,
        "end": round(seconds, 3),
        "text": text,
        "temperature": 0.0,
        "avg_logprob": -0.2,
        "compression_ratio": 1.2,
        "no_speech_prob": 0.01,
        "words": words,
    }
    info = {
        "language": spoken,
        "language_probability": 0.99,
        "duration": round(seconds, 3),
        # VAD trims leading and trailing silence; pretend a tenth of the audio was silence.
        "duration_after_vad": round(seconds * 0.9 if vad else seconds, 3),
    }
    return Json(
        {
            "transcription_info": info,
            "text": text,
            "word_count": len(words),
            "segments": [segment],
            "vtt": vtt,
        }
    )


# ---------------------------------------------------------------------------------------------
# Text to speech

MELOTTS_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {"prompt": {"type": "string", "minLength": 1}, "lang": {"type": "string"}},
}

# (encoding, container) -> content type; absent pairs are refused with 3010.
AURA_OUTPUTS: dict[tuple[str, str], str] = {
    ("mp3", "none"): "audio/mpeg",
    ("linear16", "wav"): "audio/wav",
    ("linear16", "none"): "application/octet-stream",
    ("mulaw", "wav"): "audio/wav",
    ("mulaw", "none"): "application/octet-stream",
    ("alaw", "wav"): "audio/wav",
    ("alaw", "none"): "application/octet-stream",
    ("opus", "ogg"): "audio/ogg",
    ("flac", "none"): "audio/flac",
    ("aac", "none"): "audio/aac",
}
DEFAULT_CONTAINER = {"linear16": "wav", "mulaw": "wav", "alaw": "wav", "opus": "ogg"}


def aura_schema(speakers: tuple[str, ...]) -> dict:
    """Deepgram aura input (docs/workers-ai.md §7)."""
    return {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "minLength": 1},
            "speaker": {"enum": list(speakers)},
            "encoding": {"enum": ["linear16", "flac", "mulaw", "alaw", "mp3", "opus", "aac"]},
            "container": {"enum": ["none", "wav", "ogg"]},
            "sample_rate": {"type": "integer", "minimum": 8000, "maximum": 48000},
            "bit_rate": {"type": "integer", "minimum": 0},
        },
    }


def _encode(
    encoding: str, container: str, seconds: float, rate: int | None, bits: int | None
) -> bytes:
    if encoding == "mp3":
        return audio.mp3_silence(seconds, rate or 44100, bits or 128000)
    if encoding == "opus":
        return audio.ogg_opus_silence(seconds, rate or 48000)
    if encoding == "flac":
        return audio.flac_silence(seconds, rate or 24000)
    if encoding == "aac":
        return audio.aac_silence(seconds, rate or 24000)
    fmt = {"linear16": audio.WAVE_PCM, "mulaw": audio.WAVE_MULAW, "alaw": audio.WAVE_ALAW}[encoding]
    wav = audio.wav_silence(seconds, rate or 24000, fmt)
    if container == "wav":
        return wav
    return wav[wav.index(b"data") + 8 :]  # raw samples without the RIFF header


def run_tts(call: Call) -> Result:
    """melotts (JSON base64 MP3) or Deepgram aura (raw audio bytes)."""
    model, inputs = call.model, call.inputs
    if model.variant == "melotts":
        schema.validate(inputs, MELOTTS_SCHEMA)
        seconds = max(0.5, len(inputs["prompt"]) * SECONDS_PER_CHARACTER)
        return Json({"audio": base64.b64encode(audio.mp3_silence(seconds)).decode()})
    schema.validate(inputs, aura_schema(model.speakers))
    encoding = inputs.get("encoding", "mp3")
    container = inputs.get("container", DEFAULT_CONTAINER.get(encoding, "none"))
    content_type = AURA_OUTPUTS.get((encoding, container))
    if content_type is None:
        raise invalid_input(f"container '{container}' is not supported for encoding '{encoding}'")
    seconds = max(0.5, len(inputs["text"]) * SECONDS_PER_CHARACTER)
    data = _encode(encoding, container, seconds, inputs.get("sample_rate"), inputs.get("bit_rate"))
    return Binary(data, content_type)
