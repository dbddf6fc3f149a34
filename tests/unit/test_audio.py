"""Audio: subtitles, the whisper and TTS mappings, and the handlers over a fake `env.AI`."""

from __future__ import annotations

import asyncio
import base64
import json
import math

import pytest

import app
from core.exchange import Base64Input, ByteList, Form, StreamBody, StreamInput
from formats import subtitles
from formats.subtitles import Cue
from mapping import catalog, speech, transcripts
from mapping.catalog import Model
from tests.audio_samples import wav_tone
from tests.unit.fakes import (
    AUTH,
    FakeAi,
    FakeStream,
    FakeUpload,
    as_sent,
    body_json,
    make_call,
    run,
)

WHISPER = catalog.MODELS["@cf/openai/whisper"]
TINY = catalog.MODELS["@cf/openai/whisper-tiny-en"]
TURBO = catalog.MODELS["@cf/openai/whisper-large-v3-turbo"]
MELO = catalog.MODELS["@cf/myshell-ai/melotts"]
AURA_1 = catalog.MODELS["@cf/deepgram/aura-1"]
AURA_2 = catalog.MODELS["@cf/deepgram/aura-2-en"]


def bad_request(message: str, param: str | None, code: str | None = None) -> dict:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


# ---------------------------------------------------------------------------------------------
# subtitles


@pytest.mark.parametrize(
    ("seconds", "separator", "expected"),
    [
        (0, ".", "00:00:00.000"),
        (1.5, ",", "00:00:01,500"),
        (59.9994, ".", "00:00:59.999"),
        (59.9996, ".", "00:01:00.000"),  # rounds into the next minute, never "00:00:60.000"
        (3599.9996, ",", "01:00:00,000"),  # and into the next hour
        (3661.007, ".", "01:01:01.007"),
        (360000.25, ".", "100:00:00.250"),  # hours keep counting past 99
        (-2.0, ".", "00:00:00.000"),
        (math.nan, ".", "00:00:00.000"),
        (math.inf, ",", "00:00:00,000"),
    ],
)
def test_timestamp(seconds, separator, expected):
    assert subtitles.timestamp(seconds, separator) == expected


def test_srt_numbers_cues_from_one_with_comma_milliseconds():
    cues = [Cue(0.0, 1.25, " Hello there. "), Cue(1.25, 62.5, "General Kenobi!")]
    assert subtitles.srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,250\nHello there.\n\n"
        "2\n00:00:01,250 --> 00:01:02,500\nGeneral Kenobi!\n\n"
    )


def test_srt_numbering_skips_empty_cues_without_gaps():
    cues = [Cue(0, 1, "one"), Cue(1, 2, "   "), Cue(2, 3, "two")]
    assert subtitles.srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,000\none\n\n2\n00:00:02,000 --> 00:00:03,000\ntwo\n\n"
    )


def test_vtt_has_header_and_dot_milliseconds():
    cues = [Cue(3599.5, 3601.25, "across the hour")]
    assert subtitles.vtt(cues) == ("WEBVTT\n\n00:59:59.500 --> 01:00:01.250\nacross the hour\n\n")


def test_vtt_of_nothing_is_just_the_header():
    assert subtitles.vtt([]) == "WEBVTT\n\n"


def test_cue_text_cannot_break_the_format():
    # A blank line would end the cue early and "-->" would read as a timing line.
    cues = [Cue(2.0, 1.0, "a --> b\n\n c")]
    assert subtitles.vtt(cues) == "WEBVTT\n\n00:00:02.000 --> 00:00:02.000\na -> b\nc\n\n"


def test_parse_vtt_reads_both_timestamp_forms_and_crlf():
    text = (
        "WEBVTT\r\n\r\nNOTE ignored\r\n\r\n00:01.500 --> 00:02.000\r\nhello\r\nworld\r\n\r\n"
        "01:00:00.000 --> 01:00:01.5\r\nlater\r\n"
    )
    assert subtitles.parse_vtt(text) == [
        Cue(1.5, 2.0, "hello world"),
        Cue(3600.0, 3601.5, "later"),
    ]


def test_parse_vtt_round_trips_vtt():
    cues = [Cue(0.0, 1.0, "a"), Cue(61.25, 3700.125, "b c")]
    assert subtitles.parse_vtt(subtitles.vtt(cues)) == cues


# ---------------------------------------------------------------------------------------------
# audio type


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02", "ogg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "webm"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", "mp4"),
        (b"\x00\x00\x00\x18ftypisom", "mp4"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (b"\xff\xfb\x90\xc4\x00", "mp3"),
        (b"\x00\x00\xff\xf3\x90", "mp3"),
        (b"hello, world", None),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"RIFF\x24\x00\x00\x00AVI ", None),
        (b"", None),
    ],
)
def test_sniff(head, kind):
    assert transcripts.sniff(head) == kind


def test_sniff_knows_a_synthesized_wav():
    assert transcripts.check_audio(wav_tone(0.1)) == "wav"


