"""Moderation mapping: OpenAI's moderation input to Llama Guard 3 calls and verdicts back.

    parse_input(value)        `input` -> texts, one result each (400s name `input`)
    to_upstream(text)         the Llama Guard conversation for one text
    parse_verdict(answer)     the model's answer -> Verdict
    to_result(verdict)        a Verdict -> one OpenAI moderation result

Llama Guard 3 answers `safe`, or `unsafe` then a line of comma-separated hazard codes
(`unsafe\\nS1,S10`). Through Workers AI that text arrives as `{"response": "..."}`, or, in JSON
mode, as `{"response": {"safe": false, "categories": ["S1"]}}`. `parse_verdict` accepts all of
these and their common variants; `openai_categories` applies the table in docs/moderation.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from core.errors import ApiError, bad_upstream, invalid, missing

# Llama Guard 3's hazard taxonomy (MLCommons AI Safety v0.5 plus S14).
HAZARDS: dict[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}

# OpenAI's moderation categories, in the order of OpenAI's docs.
CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

# Hazard -> the OpenAI categories it sets. S6, S7 and S13 have no OpenAI counterpart: they
# flag the input (Llama Guard said unsafe) without setting a category.
HAZARD_CATEGORIES: dict[str, tuple[str, ...]] = {
    "S1": ("violence", "illicit", "illicit/violent"),
    "S2": ("illicit",),
    "S3": ("sexual", "illicit"),
    "S4": ("sexual", "sexual/minors"),
    "S5": ("harassment",),
    "S6": (),
    "S7": (),
    "S8": ("illicit",),
    "S9": ("violence", "illicit", "illicit/violent"),
    "S10": ("hate",),
    "S11": ("self-harm",),
    "S12": ("sexual",),
    "S13": (),
    "S14": ("illicit",),
}

# "Threatening" variants: the base category together with violence.
_THREATENING = {"harassment/threatening": "harassment", "hate/threatening": "hate"}

_VERDICT = re.compile(r"^[\W_]*(unsafe|safe)\b", re.IGNORECASE)
_CODE = re.compile(r"\bS(\d{1,2})\b", re.IGNORECASE)


def _name_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower().replace("&", "and"))


_NAMES = {_name_key(name): code for code, name in HAZARDS.items()}


@dataclass(frozen=True)
class Verdict:
    """Llama Guard's decision: unsafe or not, and the hazard codes it named (`S1`...)."""

    unsafe: bool
    hazards: tuple[str, ...] = ()


def _unreadable() -> ApiError:
    return bad_upstream(
        "The moderation model returned an answer that is neither 'safe' nor 'unsafe'."
    )


def _hazard(item: str) -> list[str]:
    """Hazard codes named by one category item: `S1`, `s1: Violent Crimes`, `Violent Crimes`."""
    codes = [f"S{int(n)}" for n in _CODE.findall(item)]
    if codes:
        return codes
    key = _name_key(item)
    return [_NAMES[key]] if key in _NAMES else []


def _hazards(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[Any] = re.split(r"[,;\n]", value)
    elif isinstance(value, list):
        items = value
    else:
        items = []
    found: list[str] = []
    for item in items:
        for code in _hazard(str(item)):
            if code not in found:
                found.append(code)
    return tuple(found)


def _from_object(value: dict) -> Verdict:
    categories = value.get("categories", value.get("violated_categories", value.get("hazards")))
    hazards = _hazards(categories)
    safe = value.get("safe")
    if isinstance(safe, bool):
        return Verdict(not safe, hazards if not safe else ())
    for key in ("verdict", "label", "result", "response"):
        if isinstance(value.get(key), str):
            verdict = _from_text(value[key])
            return Verdict(verdict.unsafe, verdict.hazards or (hazards if verdict.unsafe else ()))
    if categories is not None:
        return Verdict(bool(hazards), hazards)
    raise _unreadable()


def _from_text(text: str) -> Verdict:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return _from_object(value)
    match = _VERDICT.match(stripped)
    if match is None:
        raise _unreadable()
    if match.group(1).lower() == "safe":
        return Verdict(False)
    return Verdict(True, _hazards(stripped[match.end() :]))


def parse_verdict(output: Any) -> Verdict:
    """Llama Guard's verdict from a Workers AI result, or a 502 if it cannot be read.

    Accepts `{"response": "safe"}`, `{"response": "unsafe\\nS1,S10"}` (also with spaces, other
    separators or `S1: Violent Crimes`), `{"response": {"safe": false, "categories": [...]}}`,
    the same object as a JSON string, a bare string, and a Chat Completions result.
    """
    if isinstance(output, dict):
        if "response" in output:
            output = output["response"]
        elif isinstance(output.get("choices"), list) and output["choices"]:
            choice = output["choices"][0]
            message = choice.get("message") if isinstance(choice, dict) else None
            output = message.get("content") if isinstance(message, dict) else None
    if isinstance(output, str):
        return _from_text(output)
    if isinstance(output, dict):
        return _from_object(output)
    raise _unreadable()


def openai_categories(verdict: Verdict) -> dict[str, bool]:
    """Every OpenAI category key, set from the verdict's hazards (docs/moderation.md)."""
    flagged = {c for code in verdict.hazards for c in HAZARD_CATEGORIES.get(code, ())}
    for threatening, base in _THREATENING.items():
        if base in flagged and "violence" in flagged:
            flagged.add(threatening)
    return {category: category in flagged for category in CATEGORIES}


MAX_INPUTS = 32  # one Llama Guard call each; keeps a request within Workers' subrequest budget


_TEXT_ONLY = {category: ["text"] for category in CATEGORIES}


def _type_error() -> Exception:
    return invalid(
        "Invalid type for 'input': expected a string, an array of strings, or an array of "
        "text input objects.",
        "input",
    )


def _parts_text(parts: list) -> str:
    """One input made of OpenAI's multi-modal parts; only text parts can be moderated here."""
    texts: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            raise _type_error()
        if part.get("type") == "image_url":
            raise invalid(
                "Image inputs are not supported: the moderation model (Llama Guard 3) reads "
                "text only.",
                "input",
                "unsupported_input",
            )
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise invalid('Each input object must be {"type": "text", "text": "..."}.', "input")
        texts.append(part["text"])
    return "\n".join(texts)


def parse_input(value: Any) -> list[str]:
    """The texts to moderate: a string, an array of strings (one result each), or an array of
    `{"type": "text"}` parts (one result for all of them)."""
    if value is None:
        raise missing("input")
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise _type_error()
    if not value:
        raise invalid("'input' must not be an empty array.", "input")
    if all(isinstance(v, dict) for v in value):
        return [_parts_text(value)]
    if not all(isinstance(v, str) for v in value):
        raise _type_error()
    if len(value) > MAX_INPUTS:
        raise invalid(
            f"'input' has {len(value)} items; at most {MAX_INPUTS} are allowed per request.",
            "input",
            "invalid_value",
        )
    return value


def to_upstream(text: str) -> dict:
    """Llama Guard classifies the last message; a user turn asks it to judge a prompt."""
    return {"messages": [{"role": "user", "content": text}]}


def to_result(verdict: Verdict) -> dict:
    """One OpenAI moderation result, plus the Llama Guard hazard codes as `hazard_categories`."""
    categories = openai_categories(verdict)
    return {
        "flagged": verdict.unsafe,
        "categories": categories,
        "category_scores": {k: 1.0 if v else 0.0 for k, v in categories.items()},
        "category_applied_input_types": {k: list(v) for k, v in _TEXT_ONLY.items()},
        "hazard_categories": list(verdict.hazards),
    }
