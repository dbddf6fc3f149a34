"""Pure helpers of the translation endpoints: language fields, cutting text into model-sized
segments and putting the translations back, and the DeepLX / DeepL wire shapes.

    plan(text, budget)          -> [(literal, False) | (segment, True), ...]
    assemble(parts, outputs)    -> the text with each segment replaced by its translation

Lines are translated one by one (m2m100 drops newlines), a line's surrounding whitespace and
emoji stay as they were (the model tends to drop or move them), and a line over the budget is
cut at sentence ends, then clause marks, then spaces, then anywhere.
"""

from __future__ import annotations

import re
import unicodedata  # built into the interpreter: no cold-start cost
from collections.abc import Iterable, Iterator
from typing import Any, NotRequired, TypedDict

from core.errors import ApiError, invalid, missing
from formats import languages

Part = tuple[str, bool]  # (text, whether it is sent to the model)

MAX_TEXTS = 50  # DeepL's own per-request cap
AUTO = frozenset({"", "auto", "auto-detect", "detect"})

_LINE_BREAK = re.compile(r"(\r\n|\r|\n|\u2028|\u2029)")
# A sentence: text up to an end mark (plus closing quotes/brackets) and the spaces after it.
_SENTENCE = re.compile(r".*?(?:[.!?…]+[\"'”’»)\]]*(?:\s+|$)|[。！？]+[」』”’）]*\s*|$)", re.S)
_CLAUSE = re.compile(r".*?(?:[,;:，、；：]+\s*|$)", re.S)
_WORDS = re.compile(r"\S+\s*")
_CJK_END = "。！？」』）"


class DeepLTranslation(TypedDict):
    """One entry of DeepL's `translations`."""

    detected_source_language: str
    text: str
    billed_characters: NotRequired[int]


class DeepLLanguage(TypedDict):
    """One entry of DeepL's `/v2/languages`; `supports_formality` only in target lists."""

    language: str
    name: str
    supports_formality: NotRequired[bool]


class DeepLUsage(TypedDict):
    """DeepL's `/v2/usage` answer."""

    character_count: int
    character_limit: int


# What `/v2/usage` reports: nothing counted, no limit enforced here. There is no per-key
# accounting; the limit is DeepL's "unlimited" in spirit, large enough that clients comparing
# count against limit before translating always proceed.
UNMETERED_LIMIT = 1_000_000_000_000
LIST_KINDS = ("source", "target")


# Languages and text fields.


def language(value: Any, param: str, *, allow_auto: bool) -> str | None:
    """m2m100's code for a `source_lang`/`target_lang` field; None means auto-detect."""
    if value is None:
        if allow_auto:
            return None
        raise missing(param)
    if not isinstance(value, str):
        raise invalid(f"'{param}' must be a string such as 'EN', 'DE' or 'ZH'.", param)
    if value.strip().lower() in AUTO:
        if allow_auto:
            return None
        raise invalid(
            f"'{param}' must name a language, such as 'EN', 'DE' or 'ZH'.", param, "invalid_value"
        )
    code = languages.lookup(value)
    if code is None:
        raise invalid(
            f"Unsupported {param} '{value.strip()}': the translation model (m2m100) does not "
            f"translate {'from' if param.startswith('source') else 'into'} this language.",
            param,
            "unsupported_language",
        )
    return code


def texts(value: Any, *, many: bool) -> list[str]:
    """The `text` field as a list: one string, or (DeepL) a list of up to MAX_TEXTS strings."""
    if value is None:
        raise missing("text")
    if isinstance(value, str):
        return [value]
    if not many or not isinstance(value, list):
        kind = "a string or an array of strings" if many else "a string"
        raise invalid(f"'text' must be {kind}.", "text")
    if not value:
        raise invalid("'text' must contain at least one string.", "text")
    if len(value) > MAX_TEXTS:
        raise invalid(
            f"'text' has {len(value)} entries; at most {MAX_TEXTS} are allowed per request.",
            "text",
            "too_many_texts",
        )
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid(f"'text[{index}]' must be a string.", "text")
    return value


def flag(value: Any, param: str) -> bool:
    """A boolean DeepL parameter: JSON `true`/`false`, or a form's `1`/`0`/`true`/`false`."""
    if value is None or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "0", "false", ""):
        return value.strip().lower() in ("1", "true")
    raise invalid(f"'{param}' must be true or false.", param, "invalid_value")


def billed_characters(text: str) -> int:
    """What DeepL bills for a text: its length in Unicode code points, spaces and line breaks
    included, also when nothing needed translating."""
    return len(text)


# Segmenting.


def cost(text: str) -> float:
    """Estimated m2m100 tokens: ~4 characters each for alphabetic scripts, 1 per character
    for the rest (CJK, Indic, ...) - deliberately pessimistic."""
    return sum(0.25 if ord(char) < 0x0530 else 1.0 for char in text)


def has_letters(text: str) -> bool:
    """Whether there is anything a translation model could change."""
    return any(char.isalpha() for char in text)


def _is_decoration(char: str) -> bool:
    # Whitespace, emoji and other symbols, their joiners, skin tones and variation selectors.
    if char.isspace():
        return True
    category = unicodedata.category(char)
    return category in ("So", "Sk", "Cf", "Me") or "\ufe00" <= char <= "\ufe0f"