def test_unsupported_audio_is_openais_400():
    with pytest.raises(Exception) as caught:
        transcripts.check_audio(b"just some text, not audio")
    assert caught.value.body() == bad_request(
        "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', "
        "'mpga', 'oga', 'ogg', 'wav', 'webm']",
        "file",
        "invalid_value",
    )


# ---------------------------------------------------------------------------------------------
# request fields


def parse(fields: dict, task: str = transcripts.TRANSCRIBE, granularities=()) -> object:
    return transcripts.parse_request(fields, task, list(granularities))


def error_of(fn, *args) -> dict:
    with pytest.raises(Exception) as caught:
        fn(*args)
    return caught.value.body()


def test_defaults():
    request = parse({"model": "whisper-1"})
    assert request == transcripts.Request(
        task="transcribe",
        model="whisper-1",
        language=None,
        prompt=None,
        response_format="json",
        temperature=None,
        granularities=(),
    )


@pytest.mark.parametrize(
    ("given", "code"), [("en", "en"), ("EN", "en"), ("en-US", "en"), ("english", "en"),
                        ("yue", "yue"), ("haitian creole", "ht")],
)  # fmt: skip
def test_language_accepts_codes_names_and_regions(given, code):
    assert parse({"model": "m", "language": given}).language == code


def test_unknown_language_is_400():
    assert error_of(parse, {"model": "m", "language": "xx"}) == bad_request(
        "Invalid language 'xx'. Language parameter must be specified in ISO-639-1 format "
        "(for example 'en').",
        "language",
        "invalid_value",
    )


def test_translations_ignore_language():
    assert parse({"model": "m", "language": "xx"}, transcripts.TRANSLATE).language is None


def test_missing_model_names_the_param():
    assert error_of(parse, {"language": "en"}) == bad_request(
        "Missing required parameter: 'model'.", "model", "missing_required_parameter"
    )


def test_bad_response_format():
    assert error_of(parse, {"model": "m", "response_format": "xml"}) == bad_request(
        "Invalid value for 'response_format': 'xml'. Supported values are: 'json', 'text', "
        "'srt', 'vtt', 'verbose_json'.",
        "response_format",
        "invalid_value",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hot", bad_request(
            "Invalid type for 'temperature': expected a number, but got 'hot'.", "temperature")),
        ("nan", bad_request(
            "Invalid type for 'temperature': expected a number, but got 'nan'.", "temperature")),
        ("1.5", bad_request(
            "Invalid 'temperature': 1.5 is not between 0 and 1.", "temperature", "invalid_value")),
    ],
)  # fmt: skip
def test_bad_temperature(value, expected):
    assert error_of(parse, {"model": "m", "temperature": value}) == expected


def test_temperature_is_a_number():
    assert parse({"model": "m", "temperature": "0.2"}).temperature == 0.2


def test_granularities_deduplicated_and_checked():
    assert parse({"model": "m"}, granularities=["word", "segment", "word"]).granularities == (
        "word",
        "segment",
    )
    assert error_of(parse, {"model": "m"}, transcripts.TRANSCRIBE, ["char"]) == bad_request(
        "Invalid value for 'timestamp_granularities[]': 'char'. Supported values are: 'word', "
        "'segment'.",
        "timestamp_granularities[]",
        "invalid_value",
    )


def test_streaming_is_refused():
    assert error_of(parse, {"model": "m", "stream": "true"}) == bad_request(
        "Streaming is not supported for this model.", "stream", "unsupported_value"
    )
    assert parse({"model": "m", "stream": "false"}).model == "m"


# ---------------------------------------------------------------------------------------------
# inputs


def test_whisper_gets_a_byte_list_and_nothing_else():
    audio = wav_tone(0.1)
    request = parse({"model": "m", "language": "fr", "prompt": "p"})
    for model in (WHISPER, TINY):
        inputs = transcripts.to_upstream(model, audio, request)
        assert inputs == {"audio": ByteList(audio)}
        assert inputs["audio"].data is audio  # no copy


def test_turbo_gets_the_stream_and_options():
    stream = FakeUpload(wav_tone(0.1)).stream("audio/wav")
    request = parse({"model": "m", "language": "de", "prompt": "Names: Jürgen."})
    inputs = transcripts.to_upstream(TURBO, stream, request)
    assert inputs == {
        "audio": stream,
        "task": "transcribe",
        "language": "de",
        "initial_prompt": "Names: Jürgen.",
    }
    assert inputs["audio"] is stream  # the marker itself: nothing read, nothing copied
    translate = parse({"model": "m"}, transcripts.TRANSLATE)
    assert transcripts.to_upstream(TURBO, stream, translate) == {
        "audio": stream,
        "task": "translate",
    }


def test_turbo_bytes_become_base64_with_the_same_options():
    # The AI Gateway fallback: the same inputs, the audio as a base64 string (made by the
    # adapter in JavaScript).
    audio = wav_tone(0.1)
    request = parse({"model": "m", "language": "de", "prompt": "Names: Jürgen."})
    inputs = transcripts.to_upstream(TURBO, audio, request)
    assert inputs["audio"] == Base64Input(audio)
    assert as_sent(inputs) == {
        "audio": base64.b64encode(audio).decode(),
        "task": "transcribe",
        "language": "de",
        "initial_prompt": "Names: Jürgen.",
    }


