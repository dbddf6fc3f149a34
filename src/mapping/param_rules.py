"""Per-model sampling ranges Workers AI enforces (5006 outside them), and the mapping of OpenAI's
wider ranges onto them.

The numbers are the published model schemas (cloudflare/cloudflare-docs
`src/content/workers-ai-models/<model>.json`, file and commit per model in
`emulator/published_rules.json`, which the emulator validates with; a unit test keeps this table
equal to it). A model missing here (no published rules, or an id outside the catalog) gets
OpenAI's ranges passed through unchanged: Workers AI decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Range = tuple[float, float]

_WIDE: dict[str, Range] = {  # llama-3.1/3.2, llama-4, mistral-small, qwen2.5-coder schemas
    "temperature": (0, 5),
    "top_p": (0, 2),
    "top_k": (1, 50),
    "seed": (1, 9999999999),
    "repetition_penalty": (0, 2),
    "frequency_penalty": (0, 2),
    "presence_penalty": (0, 2),
}
_NARROW: dict[str, Range] = {  # llama-3.3-70b, deepseek-r1-distill, gpt-oss (native branch)
    **_WIDE,
    "top_p": (0.001, 1),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
}
_CHAT_COMPLETIONS: dict[str, Range] = {  # gemma-4 / kimi Chat Completions input
    "temperature": (0, 2),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
}

RANGES: dict[str, Mapping[str, Range]] = {
    "@cf/meta/llama-3.1-8b-instruct-fast": _WIDE,
    "@cf/meta/llama-3.1-8b-instruct-fp8": _WIDE,
    "@cf/meta/llama-3.2-1b-instruct": _WIDE,
    "@cf/meta/llama-3.2-3b-instruct": _WIDE,
    "@cf/meta/llama-3.2-11b-vision-instruct": _WIDE,
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast": _NARROW,
    "@cf/meta/llama-4-scout-17b-16e-instruct": _WIDE,
    "@cf/mistralai/mistral-small-3.1-24b-instruct": _WIDE,
    "@cf/qwen/qwen2.5-coder-32b-instruct": _WIDE,
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b": _NARROW,
    "@cf/qwen/qwq-32b": {},
    "@cf/ibm-granite/granite-4.0-h-micro": {},
    "@cf/openai/gpt-oss-120b": _NARROW,
    "@cf/openai/gpt-oss-20b": _NARROW,
    "@cf/qwen/qwen3-30b-a3b-fp8": _NARROW,  # its stored schema is the native one
    "@cf/aisingapore/gemma-sea-lion-v4-27b-it": _NARROW,  # likewise
    "@cf/zai-org/glm-4.7-flash": _CHAT_COMPLETIONS,  # glm-4.7-flash.json @ 285ad23: temp 0..2
    "@cf/nvidia/nemotron-3-120b-a12b": _CHAT_COMPLETIONS,  # nemotron-3-120b-a12b.json @ 05b5f46
    "@cf/google/gemma-4-26b-a4b-it": _CHAT_COMPLETIONS,
    "@cf/moonshotai/kimi-k2.6": _CHAT_COMPLETIONS,  # kimi-k2.6.json @ 05b5f46: temperature 0..2
}


def fit(model_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` (already valid in OpenAI's ranges) clamped into the model's published ranges.

    Clamping keeps the meaning as far as the model can: a negative penalty (OpenAI allows -2..2)
    becomes 0, "no penalty", on models whose schema says 0..2; top_p 0 ("greedy") becomes the
    smallest top_p the model takes.
    """
    ranges = RANGES.get(model_id, {})
    out = dict(values)
    for name, (low, high) in ranges.items():
        value = out.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = min(max(value, low), high)
    return out