def _trim(line: str) -> tuple[str, str, str]:
    start, end = 0, len(line)
    while start < end and _is_decoration(line[start]):
        start += 1
    while end > start and _is_decoration(line[end - 1]):
        end -= 1
    return line[:start], line[start:end], line[end:]


def _units(text: str, budget: float, patterns: tuple[re.Pattern[str], ...]) -> list[str]:
    """`text` cut into pieces of at most `budget`, each at the coarsest boundary that fits."""
    if cost(text) <= budget:
        return [text]
    if not patterns:
        pieces, current, spent = [], [], 0.0
        for char in text:
            step = cost(char)
            if current and spent + step > budget:
                pieces.append("".join(current))
                current, spent = [], 0.0
            current.append(char)
            spent += step
        return [*pieces, "".join(current)] if current else pieces
    found = [m.group(0) for m in patterns[0].finditer(text) if m.group(0)]
    if len(found) <= 1:
        return _units(text, budget, patterns[1:])
    pieces: list[str] = []
    current = ""
    for unit in found:
        for small in _units(unit, budget, patterns[1:]):
            if current and cost(current + small) > budget:
                pieces.append(current)
                current = ""
            current += small
    if current:
        pieces.append(current)
    return pieces


def plan(text: str, budget: float) -> list[Part]:
    """`text` as literal parts kept as they are and segments to translate, in order."""
    parts: list[Part] = []
    for index, chunk in enumerate(_LINE_BREAK.split(text)):
        if index % 2:  # a line break
            parts.append((chunk, False))
            continue
        head, core, tail = _trim(chunk)
        if not has_letters(core):
            parts.append((chunk, False))
            continue
        parts.append((head, False))
        for piece in _units(core, budget, (_SENTENCE, _CLAUSE, _WORDS)):
            # A piece cut inside a run can start with spaces too; they stay out of the model.
            body = piece.strip()
            lead = piece[: len(piece) - len(piece.lstrip())]
            parts.append((lead, False))
            parts.append((body, has_letters(body)))
            parts.append((piece[len(lead) + len(body) :], False))
        parts.append((tail, False))
    return [part for part in parts if part[0]]


def assemble(parts: Iterable[Part], outputs: Iterator[str]) -> str:
    """The translated text: each segment replaced by the next output, literals kept.

    A space after a segment that now ends in CJK full-width punctuation is dropped, since
    Chinese and Japanese do not put spaces between sentences.
    """
    out: list[str] = []
    previous_translated = ""
    for text, translate in parts:
        if translate:
            previous_translated = next(outputs).strip()
            out.append(previous_translated)
            continue
        if previous_translated and previous_translated[-1] in _CJK_END and text.strip(" ") == "":
            text = ""
        previous_translated = ""
        out.append(text)
    return "".join(out)


# Wire shapes.


def deeplx_success(text: str, source: str, target: str, request_id: int) -> dict[str, Any]:
    """DeepLX's success body."""
    return {
        "code": 200,
        "id": request_id,
        "data": text,
        "alternatives": [],
        "source_lang": source,
        "target_lang": target,
        "method": "Free",
    }


def list_kind(value: Any) -> str:
    """The `type` of a `/v2/languages` request: `source` (the default) or `target`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "source"
    if isinstance(value, str) and value.strip().lower() in LIST_KINDS:
        return value.strip().lower()
    raise invalid("'type' must be 'source' or 'target'.", "type", "invalid_value")


def deepl_languages(kind: str) -> list[DeepLLanguage]:
    """DeepL's language list of every m2m100 language, sorted by code.

    Languages DeepL has are under DeepL's codes and names (`NB`, `Norwegian (Bokmål)`); targets
    list DeepL's variants (`EN-GB`, `PT-BR`, `ZH-HANT`, ...) as DeepL does. No target supports
    formality: m2m100 has no such control and `formality` is ignored.
    """
    target = kind == "target"
    entries: list[DeepLLanguage] = [
        {"language": languages.display(code), "name": languages.deepl_name(code, target=target)}
        for code in languages.M2M100
        if not (target and code in languages.DEEPL_VARIANT_ONLY_TARGETS)
    ]
    if target:
        entries += [
            {"language": variant, "name": variant_name}
            for variant, (_code, variant_name) in languages.DEEPL_TARGET_VARIANTS.items()
        ]
        for entry in entries:
            entry["supports_formality"] = False
    return sorted(entries, key=lambda entry: entry["language"])


def deepl_usage() -> DeepLUsage:
    """`/v2/usage`: no characters counted against a limit no client will reach."""
    return {"character_count": 0, "character_limit": UNMETERED_LIMIT}


def deeplx_error(err: ApiError) -> dict[str, Any]:
    """DeepLX's error body: the HTTP status repeated as `code`."""
    return {"code": err.status, "message": _client_message(err)}


def deepl_status(err: ApiError) -> int:
    """DeepL's status for an error: 403 for auth failures, 456 for an exhausted quota."""
    if err.status == 401:
        return 403
    if err.type == "insufficient_quota":
        return 456
    return err.status


def deepl_error(err: ApiError) -> dict[str, Any]:
    """DeepL's error body."""
    return {"message": _client_message(err)}


def _client_message(err: ApiError) -> str:
    # The pipeline's hint names headers only; these clients mostly use the query string.
    if err.code == "missing_api_key":
        return (
            "You didn't provide an access token. Add `?token=<key>` to the URL, or send "
            "`Authorization: Bearer <key>` or `Authorization: DeepL-Auth-Key <key>`."
        )
    return err.message