def test_byte_models_cannot_take_a_stream():
    stream = FakeUpload(wav_tone(0.1)).stream("audio/wav")
    with pytest.raises(TypeError):
        transcripts.to_upstream(WHISPER, stream, parse({"model": "m"}))


UNLISTED = Model("@cf/someone/new-asr", catalog.TRANSCRIPTION, listed=False)


@pytest.mark.parametrize(
    ("model", "through_gateway", "form"),
    [
        (TURBO, False, "stream"),
        (TURBO, True, "base64"),  # AI Gateway refuses stream inputs
        (WHISPER, False, "bytes"),
        (WHISPER, True, "bytes"),
        (TINY, False, "bytes"),
        (UNLISTED, False, "base64"),  # no catalog facts: the most widely accepted form
    ],
)
def test_audio_form(model, through_gateway, form):
    assert transcripts.audio_form(model, through_gateway) == form


def test_base64_reason_names_what_takes_only_base64():
    # turbo takes a stream: base64 only behind AI Gateway. A model without catalog facts takes
    # base64 itself, gateway or not.
    assert transcripts.base64_reason(TURBO) == "AI Gateway takes audio only in that form"
    assert transcripts.base64_reason(UNLISTED) == (
        "`@cf/someone/new-asr` takes audio only in that form"
    )


@pytest.mark.parametrize(
    ("declared", "kind", "sent"),
    [
        ("audio/wav", "wav", "audio/wav"),
        ("audio/x-m4a", "mp4", "audio/x-m4a"),  # the client's type may be more precise
        ("audio/ogg; codecs=opus", "ogg", "audio/ogg; codecs=opus"),
        ("video/webm", "webm", "video/webm"),
        ("application/octet-stream", "mp3", "audio/mpeg"),
        ("", "flac", "audio/flac"),
        ("text/plain", "wav", "audio/wav"),
        ("audio/", "mp4", "audio/mp4"),
        ("audio", "ogg", "audio/ogg"),
        ("application/octet-stream", "webm", "audio/webm"),
    ],
)
def test_media_type(declared, kind, sent):
    assert transcripts.media_type(declared, kind) == sent


def test_every_sniffed_kind_has_a_media_type():
    assert set(transcripts.MEDIA_TYPES) == {"flac", "ogg", "wav", "webm", "mp4", "mp3"}


# ---------------------------------------------------------------------------------------------
# outputs

WHISPER_OUT = {
    "text": " Hello world. How are you?",
    "word_count": 5,
    "words": [
        {"word": "Hello", "start": 0.0, "end": 0.4},
        {"word": "world.", "start": 0.4, "end": 0.9},
        {"word": "How", "start": 1.2, "end": 1.4},
        {"word": "are", "start": 1.4, "end": 1.6},
        {"word": "you?", "start": 1.6, "end": 2.0},
    ],
}
TURBO_OUT = {
    "transcription_info": {"language": "fr", "duration": 3725.5, "duration_after_vad": 3700.0},
    "text": "Bonjour. Au revoir.",
    "word_count": 3,
    "segments": [
        {
            "start": 0.0,
            "end": 1.5,
            "text": " Bonjour.",
            "temperature": 0.0,
            "avg_logprob": -0.25,
            "compression_ratio": 1.1,
            "no_speech_prob": 0.02,
            "words": [{"word": " Bonjour.", "start": 0.0, "end": 1.5}],
        },
        {
            "start": 3599.5,
            "end": 3725.5,
            "text": " Au revoir.",
            "temperature": 0.2,
            "avg_logprob": -0.5,
            "compression_ratio": 1.3,
            "no_speech_prob": 0.1,
            "words": [
                {"word": " Au", "start": 3599.5, "end": 3600.2},
                {"word": " revoir.", "start": 3600.2, "end": 3725.5},
            ],
        },
    ],
    "vtt": "WEBVTT\n\n00:00.000 --> 00:01.500\nBonjour.\n\n",
}


def rendered(output, model, fmt, task=transcripts.TRANSCRIBE, granularities=()):
    request = parse({"model": "m", "response_format": fmt}, task, granularities)
    return transcripts.render(output, request, model)


def test_json_and_text():
    assert rendered(WHISPER_OUT, WHISPER, "json") == (
        '{"text":"Hello world. How are you?"}',
        "application/json",
    )
    assert rendered(WHISPER_OUT, WHISPER, "text") == (
        "Hello world. How are you?\n",
        "text/plain; charset=utf-8",
    )


def test_whisper_without_segments_gets_one_cue_per_sentence():
    assert rendered(WHISPER_OUT, WHISPER, "srt") == (
        "1\n00:00:00,000 --> 00:00:00,900\nHello world.\n\n"
        "2\n00:00:01,200 --> 00:00:02,000\nHow are you?\n\n",
        "text/plain; charset=utf-8",
    )


