"""Speech recognition, pure: OpenAI transcription/translation form -> whisper inputs, the
uploaded file's type check, and whisper output -> json | text | srt | vtt | verbose_json.

Whisper outputs (docs/workers-ai.md §5): `@cf/openai/whisper` and `-tiny-en` answer
`{text, word_count?, words?: [{word, start, end}], vtt?}`; `-large-v3-turbo` adds
`segments: [{start, end, text, temperature, avg_logprob, compression_ratio, no_speech_prob,
words}]` and `transcription_info: {language, duration, ...}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core import validate
from core.errors import ApiError, invalid, missing
from core.exchange import BYTE_ARRAY_LIMIT, Base64Input, ByteList, StreamInput, dumps
from formats import subtitles
from formats.filebytes import Data
from formats.subtitles import Cue
from mapping.catalog import MODELS, Model

TRANSCRIBE = "transcribe"
TRANSLATE = "translate"

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
GRANULARITIES = ("word", "segment")
# OpenAI's list, in its order and wording (an `.oga` file is Ogg).
FILE_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")

# Enough of a file's start for `sniff`; all that is read of an upload sent as a stream.
SNIFF_BYTES = 4096
# The content type an upload is streamed with when its declared one names no audio.
MEDIA_TYPES = {"flac": "audio/flac", "ogg": "audio/ogg", "wav": "audio/wav", "webm": "audio/webm",
               "mp4": "audio/mp4", "mp3": "audio/mpeg"}  # fmt: skip

TEXT_TYPE = "text/plain; charset=utf-8"
VTT_TYPE = "text/vtt; charset=utf-8"
JSON_TYPE = "application/json"

# Whisper's languages (openai/whisper tokenizer.py), ISO-639-1 code -> the name OpenAI reports.
_LANGUAGE_TABLE = (
    "en=english zh=chinese de=german es=spanish ru=russian ko=korean fr=french ja=japanese "
    "pt=portuguese tr=turkish pl=polish ca=catalan nl=dutch ar=arabic sv=swedish "
    "it=italian id=indonesian hi=hindi fi=finnish vi=vietnamese he=hebrew uk=ukrainian "
    "el=greek ms=malay cs=czech ro=romanian da=danish hu=hungarian ta=tamil no=norwegian "
    "th=thai ur=urdu hr=croatian bg=bulgarian lt=lithuanian la=latin mi=maori "
    "ml=malayalam cy=welsh sk=slovak te=telugu fa=persian lv=latvian bn=bengali sr=serbian "
    "az=azerbaijani sl=slovenian kn=kannada et=estonian mk=macedonian br=breton eu=basque "
    "is=icelandic hy=armenian ne=nepali mn=mongolian bs=bosnian kk=kazakh sq=albanian "
    "sw=swahili gl=galician mr=marathi pa=punjabi si=sinhala km=khmer sn=shona yo=yoruba "
    "so=somali af=afrikaans oc=occitan ka=georgian be=belarusian tg=tajik sd=sindhi "
    "gu=gujarati am=amharic yi=yiddish lo=lao uz=uzbek fo=faroese ht=haitian_creole "
    "ps=pashto tk=turkmen nn=nynorsk mt=maltese sa=sanskrit lb=luxembourgish my=myanmar "
    "bo=tibetan tl=tagalog mg=malagasy as=assamese tt=tatar haw=hawaiian ln=lingala "
    "ha=hausa ba=bashkir jw=javanese su=sundanese yue=cantonese"
)
LANGUAGES: dict[str, str] = {
    code: name.replace("_", " ")
    for code, name in (pair.split("=") for pair in _LANGUAGE_TABLE.split())
}
_CODES_BY_NAME = {name: code for code, name in LANGUAGES.items()}


@dataclass(frozen=True)
class Request:
    """The validated form fields of a transcription or translation request (not the file)."""

    task: str
    model: str
    language: str | None  # ISO-639-1
    prompt: str | None
    response_format: str
    temperature: float | None
    granularities: tuple[str, ...]


def _field(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"'{name}' must be a text field, not a file.", name)
    return value.strip() or None


def _language(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.lower().replace("_", "-")
    code = key if key in LANGUAGES else _CODES_BY_NAME.get(key.replace("-", " "))
    if code is None:
        # Region subtags (en-US) name the same whisper language.
        code = key.split("-")[0] if key.split("-")[0] in LANGUAGES else None
    if code is None:
        raise invalid(
            f"Invalid language '{value}'. Language parameter must be specified in ISO-639-1 "
            "format (for example 'en').",
            "language",
            "invalid_value",
        )
    return code


def _temperature(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise invalid(
            f"Invalid type for 'temperature': expected a number, but got '{value}'.",
            "temperature",
        )
    return validate.optional_number({"temperature": number}, "temperature", 0, 1)


def _granularities(values: list[Any]) -> tuple[str, ...]:
    chosen: list[str] = []
    for value in values:
        if not isinstance(value, str) or value.strip() not in GRANULARITIES:
            raise invalid(
                f"Invalid value for 'timestamp_granularities[]': '{value}'. Supported values "
                "are: 'word', 'segment'.",
                "timestamp_granularities[]",
                "invalid_value",
            )
        if value.strip() not in chosen:
            chosen.append(value.strip())
    return tuple(chosen)


def parse_request(form: Mapping[str, Any], task: str, granularities: list[Any]) -> Request:
    """Validate the text fields; `granularities` are every `timestamp_granularities[]` value."""
    model = _field(form, "model")
    if model is None:
        raise missing("model")
    if (_field(form, "stream") or "false").lower() not in ("false", "0"):
        raise invalid("Streaming is not supported for this model.", "stream", "unsupported_value")
    response_format = _field(form, "response_format") or "json"
    validate.one_of({"response_format": response_format}, "response_format", RESPONSE_FORMATS)
    return Request(
        task=task,
        model=model,
        language=_language(_field(form, "language")) if task == TRANSCRIBE else None,
        prompt=_field(form, "prompt"),
        response_format=response_format,
        temperature=_temperature(_field(form, "temperature")),
        granularities=_granularities(granularities),
    )


def sniff(head: bytes) -> str | None:
    """The container of an audio file from its first bytes, or None when unrecognised."""
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"  # EBML: WebM or Matroska
    if head[4:8] == b"ftyp":
        return "mp4"  # ISO media: mp4, m4a
    if head.startswith(b"ID3"):
        return "mp3"
    body = head.lstrip(b"\x00")  # some encoders pad before the first frame
    if len(body) >= 2 and body[0] == 0xFF and body[1] & 0xE0 == 0xE0:
        return "mp3"  # MPEG audio frame sync (mp3, mpga, mpeg; ADTS AAC also syncs here)
    return None


def check_audio(data: bytes) -> str:
    """The container of an uploaded audio file from (at least) its first `SNIFF_BYTES`, or a
    400 in OpenAI's wording."""
    if not data:
        raise invalid("The audio file is empty.", "file", "invalid_value")
    kind = sniff(data[:SNIFF_BYTES])
    if kind is None:
        listed = ", ".join(f"'{f}'" for f in FILE_FORMATS)
        raise invalid(
            f"Invalid file format. Supported formats: [{listed}]",
            "file",
            "invalid_value",
        )
    return kind


