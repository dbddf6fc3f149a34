"""English for `/v1/audio/translations`, whatever the speech model did with `task: translate`.

whisper-large-v3-turbo takes `task: "translate"`, but OpenAI documents that turbo was not
trained for translation and may answer in the spoken language (openai/whisper README: "the
turbo model ... is not trained for translation tasks"). So the transcript is checked: when its
text is not English (langdetect; else the model's `transcription_info.language`), each segment
(or the whole text) is translated into English with the Worker's translation model (m2m100),
segment by segment so subtitle timings still fit. `words` and `vtt` describe the untranslated
speech and are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from core.exchange import Call
from formats import langdetect
from mapping import catalog, translation
from upstream import ai

ENGLISH = "en"


def source_language(output: Mapping[str, Any]) -> str | None:
    """The language of the transcript when it is not English (None: English or no text)."""
    text = str(output.get("text") or "")
    found = langdetect.detect(text)
    if found.language == langdetect.NO_TEXT:
        return None
    code = found.language
    if not code:
        info = output.get("transcription_info")
        code = info.get("language") if isinstance(info, Mapping) else None
    if not isinstance(code, str) or not code or code.lower() == ENGLISH:
        return None
    return code.lower()


async def _to_english(call: Call, model_id: str, text: str, source: str, budget: float) -> str:
    parts = translation.plan(text, budget)
    outputs = []
    for segment, translate in parts:
        if translate:
            result = await ai.run(
                call, model_id, {"text": segment, "source_lang": source, "target_lang": ENGLISH}
            )
            outputs.append(
                str(result.get("translated_text", "")) if isinstance(result, dict) else ""
            )
    return translation.assemble(parts, iter(outputs))


async def english(call: Call, output: Mapping[str, Any]) -> Mapping[str, Any]:
    """`output` with its text (and segments' texts) in English."""
    source = source_language(output)
    if source is None:
        return output
    translator = catalog.model_for(None, catalog.TRANSLATION, call.settings)
    model_id = translator.id
    budget = float(translator.params.get("segment_tokens", 128))
    segments = [s for s in output.get("segments") or [] if isinstance(s, Mapping)]
    texts = [str(s.get("text") or "") for s in segments] or [str(output.get("text") or "")]
    translated = await asyncio.gather(
        *(_to_english(call, model_id, t, source, budget) for t in texts)
    )
    result = {k: v for k, v in output.items() if k not in ("vtt", "words", "segments", "text")}
    if segments:
        result["segments"] = [
            {**s, "text": t, "words": []} for s, t in zip(segments, translated, strict=True)
        ]
    result["text"] = " ".join(t.strip() for t in translated if t.strip())
    return result