def test_whisper_vtt_output_is_preferred_to_words():
    output = {**WHISPER_OUT, "vtt": "WEBVTT\n\n00:00.000 --> 00:02.000\nHello world. How are you?"}
    assert rendered(output, WHISPER, "vtt") == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello world. How are you?\n\n",
        "text/vtt; charset=utf-8",
    )


def test_turbo_segments_make_the_subtitles_across_the_hour():
    assert rendered(TURBO_OUT, TURBO, "srt")[0] == (
        "1\n00:00:00,000 --> 00:00:01,500\nBonjour.\n\n"
        "2\n00:59:59,500 --> 01:02:05,500\nAu revoir.\n\n"
    )
    assert rendered(TURBO_OUT, TURBO, "vtt")[0] == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nBonjour.\n\n"
        "00:59:59.500 --> 01:02:05.500\nAu revoir.\n\n"
    )


def test_text_only_output_still_makes_one_cue():
    assert rendered({"text": "Just text."}, WHISPER, "srt")[0] == (
        "1\n00:00:00,000 --> 00:00:00,000\nJust text.\n\n"
    )


def test_verbose_json_from_turbo():
    body, content_type = rendered(TURBO_OUT, TURBO, "verbose_json", granularities=["word"])
    assert content_type == "application/json"
    assert json.loads(body) == {
        "task": "transcribe",
        "language": "french",
        "duration": 3725.5,
        "text": "Bonjour. Au revoir.",
        "words": [
            {"word": "Bonjour.", "start": 0.0, "end": 1.5},
            {"word": "Au", "start": 3599.5, "end": 3600.2},
            {"word": "revoir.", "start": 3600.2, "end": 3725.5},
        ],
        "usage": {"type": "duration", "seconds": 3726},
    }


def test_verbose_json_segments_by_default_and_both_on_request():
    default = json.loads(rendered(TURBO_OUT, TURBO, "verbose_json")[0])
    assert "words" not in default
    assert default["segments"] == [
        {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": 1.5,
            "text": " Bonjour.",
            "tokens": [],
            "temperature": 0.0,
            "avg_logprob": -0.25,
            "compression_ratio": 1.1,
            "no_speech_prob": 0.02,
        },
        {
            "id": 1,
            "seek": 359950,
            "start": 3599.5,
            "end": 3725.5,
            "text": " Au revoir.",
            "tokens": [],
            "temperature": 0.2,
            "avg_logprob": -0.5,
            "compression_ratio": 1.3,
            "no_speech_prob": 0.1,
        },
    ]
    both = json.loads(
        rendered(TURBO_OUT, TURBO, "verbose_json", granularities=["word", "segment"])[0]
    )
    assert both["segments"] == default["segments"]
    assert len(both["words"]) == 3


def test_verbose_json_from_whisper_takes_duration_from_words():
    verbose = json.loads(rendered(WHISPER_OUT, TINY, "verbose_json")[0])
    assert verbose["language"] == "english"  # tiny-en knows only English
    assert verbose["duration"] == 2.0
    assert [(s["start"], s["end"], s["text"]) for s in verbose["segments"]] == [
        (0.0, 0.9, "Hello world."),
        (1.2, 2.0, "How are you?"),
    ]
    assert verbose["usage"] == {"type": "duration", "seconds": 2}
    assert json.loads(rendered(WHISPER_OUT, WHISPER, "verbose_json")[0])["language"] == "unknown"


def test_translation_verbose_json_reports_english_and_no_words():
    verbose = json.loads(
        rendered(TURBO_OUT, TURBO, "verbose_json", transcripts.TRANSLATE, ["word"])[0]
    )
    assert verbose["task"] == "translate"
    assert verbose["language"] == "english"
    assert "words" not in verbose


def test_output_without_text_is_refused():
    with pytest.raises(ValueError):
        rendered({"words": []}, WHISPER, "json")


# ---------------------------------------------------------------------------------------------
# speech mapping


def plan(model, **body):
    return speech.to_upstream(body, model)


def test_melotts_takes_prompt_and_language():
    assert plan(MELO, input="Hi", voice="alloy") == speech.Speech(
        {"prompt": "Hi", "lang": "en"}, "audio/mpeg"
    )
    assert plan(MELO, input="Salut", voice="FR").inputs == {"prompt": "Salut", "lang": "fr"}
    assert plan(MELO, input="Hi").inputs == {"prompt": "Hi", "lang": "en"}


def test_melotts_makes_only_mp3():
    with pytest.raises(Exception) as caught:
        plan(MELO, input="Hi", response_format="wav")
    assert caught.value.body() == bad_request(
        "`@cf/myshell-ai/melotts` cannot produce 'wav' audio; it supports: 'mp3'.",
        "response_format",
        "unsupported_value",
    )


