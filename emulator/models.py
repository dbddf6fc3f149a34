"""The emulator's model table: every model id it answers for, its family and its limits.

Independent of the Worker's own tables on purpose: the emulator describes Workers AI, not the
Worker. Sources: docs/workers-ai.md §2–§7 (schemas), §9 (catalog and removals), §10 (context
windows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Model:
    """One model id and what the emulator needs to answer like it."""

    id: str
    family: str  # native | chat | gpt-oss | guard | embedding | image | asr | translation | tts
    variant: str = ""  # family-specific flavour, e.g. "sd", "flux1", "whisper", "aura"
    context_window: int = 0
    max_tokens_default: int = 256
    vision: bool = False
    reasoning: bool = False  # chat-shaped models that emit reasoning_content
    think_inline: bool = False  # native models whose response has "...</think>" with no <think>
    tool_style: str = "flat"  # native tool_calls: flat {name, arguments} or nested {id, function}
    paid_only: bool = False  # 5035 on Workers Free
    # gpt-oss and Kimi do not stream on /ai/run: they answer JSON, with an empty result when
    # `stream: true` was sent (cloudflare/ai packages/workers-ai-provider/CHANGELOG.md 3.1.1,
    # #396 @ 2fb3ca8: "Fix REST streaming for models that don't support it on /ai/run/
    # (GPT-OSS, Kimi) by retrying without streaming"). Quirk `unstreamed_models` picks SSE.
    streams: bool = True
    # License terms the account must accept once with `{"prompt": "agree"}`; until then 5016
    # `User has not agreed to Llama3.2 model terms` (docs errors.mdx; workers-ai.md §1.3, §9.2).
    terms: str = ""
    dims: int = 0
    max_items: int = 100
    default_size: int = 1024
    speakers: tuple[str, ...] = field(default_factory=tuple)
    default_speaker: str = ""


def _native(mid: str, ctx: int, **kw: object) -> Model:
    return Model(mid, "native", context_window=ctx, **kw)  # type: ignore[arg-type]


def _chat(mid: str, ctx: int, **kw: object) -> Model:
    # Chat Completions models document no max_tokens default; 4096 is generous but finite.
    kw.setdefault("max_tokens_default", 4096)
    return Model(mid, "chat", context_window=ctx, **kw)  # type: ignore[arg-type]


AURA_1_SPEAKERS = (
    "angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna", "zeus", "perseus",
    "helios", "hera", "stella",
)  # fmt: skip
# Input rules extracted from the published model schemas (cloudflare-docs, file and commit per
# model inside the file): sampling ranges, context windows, maxLength. The Worker's
# src/mapping/param_rules.py is kept equal to it by a unit test.
PUBLISHED: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).with_name("published_rules.json")).read_text(encoding="utf-8")
)["models"]


# aura-2-en: the published `speaker` enum (aura-2-en.json @ 14f349e2: 40 names, no "selene").
AURA_2_EN_SPEAKERS: tuple[str, ...] = tuple(PUBLISHED["@cf/deepgram/aura-2-en"]["enums"]["speaker"])
AURA_2_ES_SPEAKERS = (
    "sirio", "nestor", "carina", "celeste", "alvaro", "diana", "aquila", "selena", "estrella",
    "javier",
)  # fmt: skip

_MODELS: list[Model] = [
    # Native text generation: {response, tool_calls, usage}.
    _native("@cf/meta/llama-3.1-8b-instruct-fast", 128000),
    _native("@cf/meta/llama-3.1-8b-instruct-fp8", 32000),
    _native("@cf/meta/llama-3.2-1b-instruct", 60000),
    _native("@cf/meta/llama-3.2-3b-instruct", 128000),
    _native("@cf/meta/llama-3.2-11b-vision-instruct", 128000, vision=True, terms="Llama3.2"),
    _native("@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000),
    _native(
        "@cf/meta/llama-4-scout-17b-16e-instruct",
        131000,
        vision=True,
        tool_style="nested",
    ),
    _native(
        "@cf/mistralai/mistral-small-3.1-24b-instruct",
        128000,
        tool_style="nested",
    ),
    _native("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", 80000, think_inline=True),
    _native("@cf/qwen/qwq-32b", 24000, think_inline=True),
    _native("@cf/qwen/qwen2.5-coder-32b-instruct", 32768),
    _native("@cf/ibm-granite/granite-4.0-h-micro", 131000),
    Model("@cf/meta/llama-guard-3-8b", "guard", context_window=131072),
    # Chat Completions-shaped models.
    _chat("@cf/qwen/qwen3-30b-a3b-fp8", 32768, reasoning=True, max_tokens_default=2000),
    _chat("@cf/qwen/qwen3.8-27b", 262144, reasoning=True),
    _chat("@cf/zai-org/glm-4.7-flash", 131072, reasoning=True),
    _chat("@cf/zai-org/glm-5.3", 131072, reasoning=True),
    _chat("@cf/zai-org/glm-5.3-flash", 131072, reasoning=True),
    _chat("@cf/zai-org/glm-5.2", 131072, reasoning=True, paid_only=True),
    _chat("@cf/google/gemma-4-26b-a4b-it", 131072),
    _chat("@cf/nvidia/nemotron-3-120b-a12b", 131072, reasoning=True),
    _chat("@cf/aisingapore/gemma-sea-lion-v4-27b-it", 128000),
    _chat("@cf/moonshotai/kimi-k2.6", 262144, reasoning=True, paid_only=True, streams=False),
    _chat("@cf/moonshotai/kimi-k2.7-code", 262144, reasoning=True, paid_only=True, streams=False),
    _chat("@cf/deepseek-ai/deepseek-v4-flash-0731", 1048576, reasoning=True, paid_only=True),
    _chat("@cf/deepseek-ai/deepseek-v4-pro-0813", 1048576, reasoning=True, paid_only=True),
    # gpt-oss: Chat Completions with `messages`, Responses API with `input`.
    Model(
        "@cf/openai/gpt-oss-120b", "gpt-oss", context_window=128000, reasoning=True, streams=False
    ),
    Model(
        "@cf/openai/gpt-oss-20b", "gpt-oss", context_window=128000, reasoning=True, streams=False
    ),
    # Embeddings.
    Model("@cf/baai/bge-small-en-v1.5", "embedding", "bge", context_window=512, dims=384),
    Model("@cf/baai/bge-base-en-v1.5", "embedding", "bge", context_window=512, dims=768),
    Model("@cf/baai/bge-large-en-v1.5", "embedding", "bge", context_window=512, dims=1024),
    Model("@cf/baai/bge-m3", "embedding", "bge-m3", context_window=60000, dims=1024),
    Model("@cf/google/embeddinggemma-300m", "embedding", "plain", context_window=2048, dims=768),
    Model("@cf/pfnet/plamo-embedding-1b", "embedding", "plain", context_window=4096, dims=2048),
    Model(
        "@cf/qwen/qwen3-embedding-0.6b",
        "embedding",
        "qwen3",
        context_window=8192,
        dims=1024,
        max_items=32,
    ),
    # Images.
    Model("@cf/stabilityai/stable-diffusion-xl-base-1.0", "image", "sd"),
    Model("@cf/bytedance/stable-diffusion-xl-lightning", "image", "sd"),
    Model("@cf/lykon/dreamshaper-8-lcm", "image", "sd", default_size=512),
    Model("@cf/runwayml/stable-diffusion-v1-5-img2img", "image", "sd-img2img", default_size=512),
    Model("@cf/runwayml/stable-diffusion-v1-5-inpainting", "image", "sd-inpaint", default_size=512),
    Model("@cf/leonardo/phoenix-1.0", "image", "phoenix"),
    Model("@cf/leonardo/lucid-origin", "image", "lucid", default_size=1120),
    Model("@cf/black-forest-labs/flux-1-schnell", "image", "flux1"),
    Model("@cf/black-forest-labs/flux-2-dev", "image", "flux2"),
    Model("@cf/black-forest-labs/flux-2-klein-4b", "image", "flux2"),
    Model("@cf/black-forest-labs/flux-2-klein-9b", "image", "flux2"),
    # Speech recognition.
    Model("@cf/openai/whisper", "asr", "whisper"),
    Model("@cf/openai/whisper-tiny-en", "asr", "whisper"),
    Model("@cf/openai/whisper-large-v3-turbo", "asr", "turbo"),
    # Translation.
    Model("@cf/meta/m2m100-1.2b", "translation", "m2m100"),
    Model("@cf/ai4bharat/indictrans2-en-indic-1B", "translation", "indictrans"),
    # Text to speech.
    Model("@cf/myshell-ai/melotts", "tts", "melotts"),
    Model("@cf/deepgram/aura-1", "tts", "aura", speakers=AURA_1_SPEAKERS, default_speaker="angus"),
    Model(
        "@cf/deepgram/aura-2-en", "tts", "aura", speakers=AURA_2_EN_SPEAKERS, default_speaker="luna"
    ),
    Model(
        "@cf/deepgram/aura-2-es",
        "tts",
        "aura",
        speakers=AURA_2_ES_SPEAKERS,
        default_speaker="sirio",
    ),
]


def published(model_id: str) -> dict[str, Any] | None:
    """The published rules of a model, or None when none were extracted."""
    return PUBLISHED.get(model_id)


def _with_published_window(model: Model) -> Model:
    # The schema's context_window property wins over the table (e.g. gemma-4: 256000).
    window = (PUBLISHED.get(model.id) or {}).get("context_window")
    return replace(model, context_window=window) if window else model


MODELS: dict[str, Model] = {m.id: _with_published_window(m) for m in _MODELS}

# Removed 2025-10-01 and 2026-05-30 (docs/workers-ai.md §9.1): these answer 5007.
REMOVED: frozenset[str] = frozenset(
    {
        "@hf/thebloke/deepseek-coder-6.7b-base-awq",
        "@hf/thebloke/deepseek-coder-6.7b-instruct-awq",
        "@cf/deepseek-ai/deepseek-math-7b-instruct",
        "@cf/thebloke/discolm-german-7b-v1-awq",
        "@cf/tiiuae/falcon-7b-instruct",
        "@hf/thebloke/llama-2-13b-chat-awq",
        "@hf/thebloke/llamaguard-7b-awq",
        "@hf/thebloke/mistral-7b-instruct-v0.1-awq",
        "@hf/thebloke/neural-chat-7b-v3-1-awq",
        "@cf/openchat/openchat-3.5-0106",
        "@hf/thebloke/openhermes-2.5-mistral-7b-awq",
        "@cf/qwen/qwen1.5-0.5b-chat",
        "@cf/qwen/qwen1.5-1.8b-chat",
        "@cf/qwen/qwen1.5-14b-chat-awq",
        "@cf/qwen/qwen1.5-7b-chat-awq",
        "@hf/nexusflow/starling-lm-7b-beta",
        "@cf/tinyllama/tinyllama-1.1b-chat-v1.0",
        "@cf/fblgit/una-cybertron-7b-v2-bf16",
        "@hf/thebloke/zephyr-7b-beta-awq",
        "@hf/meta-llama/meta-llama-3-8b-instruct",
        "@cf/meta/llama-3-8b-instruct",
        "@cf/meta/llama-3-8b-instruct-awq",
        "@cf/meta/llama-3.1-8b-instruct",
        "@cf/meta/llama-3.1-8b-instruct-awq",
        "@cf/meta/llama-3.1-70b-instruct",
        "@cf/meta/llama-2-7b-chat-int8",
        "@cf/meta/llama-2-7b-chat-fp16",
        "@cf/mistral/mistral-7b-instruct-v0.1",
        "@hf/mistral/mistral-7b-instruct-v0.2",
        "@hf/google/gemma-7b-it",
        "@cf/google/gemma-3-12b-it",
        "@hf/nousresearch/hermes-2-pro-mistral-7b",
        "@cf/microsoft/phi-2",
        "@cf/defog/sqlcoder-7b-2",
        "@cf/unum/uform-gen2-qwen-500m",
        "@cf/facebook/bart-large-cnn",
    }
)

# Removed ids that Cloudflare silently serves with another model (§9.1).
ALIASES: dict[str, str] = {"@cf/moonshotai/kimi-k2.5": "@cf/moonshotai/kimi-k2.6"}


def lookup(model_id: str) -> Model | None:
    """The model for an id (following aliases), or None for unknown and removed ids."""
    model_id = ALIASES.get(model_id, model_id)
    if model_id in REMOVED:
        return None
    return MODELS.get(model_id)
