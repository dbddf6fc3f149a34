"""POST /translate (DeepLX, for Immersive Translate) and POST /v2/translate (DeepL API), both
answered by Workers AI's m2m100, plus what DeepL clients ask first: /v2/languages and /v2/usage.

Each text is given its source language (as sent, or detected per `langdetect`), cut into
segments (`translation.plan`), and every distinct segment is translated once, at most
CONCURRENCY at a time; the answers are put back in order. Errors are rendered in each API's own
shape by the routes' `render` hooks, so clients that only understand that shape still see them.
The DeepL handlers finish the key check (`_deepl_fields`): DeepL's legacy `auth_key` may be a
body field, which the pipeline does not read.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from core import auth
from core.errors import ApiError, bad_upstream, invalid
from core.exchange import Call, Reply, form_values, json_reply, parse_json_object
from mapping import catalog
from upstream import ai

if TYPE_CHECKING:
    from mapping import translation

# `languages`, `langdetect` and `translation` are imported by the functions that use them, on
# the first translation request, so they add nothing to the cold start of the other routes.

CONCURRENCY = 6  # a Worker may hold six connections open at once; more would only queue
DEFAULT_SEGMENT_TOKENS = 128


async def deeplx(call: Call) -> Reply:
    """DeepLX: `{text, source_lang, target_lang}` -> `{code, id, data, alternatives, ...}`."""
    from formats import languages
    from mapping import translation

    body = await call.json()
    items = translation.texts(body.get("text"), many=False)
    target = translation.language(body.get("target_lang"), "target_lang", allow_auto=False)
    source = translation.language(body.get("source_lang"), "source_lang", allow_auto=True)
    [(detected, text)] = await translate_texts(call, items, source, target)
    return json_reply(
        translation.deeplx_success(
            text, languages.display(detected), languages.display(target), _numeric_id(call)
        )
    )


async def deepl(call: Call) -> Reply:
    """DeepL API v2: query, JSON or form fields -> `{translations: [{detected_source_language,
    text}]}`, with `billed_characters` when `show_billed_characters` is set (DeepL's libraries
    always set it and fail without the number)."""
    from formats import languages
    from mapping import translation

    fields = await _deepl_fields(call)
    items = translation.texts(fields.get("text"), many=True)
    target = translation.language(fields.get("target_lang"), "target_lang", allow_auto=False)
    source = translation.language(fields.get("source_lang"), "source_lang", allow_auto=True)
    billed = translation.flag(fields.get("show_billed_characters"), "show_billed_characters")
    results = await translate_texts(call, items, source, target)
    translations: list[translation.DeepLTranslation] = []
    for original, (detected, text) in zip(items, results, strict=True):
        entry: translation.DeepLTranslation = {
            "detected_source_language": languages.display(detected),
            "text": text,
        }
        if billed:
            entry["billed_characters"] = translation.billed_characters(original)
        translations.append(entry)
    return json_reply({"translations": translations})


async def deepl_languages(call: Call) -> Reply:
    """DeepL's `/v2/languages?type=source|target`: the languages m2m100 translates."""
    from mapping import translation

    fields = await _deepl_fields(call)
    kind = translation.list_kind(fields.get("type"))
    return json_reply(translation.deepl_languages(kind))


async def deepl_usage(call: Call) -> Reply:
    """DeepL's `/v2/usage`: this server keeps no per-key count and enforces no quota."""
    from mapping import translation

    await _deepl_fields(call)
    return json_reply(translation.deepl_usage())


def render_deeplx(err: ApiError) -> Reply:
    """Errors on /translate as DeepLX writes them."""
    from mapping import translation

    return json_reply(translation.deeplx_error(err), err.status)


def render_deepl(err: ApiError) -> Reply:
    """Errors on the /v2/* routes as DeepL writes them."""
    from mapping import translation

    return json_reply(translation.deepl_error(err), translation.deepl_status(err))


