"""Llama Guard 3 verdicts: reading the model's answer and mapping its hazards to OpenAI's.

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

from core.errors import ApiError

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
    return ApiError(
        502,
        "The moderation model returned an answer that is neither 'safe' nor 'unsafe'.",
        "api_error",
        None,
        "upstream_error",
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
