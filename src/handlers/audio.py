"""`/v1/audio/transcriptions`, `/v1/audio/translations` (whisper) and `/v1/audio/speech` (TTS).

Glue only: the mappings are in `transcripts` and `speech`, the subtitles in `subtitles`.
"""

from __future__ import annotations

from typing import Any

from core.errors import ApiError, bad_upstream, invalid, missing, too_large
from core.exchange import Call, Reply, StreamBody, form_values
from formats.filebytes import FileBytes
from mapping import catalog, speech, transcripts
from upstream import ai, audio_english

MAX_AUDIO_BYTES = 25 * 1024 * 1024  # OpenAI's upload limit


async def transcribe(call: Call) -> Reply:
    """Speech to text in the language spoken."""
    return await _recognize(call, transcripts.TRANSCRIBE)


async def translate(call: Call) -> Reply:
    """Speech in any language to English text."""
    return await _recognize(call, transcripts.TRANSLATE)


def _upload(form: Any) -> Any:
    upload = form.get("file")
    if upload is None:
        raise missing("file")
    if isinstance(upload, str) or not hasattr(upload, "bytes"):
        raise invalid("'file' must be an uploaded file (multipart/form-data).", "file")
    if upload.size > MAX_AUDIO_BYTES:
        # Bodies without a Content-Length get past the route's size check; files cannot.
        raise too_large(MAX_AUDIO_BYTES, "The audio file", "file")
    return upload


async def _recognize(call: Call, task: str) -> Reply:
    form = await call.form()
    upload = _upload(form)
    granularities = [
        *form_values(form, "timestamp_granularities[]"),
        *form_values(form, "timestamp_granularities"),
    ]
    request = transcripts.parse_request(form, task, granularities)
    settings = call.settings
    model = catalog.model_for(request.model, catalog.TRANSCRIPTION, settings)
    if task == transcripts.TRANSLATE and model.listed and not model.params.get("translate"):
        raise invalid(
            f"`{model.id}` cannot translate; use `whisper-1` (@cf/openai/whisper-large-v3-turbo).",
            "model",
            "model_not_supported",
        )
    kind = transcripts.check_audio(await upload.head(transcripts.SNIFF_BYTES))
    model, request = transcripts.for_size(model, upload.size, request)
    # Python reads only the file's first bytes: it goes to Workers AI as the request body (a
    # stream), or as base64 text or a number array made in JavaScript.
    form = transcripts.audio_form(model, bool(settings.ai_gateway_id))
    if form == "stream":
        audio = upload.stream(transcripts.media_type(upload.content_type, kind))
    else:
        if form == "base64":
            transcripts.check_base64_size(upload.size, transcripts.base64_reason(model))
        audio = FileBytes(upload)
    inputs = transcripts.to_upstream(model, audio, request)
    try:
        output = await ai.run(call, model.id, inputs)
    except ApiError as error:
        if not transcripts.retry_as_base64(inputs, error):
            raise
        # The stream form was refused (5006/3010): the documented base64 string instead.
        transcripts.check_base64_size(upload.size, "Workers AI refused it as a stream")
        inputs = transcripts.to_upstream(model, FileBytes(upload), request)
        output = await ai.run(call, model.id, inputs)
    if task == transcripts.TRANSLATE and isinstance(output, dict):
        output = await audio_english.english(call, output)
    try:
        body, content_type = transcripts.render(output, request, model)
    except ValueError:
        raise _bad_upstream(model.id) from None
    return Reply(200, body, {"content-type": content_type})


async def create_speech(call: Call) -> Reply:
    """Text to audio bytes (MP3 unless another format is asked for and the model has it)."""
    body = await call.json()
    model_name = body.get("model")
    if model_name is None or model_name == "":
        raise missing("model")
    settings = call.settings
    model = catalog.model_for(model_name, catalog.SPEECH, settings)
    plan = speech.to_upstream(body, model)
    output = await ai.run(call, model.id, plan.inputs)
    headers = {"content-type": plan.content_type}
    if hasattr(output, "read_all"):
        # aura's audio stream goes to the client without passing through Python.
        return Reply(200, StreamBody(output), headers)
    audio = speech.decoded_audio(output)
    if not audio:
        raise _bad_upstream(model.id)
    return Reply(200, audio, headers)


def _bad_upstream(model_id: str) -> ApiError:
    return bad_upstream(
        f"Workers AI answered `{model_id}` in a shape this gateway does not understand."
    )