def test_melotts_unknown_voice_lists_what_it_has():
    with pytest.raises(Exception) as caught:
        plan(MELO, input="Hi", voice="darth")
    assert caught.value.body()["error"]["param"] == "voice"
    assert caught.value.body()["error"]["message"].startswith(
        "Invalid value for 'voice': 'darth'. `@cf/myshell-ai/melotts` has one voice per "
        "language; use an OpenAI voice name (English) or a language: 'alloy', "
    )


@pytest.mark.parametrize(
    ("model", "voice", "speaker"),
    [
        (AURA_1, "alloy", "asteria"),
        (AURA_1, "onyx", "zeus"),
        (AURA_1, "Fable", "helios"),
        (AURA_1, "perseus", "perseus"),  # a native speaker name
        (AURA_2, "alloy", "asteria"),
        (AURA_2, "shimmer", "thalia"),
        (AURA_2, "apollo", "apollo"),
    ],
)
def test_aura_voices(model, voice, speaker):
    assert plan(model, input="Hi", voice=voice).inputs == {"text": "Hi", "speaker": speaker}


def test_every_openai_voice_maps_to_a_real_speaker():
    for model_id in ("@cf/deepgram/aura-1", "@cf/deepgram/aura-2-en", "@cf/deepgram/aura-2-es"):
        params = catalog.MODELS[model_id].params
        assert set(params["voices"]) == set(catalog.OPENAI_VOICES)
        assert set(params["voices"].values()) <= set(params["speakers"])


def test_aura_unknown_voice_is_400():
    with pytest.raises(Exception) as caught:
        plan(AURA_1, input="Hi", voice="helena")  # an aura-2 speaker, not aura-1
    error = caught.value.body()["error"]
    assert (error["param"], error["code"]) == ("voice", "unsupported_value")
    assert error["message"].startswith(
        "Invalid value for 'voice': 'helena'. `@cf/deepgram/aura-1` supports: 'alloy', 'ash'"
    )


@pytest.mark.parametrize(
    ("fmt", "content_type", "options"),
    [
        ("mp3", "audio/mpeg", {}),
        ("opus", "audio/ogg", {"encoding": "opus", "container": "ogg"}),
        ("aac", "audio/aac", {"encoding": "aac"}),
        ("flac", "audio/flac", {"encoding": "flac"}),
        ("wav", "audio/wav", {"encoding": "linear16", "container": "wav", "sample_rate": 24000}),
        ("pcm", "audio/pcm", {"encoding": "linear16", "container": "none", "sample_rate": 24000}),
    ],
)
def test_aura_formats(fmt, content_type, options):
    result = plan(AURA_2, input="Hi", response_format=fmt)
    assert result == speech.Speech({"text": "Hi", **options}, content_type)


def test_speed_other_than_one_is_refused():
    assert plan(AURA_2, input="Hi", speed=1).inputs == {"text": "Hi"}
    with pytest.raises(Exception) as caught:
        plan(AURA_2, input="Hi", speed=1.5)
    assert caught.value.body() == bad_request(
        "`@cf/deepgram/aura-2-en` cannot change the speaking speed; send 'speed' 1.0 or leave "
        "it out.",
        "speed",
        "unsupported_value",
    )
    with pytest.raises(Exception) as caught:
        plan(AURA_2, input="Hi", speed=5)
    assert caught.value.body() == bad_request(
        "Invalid 'speed': 5 is not between 0.25 and 4.0.", "speed", "invalid_value"
    )


def test_input_is_required_and_limited():
    with pytest.raises(Exception) as caught:
        plan(MELO)
    assert caught.value.body() == bad_request(
        "Missing required parameter: 'input'.", "input", "missing_required_parameter"
    )
    with pytest.raises(Exception) as caught:
        plan(MELO, input="x" * 4097)
    assert caught.value.body() == bad_request(
        "Invalid 'input': string too long. Expected a string with maximum length 4096, but "
        "got a string with length 4097 instead.",
        "input",
        "string_above_max_length",
    )


def test_sse_stream_format_is_refused():
    with pytest.raises(Exception) as caught:
        plan(AURA_2, input="Hi", stream_format="sse")
    assert caught.value.body()["error"]["param"] == "stream_format"


def test_decoded_audio():
    assert speech.decoded_audio({"audio": base64.b64encode(b"ID3abc").decode()}) == b"ID3abc"
    assert speech.decoded_audio(b"raw") == b"raw"
    assert speech.decoded_audio({"audio": "not base64!"}) is None
    assert speech.decoded_audio({"text": "?"}) is None


# ---------------------------------------------------------------------------------------------
# handlers


class AudioUpload(FakeUpload):
    def __init__(self, data: bytes, name: str = "audio.wav", content_type: str = "audio/wav"):
        super().__init__(data, name, content_type)


def transcription_call(form, ai=None, path="/v1/audio/transcriptions"):
    return make_call(
        "POST", path, headers=AUTH, form=form, ai=ai or FakeAi(lambda m, i: WHISPER_OUT)
    )


