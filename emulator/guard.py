"""Llama Guard 3 (`@cf/meta/llama-guard-3-8b`): classify the last message of a conversation.

Output is `{"response": "safe"}` or `{"response": "unsafe\\nS1,S10"}` (Llama Guard 3's format:
verdict, newline, comma-separated hazard categories); with `response_format` JSON it is
`{"response": {"safe": false, "categories": ["S1"]}}`. Categories are triggered by the words in
TRIGGERS (whole words, case-insensitive), documented in emulator/README.md.
"""

from __future__ import annotations

import re

from emulator import schema
from emulator.calls import Call, Json, Result, Stream
from emulator.sse import DONE, Padder, event
from emulator.text import check_context, content_text, pieces, prompt_tokens

# Llama Guard 3 hazard taxonomy (MLCommons): S1..S14, with the words that trigger each here.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "S1": ("kill", "murder", "assault"),  # violent crimes
    "S2": ("steal", "fraud", "burglary"),  # non-violent crimes
    "S3": ("trafficking",),  # sex-related crimes
    "S4": ("grooming",),  # child sexual exploitation
    "S5": ("defame", "libel"),  # defamation
    "S6": ("diagnose", "dosage"),  # specialized advice
    "S7": ("doxx", "ssn"),  # privacy
    "S8": ("pirate", "torrent"),  # intellectual property
    "S9": ("bomb", "bioweapon", "nerve-agent"),  # indiscriminate weapons
    "S10": ("hate", "slur"),  # hate
    "S11": ("suicide", "self-harm"),  # suicide and self-harm
    "S12": ("explicit", "porn"),  # sexual content
    "S13": ("ballot-stuffing", "voter-fraud"),  # elections
    "S14": ("rm -rf", "exploit"),  # code interpreter abuse
}

INPUT_SCHEMA = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"enum": ["user", "assistant"]},
                    "content": {"type": "string"},
                },
            },
        },
        "max_tokens": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number", "minimum": 0, "maximum": 5},
        "stream": {"type": "boolean"},
        "response_format": {
            "type": "object",
            "properties": {"type": {"enum": ["json_object", "json_schema"]}},
        },
    },
}


def categories(text: str) -> list[str]:
    """The hazard categories whose trigger words occur in `text`."""
    lowered = text.lower()
    found = []
    for code, words in TRIGGERS.items():
        if any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", lowered) for w in words):
            found.append(code)
    return found


def run_guard(call: Call) -> Result:
    """Classify the last message; JSON verdict object when `response_format` asks for JSON."""
    inputs = call.inputs
    schema.validate(inputs, INPUT_SCHEMA)
    messages = inputs["messages"]
    used = prompt_tokens(messages)
    max_tokens = inputs.get("max_tokens", 256)
    check_context(call.model, used, max_tokens)
    found = categories(content_text(messages[-1].get("content")))
    usage = {"prompt_tokens": used, "completion_tokens": 1 + len(found)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if isinstance(inputs.get("response_format"), dict):
        return Json({"response": {"safe": not found, "categories": found}, "usage": usage})
    verdict = f"unsafe\n{','.join(found)}" if found else "safe"
    if inputs.get("stream") is not True:
        return Json({"response": verdict, "usage": usage})
    pad = Padder(call.seed)
    events = [event(pad({"response": t})) for t in pieces(verdict)]
    events += [event({"response": "", "usage": usage}), DONE]
    return Stream(events)