def audio_form(model: Model, through_gateway: bool) -> str:
    """How the upload reaches `model`: "stream" (the file as the request body, never read by
    Python), "bytes" (a JSON array of byte values) or "base64" (a string).

    AI Gateway refuses stream inputs (docs/workers-ai.md §1.1), so behind it a stream model gets
    base64, which whisper-large-v3-turbo also takes.
    """
    form = model.params.get("audio") or "base64"
    return "base64" if form == "stream" and through_gateway else form


def base64_reason(model: Model) -> str:
    """Why `audio_form` sends `model` base64 text, for the 413 of a file too large for it."""
    if model.params.get("audio") == "stream":
        return "AI Gateway takes audio only in that form"
    return f"`{model.id}` takes audio only in that form"


# Audio sent as base64 text costs the isolate ≈ 5.6 bytes per audio byte, all of it JavaScript:
# the request body, the text, the binding's JSON of it and that JSON's bytes (a 25 MB file grew
# the local runtime by 127-141 MB, docs/performance.md "Audio behind AI Gateway"). A deployed
# isolate has 128 MB with Pyodide's heap (≈ 30 MB) in it, so a larger file would have the
# isolate killed mid-request; it gets a 413 saying why instead.
BASE64_LIMIT = 15 * 1024 * 1024