def test_transcription_json_with_whisper():
    audio = wav_tone(0.2)
    ai = FakeAi(lambda model, inputs: WHISPER_OUT)
    upload = AudioUpload(audio)
    form = {"file": upload, "model": "@cf/openai/whisper"}
    reply = run(transcription_call(form, ai))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == {"text": "Hello world. How are you?"}
    assert ai.calls == [("@cf/openai/whisper", {"audio": ByteList(audio)}, None)]
    assert upload.reads == ["head:4096"]  # the array is made in JavaScript, from the upload


@pytest.mark.parametrize("fmt", transcripts.RESPONSE_FORMATS)
def test_whisper_1_streams_the_upload_without_reading_it(fmt):
    upload = AudioUpload(wav_tone(0.2))
    ai = FakeAi(lambda model, inputs: TURBO_OUT)
    form = {"file": upload, "model": "whisper-1", "response_format": fmt,
            "language": "fr", "prompt": "Salut."}  # fmt: skip
    reply = run(transcription_call(form, ai))
    expected, content_type = transcripts.render(TURBO_OUT, parse(form), TURBO)
    assert (reply.status, reply.headers["content-type"]) == (200, content_type)
    assert reply.body == expected
    assert ai.calls == [
        (
            "@cf/openai/whisper-large-v3-turbo",
            {
                "audio": StreamInput(upload, "audio/wav"),
                "task": "transcribe",
                "language": "fr",
                "initial_prompt": "Salut.",
            },
            None,
        )
    ]
    assert upload.reads == ["head:4096"]  # only the sniffed start crossed into Python


@pytest.mark.parametrize(
    ("data", "declared", "sent"),
    [
        (wav_tone(0.1), "application/octet-stream", "audio/wav"),
        (b"ID3\x04" + bytes(200), "", "audio/mpeg"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(100), "audio/x-m4a", "audio/x-m4a"),
    ],
)
def test_streamed_upload_content_type(data, declared, sent):
    ai = FakeAi(lambda model, inputs: TURBO_OUT)
    form = {"file": AudioUpload(data, "upload.bin", declared), "model": "whisper-1"}
    assert run(transcription_call(form, ai)).status == 200
    assert ai.calls[0][1]["audio"].content_type == sent


def test_ai_gateway_gets_base64_instead_of_a_stream():
    audio = wav_tone(0.2)
    upload = AudioUpload(audio)
    ai = FakeAi(lambda model, inputs: TURBO_OUT)
    call = transcription_call({"file": upload, "model": "whisper-1", "language": "fr"}, ai)
    call.env.vars = {"API_KEYS": "sk-a", "AI_GATEWAY_ID": "my-gateway"}
    reply = run(call)
    assert (reply.status, body_json(reply)) == (200, {"text": "Bonjour. Au revoir."})
    assert ai.calls == [
        (
            "@cf/openai/whisper-large-v3-turbo",
            {"audio": base64.b64encode(audio).decode(), "task": "transcribe", "language": "fr"},
            {"gateway": {"id": "my-gateway"}},
        )
    ]
    assert upload.reads == ["head:4096"]  # the base64 is made in JavaScript, from the upload


def gateway_call(upload, ai):
    call = transcription_call({"file": upload, "model": "whisper-1"}, ai)
    call.env.vars = {"API_KEYS": "sk-a", "AI_GATEWAY_ID": "my-gateway"}
    return call


def test_ai_gateway_refuses_audio_too_large_for_base64_before_reading_it():
    # As base64 in the binding's JSON, such a file would have the isolate killed mid-request.
    ai = FakeAi(lambda model, inputs: TURBO_OUT)
    upload = AudioUpload(wav_tone(0.2))
    upload.size = transcripts.BASE64_LIMIT + 1  # only the head is read: the size is the upload's
    reply = run(gateway_call(upload, ai))
    assert (reply.status, body_json(reply)) == (
        413,
        {
            "error": {
                "message": "The audio file is larger than can be sent to Workers AI as base64 "
                "text (15 MB): AI Gateway takes audio only in that form.",
                "type": "invalid_request_error",
                "param": "file",
                "code": "request_too_large",
            }
        },
    )
    assert (ai.calls, upload.reads) == ([], ["head:4096"])


def test_ai_gateway_takes_audio_up_to_the_base64_limit():
    ai = FakeAi(lambda model, inputs: TURBO_OUT)
    upload = AudioUpload(wav_tone(0.2))
    upload.size = transcripts.BASE64_LIMIT
    assert run(gateway_call(upload, ai)).status == 200
    assert len(ai.calls) == 1


def test_a_refused_stream_upload_too_large_for_base64_is_413():
    refusal = Exception("5006: AiError: AiError: Type mismatch of '/audio'")
    ai = FakeAi(lambda model, inputs: refusal)
    upload = AudioUpload(wav_tone(0.2))
    upload.size = transcripts.BASE64_LIMIT + 1
    reply = run(transcription_call({"file": upload, "model": "whisper-1"}, ai))
    assert reply.status == 413
    assert body_json(reply)["error"]["message"].endswith(": Workers AI refused it as a stream.")
    assert len(ai.calls) == 1  # the stream, not a second try