async def translate_texts(
    call: Call, texts: list[str], source: str | None, target: str
) -> list[tuple[str, str]]:
    """(source language, translation) for each text, in order."""
    from mapping import translation

    settings = call.settings
    model = catalog.model_for(None, catalog.TRANSLATION, settings)
    budget = float(model.params.get("segment_tokens", DEFAULT_SEGMENT_TOKENS))
    plans: list[tuple[str, list[translation.Part] | None]] = []
    jobs: dict[tuple[str, str], int] = {}  # (segment, source) -> index of its translation
    for index, text in enumerate(texts):
        src, sure = (source, True) if source else _detected(text, index, len(texts), target)
        # A text only guessed to be in the target language still goes to the model: m2m100
        # writes the target language whatever the source code says, so a misjudged
        # "Guten Morgen" -> EN still comes back in English.
        if (src == target and sure) or not translation.has_letters(text):
            plans.append((src, None))  # nothing to translate: no upstream call
            continue
        parts = translation.plan(text, budget)
        for segment, translate in parts:
            if translate:
                jobs.setdefault((segment, src), len(jobs))
        plans.append((src, parts))
    outputs = await _run_all(call, model.id, list(jobs), target)
    results: list[tuple[str, str]] = []
    for text, (src, parts) in zip(texts, plans, strict=True):
        if parts is None:
            results.append((src, text))
            continue
        answers = iter([outputs[jobs[(segment, src)]] for segment, translate in parts if translate])
        results.append((src, translation.assemble(parts, answers)))
    return results


def _detected(text: str, index: int, count: int, target: str) -> tuple[str, bool]:
    """The text's language and whether it is more than a short text's best guess."""
    from formats import langdetect, languages

    found = langdetect.detect(text)
    if found.language == langdetect.NO_TEXT:
        return target, True  # no letters: the text is returned as is
    if found.language:
        return found.language, not found.guessed
    where = f"text[{index}]" if count > 1 else "the text"
    if found.reason == langdetect.UNSUPPORTED_SCRIPT:
        script = "a script" if found.script == "other" else f"the {found.script.title()} script"
        message = (
            f"Cannot translate {where}: it is written in {script}, which the translation model "
            "(m2m100) does not support."
        )
        raise invalid(message, "text", "unsupported_language")
    if found.reason == langdetect.AMBIGUOUS:
        names = ", ".join(languages.name(code) for code in found.candidates[:3])
        names += ", or another language" if len(found.candidates) > 3 else ""
        message = (
            f"Could not tell which language {where} is in (it could be {names}). Set "
            "source_lang to the language of the text."
        )
    else:
        message = (
            f"Could not tell which language {where} is in. Set source_lang to the language "
            "of the text."
        )
    raise invalid(message, "source_lang", "language_not_detected")


async def _run_all(
    call: Call,
    model_id: str,
    jobs: list[tuple[str, str]],
    target: str,
) -> list[str]:
    """Translate every (segment, source) job, CONCURRENCY at a time, answers in job order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(segment: str, source: str) -> str:
        async with gate:
            result = await ai.run(
                call, model_id, {"text": segment, "source_lang": source, "target_lang": target}
            )
        return _translated_text(result)

    results = await asyncio.gather(*(one(*job) for job in jobs), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result  # the first failure in text order decides the answer
    return results  # type: ignore[return-value]


def _translated_text(result: Any) -> str:
    if isinstance(result, dict) and isinstance(result.get("translated_text"), str):
        return result["translated_text"]
    raise bad_upstream("Workers AI answered without a translation.")


async def _deepl_fields(call: Call) -> dict[str, Any]:
    """The DeepL request's fields, once its key is known to be good.

    A key the pipeline did not see may be the body's `auth_key`. A body that cannot be read is
    reported only to a caller with a good key, so no one learns anything without one.
    """
    settings = call.settings
    try:
        body = await _body_fields(call)
    except ApiError:
        auth.check_deepl(settings, call.headers, call.query, {})
        raise
    auth.check_deepl(settings, call.headers, call.query, body)
    return {**_query_fields(call.query), **body}


def _query_fields(query: Mapping[str, str]) -> dict[str, Any]:
    """DeepL accepts every parameter in the query string too; a body field wins over it."""
    fields: dict[str, Any] = dict(query)
    if "text" in query:
        fields["text"] = form_values(query, "text")
    return fields


async def _body_fields(call: Call) -> dict[str, Any]:
    """Fields of a JSON, urlencoded or multipart body, on any method: DeepL's Python library
    sends `GET /v2/languages` with a form body. An empty body has none; `text` may repeat."""
    content_type = call.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await call.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        texts = [value for value in form_values(form, "text") if isinstance(value, str)]
        if texts:
            fields["text"] = texts
        return fields
    raw = await call.raw()  # capped at the route's limit
    if not raw.strip():
        return {}
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if is_json or (not content_type and raw.lstrip().startswith(b"{")):
        return parse_json_object(raw)
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise invalid("The form body is not valid UTF-8.") from None
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key == "text":
            fields.setdefault("text", []).append(value)
        else:
            fields.setdefault(key, value)
    return fields


def _numeric_id(call: Call) -> int:
    # DeepLX answers with a numeric id; derive a stable one from the request id.
    return 1_000_000_000 + zlib.crc32(call.request_id.encode())