def check_base64_size(size: int, reason: str) -> None:
    """A 413 for an upload too large to send as base64 text; `reason` says why it must be."""
    if size > BASE64_LIMIT:
        raise ApiError(
            413,
            f"The audio file is larger than can be sent to Workers AI as base64 text "
            f"({BASE64_LIMIT // (1024 * 1024)} MB): {reason}.",
            "invalid_request_error",
            "file",
            "request_too_large",
        )


def media_type(declared: str, kind: str) -> str:
    """The content type a streamed upload is sent with: the client's when it names audio or
    video (it may be more precise, e.g. `audio/aac`), else the sniffed container's."""
    main = declared.split(";")[0].strip().lower()
    family, _, subtype = main.partition("/")
    if family in ("audio", "video") and subtype:
        return declared.strip()
    return MEDIA_TYPES[kind]


def to_upstream(model: Model, audio: Data | StreamInput, request: Request) -> dict[str, Any]:
    """Workers AI inputs for `model`: the audio in the form the model takes, plus options.

    `audio` is the upload (a `FileBytes` over it; bytes in unit tests), or a `StreamInput` when
    `audio_form` says "stream". `@cf/openai/whisper` and `-tiny-en` take `audio` as an array of
    byte values only, other models the stream or base64 text, with the whisper-large-v3-turbo
    options. The array and the text are made by the adapter in JavaScript from the upload's
    view (`ByteList`, `Base64Input`): the file never enters Python (docs/performance.md,
    "Uploads").
    """
    if model.params.get("audio") == "bytes":
        if isinstance(audio, StreamInput):
            raise TypeError(f"{model.id} takes the audio as bytes, not a stream")
        return {"audio": ByteList(audio)}
    inputs: dict[str, Any] = {
        "audio": audio if isinstance(audio, StreamInput) else Base64Input(audio),
        "task": request.task,
    }
    if request.language:
        inputs["language"] = request.language
    if request.prompt:
        inputs["initial_prompt"] = request.prompt
    return inputs


LARGE_AUDIO_MODEL = "@cf/openai/whisper-large-v3-turbo"  # takes a stream or base64


def for_size(model: Model, size: int, request: Request) -> tuple[Model, Request]:
    """The model that can take an upload of `size` bytes: whisper and whisper-tiny-en take audio
    only as a JSON array of numbers, which cannot fit beyond `BYTE_ARRAY_LIMIT`, so larger files
    go to whisper-large-v3-turbo (keeping tiny-en's English)."""
    if model.params.get("audio") != "bytes" or size <= BYTE_ARRAY_LIMIT:
        return model, request
    language = request.language or model.params.get("language")
    return MODELS[LARGE_AUDIO_MODEL], replace(request, language=language)


def retry_as_base64(inputs: Mapping[str, Any], error: Exception) -> bool:
    """Whether a refused stream-form upload should be sent again as base64: the stream form
    is in workerd's 2026 types but the docs JSON (whisper-large-v3-turbo.json) types `audio`
    as a base64 string only, so a 5006/3010 for the stream form is answered with the form the
    schema documents."""
    return isinstance(inputs.get("audio"), StreamInput) and (
        getattr(error, "code", None) == "invalid_upstream_input"
    )


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0.0