def test_repeated_granularities_all_count():
    form = Form(
        {"file": AudioUpload(wav_tone(0.2)), "model": "whisper-1",
         "response_format": "verbose_json", "timestamp_granularities[]": "word"},
        {"timestamp_granularities[]": ["word", "segment"]},
    )  # fmt: skip
    verbose = body_json(run(transcription_call(form, FakeAi(lambda m, i: TURBO_OUT))))
    assert "words" in verbose and "segments" in verbose


def english_for(model, inputs):
    """turbo answers in French (it may ignore task: translate); m2m100 translates."""
    if model == "@cf/meta/m2m100-1.2b":
        return {"translated_text": {"Bonjour.": "Hello.", "Au revoir.": "Goodbye."}[inputs["text"]]}
    return TURBO_OUT


def test_translation_sends_task_translate_and_translates_what_is_not_english():
    ai = FakeAi(english_for)
    upload = AudioUpload(wav_tone(0.2))
    form = {"file": upload, "model": "whisper-1", "language": "fr"}
    reply = run(transcription_call(form, ai, "/v1/audio/translations"))
    assert body_json(reply) == {"text": "Hello. Goodbye."}
    assert ai.calls[0][1] == {"audio": StreamInput(upload, "audio/wav"), "task": "translate"}
    assert [c[1] for c in ai.calls[1:]] == [
        {"text": "Bonjour.", "source_lang": "fr", "target_lang": "en"},
        {"text": "Au revoir.", "source_lang": "fr", "target_lang": "en"},
    ]


def test_translation_keeps_an_english_answer_without_a_second_model():
    english = {**TURBO_OUT, "text": "Hello. Goodbye.", "segments": []}
    ai = FakeAi(lambda model, inputs: english)
    form = {"file": AudioUpload(wav_tone(0.2)), "model": "whisper-1"}
    reply = run(transcription_call(form, ai, "/v1/audio/translations"))
    assert body_json(reply) == {"text": "Hello. Goodbye."}
    assert len(ai.calls) == 1


def test_verbose_translation_segments_are_english_with_their_timings():
    ai = FakeAi(english_for)
    form = {"file": AudioUpload(wav_tone(0.2)), "model": "whisper-1"}
    form["response_format"] = "verbose_json"
    body = body_json(run(transcription_call(form, ai, "/v1/audio/translations")))
    assert [s["text"].strip() for s in body["segments"]] == ["Hello.", "Goodbye."]
    assert body["language"] == "english"


@pytest.mark.parametrize("code", ["5006", "3010"])
def test_a_refused_stream_upload_is_sent_again_as_base64(code):
    data = wav_tone(0.2)
    refusal = Exception(f"{code}: AiError: AiError: Type mismatch of '/audio'")
    answers = iter([refusal, {"text": "ok"}])
    ai = FakeAi(lambda model, inputs: next(answers))
    form = {"file": AudioUpload(data), "model": "whisper-1"}
    reply = run(transcription_call(form, ai))
    assert body_json(reply) == {"text": "ok"}
    first, second = (c[1]["audio"] for c in ai.calls)
    assert isinstance(first, StreamInput)
    assert second == base64.b64encode(data).decode()


def test_other_failures_of_a_stream_upload_are_not_retried():
    ai = FakeAi(lambda model, inputs: Exception("3040: AiError: AiError: busy"))
    form = {"file": AudioUpload(wav_tone(0.2)), "model": "whisper-1"}
    assert run(transcription_call(form, ai)).status == 429
    assert len(ai.calls) == 1


def test_translation_needs_a_model_that_translates():
    form = {"file": AudioUpload(wav_tone(0.2)), "model": "@cf/openai/whisper"}
    reply = run(transcription_call(form, path="/v1/audio/translations"))
    assert reply.status == 400
    assert body_json(reply) == bad_request(
        "`@cf/openai/whisper` cannot translate; use `whisper-1` "
        "(@cf/openai/whisper-large-v3-turbo).",
        "model",
        "model_not_supported",
    )


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"model": "whisper-1"}, bad_request(
            "Missing required parameter: 'file'.", "file", "missing_required_parameter")),
        ({"model": "whisper-1", "file": "audio.mp3"}, bad_request(
            "'file' must be an uploaded file (multipart/form-data).", "file")),
        ({"file": AudioUpload(b"RIFF")}, bad_request(
            "Missing required parameter: 'model'.", "model", "missing_required_parameter")),
        ({"file": AudioUpload(b""), "model": "whisper-1"}, bad_request(
            "The audio file is empty.", "file", "invalid_value")),
        ({"file": AudioUpload(b"%PDF-1.7", "a.mp3", "audio/mpeg"), "model": "whisper-1"},
         bad_request("Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', "
                     "'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']", "file", "invalid_value")),
        ({"file": AudioUpload(b"RIFF"), "model": "@cf/myshell-ai/melotts"}, bad_request(
            "`@cf/myshell-ai/melotts` is a text-to-speech model; this endpoint needs a "
            "speech-recognition model.", "model", "model_not_supported")),
    ],
)  # fmt: skip
def test_transcription_400s(form, expected):
    ai = FakeAi()
    reply = run(transcription_call(form, ai))
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert body_json(reply) == expected
    assert ai.calls == []


