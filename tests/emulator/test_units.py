"""Pure functions: schema messages, audio encoders and sniffing, schema instances."""

from __future__ import annotations

import io
import wave

import pytest

from emulator import audio
from emulator.instances import instance
from emulator.schema import first_error


def test_schema_messages():
    schema = {
        "type": "object",
        "required": ["a"],
        "additionalProperties": False,
        "properties": {"a": {"type": "array", "items": {"type": "string"}}},
    }
    assert first_error({}, schema) == "required properties at '/' are 'a'"
    assert first_error({"a": ["x", 1]}, schema) == (
        "Type mismatch of '/a/1', 'number' not in 'string'"
    )
    assert first_error({"a": [], "b": 1}, schema) == (
        "Additional or unevaluated properties '/b' at '/' not allowed"
    )
    assert first_error({"a": []}, schema) is None
    assert first_error(True, {"type": "integer"}) == (
        "Type mismatch of '/', 'boolean' not in 'integer'"
    )
    assert first_error(2.0, {"type": "integer"}) is None  # integral floats are integers in JS


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda s: audio.mp3_silence(s), "mp3"),
        (lambda s: audio.mp3_silence(s, 48000, 320000), "mp3"),
        (lambda s: audio.wav_silence(s), "wav"),
        (lambda s: audio.wav_silence(s, 8000, audio.WAVE_ALAW), "wav"),
        (lambda s: audio.ogg_opus_silence(s), "ogg"),
        (lambda s: audio.flac_silence(s), "flac"),
        (lambda s: audio.flac_silence(s, 44100), "flac"),
        (lambda s: audio.aac_silence(s), "aac"),
    ],
)
def test_encoders_round_trip_through_sniff_and_duration(make, kind):
    data = make(2.0)
    assert audio.sniff(data) == kind
    assert audio.duration(data, kind) == pytest.approx(2.0, abs=0.05)


def test_pcm_wav_is_readable_by_wave():
    with wave.open(io.BytesIO(audio.wav_silence(0.5, 16000))) as wav:
        assert (wav.getframerate(), wav.getnframes(), wav.getsampwidth()) == (16000, 8000, 2)


def test_mp3_frames_are_mpeg1_layer3():
    data = audio.mp3_silence(1.0)
    # frame sync, MPEG-1, Layer III, and the next frame starts where the header says
    assert data[0] == 0xFF and data[1] == 0xFB
    assert data[417:419] == b"\xff\xfb"


def test_sniff_rejects_text_and_knows_containers():
    assert audio.sniff(b"hello world") is None
    assert audio.sniff(b"\x1a\x45\xdf\xa3rest") == "webm"
    assert audio.sniff(b"\0\0\0\x20ftypM4A ") == "mp4"
    assert audio.sniff(b"ID3\x04\0\0\0\0\0\0") == "mp3"


def test_instance_follows_schema():
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string", "minLength": 3},
            "n": {"type": "number", "minimum": 5},
            "e": {"enum": ["b", "a"]},
            "l": {"type": "array", "items": {"type": "boolean"}, "minItems": 2},
            "o": {"type": ["null", "integer"]},
        },
    }
    assert instance(schema) == {"s": "xxx", "n": 5, "e": "b", "l": [True, True], "o": 1}