def _words(output: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every timed word, from `words` or from the segments' words."""
    raw = output.get("words")
    if not isinstance(raw, list):
        raw = [
            word
            for segment in output.get("segments") or []
            if isinstance(segment, Mapping)
            for word in segment.get("words") or []
        ]
    words = []
    for word in raw:
        if isinstance(word, Mapping) and str(word.get("word", "")).strip():
            words.append(
                {
                    "word": str(word["word"]).strip(),
                    "start": _number(word.get("start")),
                    "end": _number(word.get("end")),
                }
            )
    return words


def _sentences(words: list[dict[str, Any]]) -> list[Cue]:
    """Cues from timed words, one per sentence (whisper's base models report no segments)."""
    cues: list[Cue] = []
    current: list[dict[str, Any]] = []
    for word in words:
        current.append(word)
        if word["word"].endswith((".", "?", "!", "。", "？", "！")) or len(current) >= 30:
            cues.append(_joined(current))
            current = []
    if current:
        cues.append(_joined(current))
    return cues


def _joined(words: list[dict[str, Any]]) -> Cue:
    return Cue(words[0]["start"], words[-1]["end"], " ".join(w["word"] for w in words))


def _segments(output: Mapping[str, Any], text: str, duration: float) -> list[dict[str, Any]]:
    """Segments as the model reports them, else from its WebVTT, else from its words."""
    raw = output.get("segments")
    if isinstance(raw, list) and raw:
        found = [s for s in raw if isinstance(s, Mapping)]
    else:
        vtt_text = output.get("vtt")
        cues = subtitles.parse_vtt(vtt_text) if isinstance(vtt_text, str) else []
        cues = cues or _sentences(_words(output))
        if not cues and text:
            cues = [Cue(0.0, duration, text)]
        found = [{"start": c.start, "end": c.end, "text": c.text} for c in cues]
    segments = []
    for index, segment in enumerate(found):
        start = _number(segment.get("start"))
        segments.append(
            {
                "id": index,
                "seek": round(start * 100),  # whisper counts seek in 10 ms frames
                "start": start,
                "end": max(start, _number(segment.get("end"))),
                "text": str(segment.get("text") or ""),
                "tokens": [],  # Workers AI does not return token ids
                "temperature": _number(segment.get("temperature")),
                "avg_logprob": _number(segment.get("avg_logprob")),
                "compression_ratio": _number(segment.get("compression_ratio")),
                "no_speech_prob": _number(segment.get("no_speech_prob")),
            }
        )
    return segments


def _duration(output: Mapping[str, Any], segments: list[dict], words: list[dict]) -> float:
    info = output.get("transcription_info")
    if isinstance(info, Mapping) and _number(info.get("duration")) > 0:
        return _number(info["duration"])
    ends = [s["end"] for s in segments] + [w["end"] for w in words]
    return max(ends, default=0.0)


def _language_name(output: Mapping[str, Any], request: Request, model: Model) -> str:
    if request.task == TRANSLATE:
        return "english"  # the language of the text returned
    info = output.get("transcription_info")
    detected = info.get("language") if isinstance(info, Mapping) else None
    code = detected or request.language or model.params.get("language")
    if isinstance(code, str) and code:
        return LANGUAGES.get(code.lower(), code)
    return "unknown"


def render(output: Any, request: Request, model: Model) -> tuple[str, str]:
    """The response body and its content type for `request.response_format`."""
    if not isinstance(output, Mapping) or not isinstance(output.get("text"), str):
        raise ValueError("whisper answered without `text`")
    text = output["text"].strip()
    fmt = request.response_format
    if fmt == "json":
        return dumps({"text": text}), JSON_TYPE
    if fmt == "text":
        return text + "\n", TEXT_TYPE
    words = _words(output)
    segments = _segments(output, text, _duration(output, [], words))
    if fmt in ("srt", "vtt"):
        cues = [Cue(s["start"], s["end"], s["text"]) for s in segments]
        if fmt == "srt":
            return subtitles.srt(cues), TEXT_TYPE
        return subtitles.vtt(cues), VTT_TYPE
    duration = _duration(output, segments, words)
    verbose: dict[str, Any] = {
        "task": request.task,
        "language": _language_name(output, request, model),
        "duration": round(duration, 3),
        "text": text,
    }
    # OpenAI's default granularity is the segment; words only when asked for.
    if "segment" in request.granularities or not request.granularities:
        verbose["segments"] = segments
    if "word" in request.granularities and request.task == TRANSCRIBE:
        verbose["words"] = words
    verbose["usage"] = {"type": "duration", "seconds": math.ceil(duration)}
    return dumps(verbose), JSON_TYPE