def test_file_over_25_mb_is_413_even_without_content_length():
    upload = AudioUpload(b"RIFF")
    upload.size = 25 * 1024 * 1024 + 1
    reply = run(transcription_call({"file": upload, "model": "whisper-1"}))
    assert reply.status == 413
    assert body_json(reply) == {
        "error": {
            "message": "The audio file is larger than this endpoint accepts (25 MB).",
            "type": "invalid_request_error",
            "param": "file",
            "code": "request_too_large",
        }
    }
    assert upload.reads == []


def test_a_file_that_is_not_audio_is_refused_after_reading_its_start():
    upload = AudioUpload(b"%PDF-1.7" + bytes(10_000), "a.wav", "audio/wav")
    ai = FakeAi()
    reply = run(transcription_call({"file": upload, "model": "whisper-1"}, ai))
    assert reply.status == 400
    assert body_json(reply)["error"]["param"] == "file"
    assert (upload.reads, ai.calls) == (["head:4096"], [])


def test_declared_body_over_the_route_limit_is_413():
    call = transcription_call({"model": "whisper-1"})
    call.headers["content-length"] = str(26 * 1024 * 1024)
    reply = run(call)
    assert reply.status == 413
    assert body_json(reply)["error"]["code"] == "request_too_large"


def test_whisper_answer_without_text_is_502():
    form = {"file": AudioUpload(wav_tone(0.1)), "model": "whisper-1"}
    reply = run(transcription_call(form, FakeAi(lambda m, i: {"nope": 1})))
    assert reply.status == 502
    assert body_json(reply)["error"]["code"] == "upstream_error"


def speech_call(body, ai):
    return make_call("POST", "/v1/audio/speech", headers=AUTH, body=body, ai=ai)


def test_speech_melotts_decodes_base64():
    mp3 = b"\xff\xfb\x90\xc4" + bytes(100)
    ai = FakeAi(lambda m, i: {"audio": base64.b64encode(mp3).decode()})
    reply = run(speech_call({"model": "tts-1", "input": "Hello", "voice": "nova"}, ai))
    assert reply.status == 200
    assert reply.headers["content-type"] == "audio/mpeg"
    assert reply.body == mp3
    assert ai.calls == [("@cf/myshell-ai/melotts", {"prompt": "Hello", "lang": "en"}, None)]


def test_speech_aura_stream_passes_through():
    stream = FakeStream([b"RIFF", b"....WAVE"])
    ai = FakeAi(lambda m, i: stream)
    body = {"model": "tts-1-hd", "input": "Hello", "voice": "echo", "response_format": "wav"}
    reply = asyncio.run(app.handle(speech_call(body, ai)))
    assert reply.status == 200
    assert reply.headers["content-type"] == "audio/wav"
    assert isinstance(reply.body, StreamBody) and reply.body.source is stream
    assert reply.body.transform is None
    assert ai.calls[0][1] == {
        "text": "Hello",
        "speaker": "orion",
        "encoding": "linear16",
        "container": "wav",
        "sample_rate": 24000,
    }


def test_speech_needs_a_model():
    reply = run(speech_call({"input": "Hello"}, FakeAi()))
    assert reply.status == 400
    assert body_json(reply) == bad_request(
        "Missing required parameter: 'model'.", "model", "missing_required_parameter"
    )


def test_speech_with_an_asr_model_is_400():
    reply = run(speech_call({"model": "whisper-1", "input": "Hello"}, FakeAi()))
    assert reply.status == 400
    assert body_json(reply)["error"]["code"] == "model_not_supported"


def test_speech_unreadable_answer_is_502():
    reply = run(speech_call({"model": "tts-1", "input": "Hi"}, FakeAi(lambda m, i: {"x": 1})))
    assert reply.status == 502


@pytest.mark.parametrize(
    ("model", "language"), [("@cf/openai/whisper", None), ("@cf/openai/whisper-tiny-en", "en")]
)
def test_audio_too_large_for_a_number_array_goes_to_turbo(model, language):
    big = wav_tone(0.2) + bytes(4 * 1024 * 1024)  # past BYTE_ARRAY_LIMIT
    ai = FakeAi(lambda m, i: WHISPER_OUT)
    upload = AudioUpload(big)
    reply = run(transcription_call({"file": upload, "model": model}, ai))
    assert reply.status == 200
    ((sent_model, inputs, _),) = ai.calls
    assert sent_model == "@cf/openai/whisper-large-v3-turbo"
    assert isinstance(inputs["audio"], StreamInput)  # never a number array
    assert inputs.get("language") == language
    assert "bytes" not in upload.reads


def test_small_audio_stays_with_the_byte_array_model():
    ai = FakeAi(lambda m, i: WHISPER_OUT)
    run(transcription_call({"file": AudioUpload(wav_tone(0.2)), "model": "@cf/openai/whisper"}, ai))
    assert ai.calls[0][0] == "@cf/openai/whisper"
