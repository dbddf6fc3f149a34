"""The model catalog: what each supported Workers AI model does, its limits, and OpenAI aliases.

`resolve(name, task, config)` turns what a client sent into a `Model`:
  MODEL_ALIASES (config) -> built-in aliases -> removed ids' successors -> catalog ids ->
  any other `@cf/...`/`@hf/...` id as-is (Workers AI decides) -> 404.
Facts come from ../shared/reference/workers-ai.md (schemas, context windows, §9 removals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from config import Config
from errors import ApiError, invalid, model_not_found

# Tasks, named for the endpoint family that serves them.
CHAT = "chat"
EMBEDDING = "embedding"
IMAGE = "image"
TRANSCRIPTION = "transcription"
SPEECH = "speech"
TRANSLATION = "translation"
MODERATION = "moderation"

# Text output families (workers-ai.md §1.5).
NATIVE = "native"  # {response, tool_calls, usage}
OPENAI = "openai"  # chat.completion / chat.completion.chunk
RESPONSES = "responses"  # gpt-oss: Responses `output[]` (or chat.completion for `messages`)

# Shown as `created` in /v1/models: the catalog's revision date (2026-11-30 UTC).
CATALOG_CREATED = 1796083200


@dataclass(frozen=True)
class Model:
    """One Workers AI model as this gateway uses it."""

    id: str
    task: str
    # Text generation.
    shape: str = NATIVE
    context_window: int = 0
    max_tokens: int = 0  # what we send when the client names none (never Workers AI's 256)
    tools: bool = False
    vision: bool = False
    reasoning: bool = False
    # Embeddings.
    dimensions: int = 0
    max_batch: int = 0
    # Family-specific settings (image sizes, audio input form, voices...).
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    listed: bool = True  # False: accepted as-is but not a catalog entry

    @property
    def owned_by(self) -> str:
        """The model's author as in its id (`@cf/<author>/<name>`)."""
        parts = self.id.split("/")
        return parts[1] if len(parts) > 2 else "cloudflare"


def _chat(id: str, ctx: int, max_tokens: int = 4096, shape: str = NATIVE, **kw: Any) -> Model:
    return Model(id, CHAT, shape=shape, context_window=ctx, max_tokens=max_tokens, **kw)


MODELS: dict[str, Model] = {
    m.id: m
    for m in (
        # Text generation (§2, §9.3, §10).
        _chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000, tools=True),
        _chat("@cf/meta/llama-3.1-8b-instruct-fast", 128000, tools=True),
        _chat("@cf/meta/llama-3.1-8b-instruct-fp8", 32000, tools=True),
        _chat("@cf/meta/llama-3.2-1b-instruct", 60000),
        _chat("@cf/meta/llama-3.2-3b-instruct", 80000),
        _chat("@cf/meta/llama-3.2-11b-vision-instruct", 128000, vision=True),
        _chat("@cf/meta/llama-4-scout-17b-16e-instruct", 131000, tools=True, vision=True),
        _chat("@cf/mistralai/mistral-small-3.1-24b-instruct", 128000, tools=True, vision=True),
        _chat("@cf/qwen/qwen2.5-coder-32b-instruct", 32768),
        _chat("@cf/qwen/qwq-32b", 24000, 8192, reasoning=True),
        _chat("@cf/qwen/qwen3-30b-a3b-fp8", 32768, 8192, OPENAI, tools=True, reasoning=True),
        _chat("@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", 80000, 8192, reasoning=True),
        _chat("@cf/openai/gpt-oss-120b", 128000, 8192, RESPONSES, tools=True, reasoning=True),
        _chat("@cf/openai/gpt-oss-20b", 128000, 8192, RESPONSES, tools=True, reasoning=True),
        _chat("@cf/zai-org/glm-4.7-flash", 131072, 8192, OPENAI, tools=True, reasoning=True),
        _chat("@cf/google/gemma-4-26b-a4b-it", 128000, 4096, OPENAI, tools=True, vision=True),
        _chat("@cf/nvidia/nemotron-3-120b-a12b", 128000, 8192, OPENAI, tools=True, reasoning=True),
        _chat("@cf/aisingapore/gemma-sea-lion-v4-27b-it", 128000, 4096, OPENAI),
        _chat("@cf/ibm-granite/granite-4.0-h-micro", 131000, tools=True),
        _chat("@cf/moonshotai/kimi-k2.6", 262144, 8192, OPENAI, tools=True, reasoning=True),
        # Embeddings (§3).
        Model("@cf/baai/bge-small-en-v1.5", EMBEDDING, dimensions=384, max_batch=100),
        Model("@cf/baai/bge-base-en-v1.5", EMBEDDING, dimensions=768, max_batch=100),
        Model("@cf/baai/bge-large-en-v1.5", EMBEDDING, dimensions=1024, max_batch=100),
        Model("@cf/baai/bge-m3", EMBEDDING, dimensions=1024, max_batch=100),
        Model("@cf/google/embeddinggemma-300m", EMBEDDING, dimensions=768, max_batch=100),
        Model("@cf/qwen/qwen3-embedding-0.6b", EMBEDDING, dimensions=1024, max_batch=32),
        # Image generation (§4).
        Model("@cf/black-forest-labs/flux-1-schnell", IMAGE),
        Model("@cf/black-forest-labs/flux-2-dev", IMAGE),
        Model("@cf/black-forest-labs/flux-2-klein-4b", IMAGE),
        Model("@cf/black-forest-labs/flux-2-klein-9b", IMAGE),
        Model("@cf/leonardo/phoenix-1.0", IMAGE),
        Model("@cf/leonardo/lucid-origin", IMAGE),
        Model("@cf/stabilityai/stable-diffusion-xl-base-1.0", IMAGE),
        Model("@cf/bytedance/stable-diffusion-xl-lightning", IMAGE),
        Model("@cf/lykon/dreamshaper-8-lcm", IMAGE),
        Model("@cf/runwayml/stable-diffusion-v1-5-img2img", IMAGE),
        Model("@cf/runwayml/stable-diffusion-v1-5-inpainting", IMAGE),
        # Speech recognition (§5).
        Model("@cf/openai/whisper", TRANSCRIPTION),
        Model("@cf/openai/whisper-tiny-en", TRANSCRIPTION),
        Model("@cf/openai/whisper-large-v3-turbo", TRANSCRIPTION),
        # Text to speech (§7).
        Model("@cf/myshell-ai/melotts", SPEECH),
        Model("@cf/deepgram/aura-1", SPEECH),
        Model("@cf/deepgram/aura-2-en", SPEECH),
        Model("@cf/deepgram/aura-2-es", SPEECH),
        # Translation (§6) and moderation.
        Model("@cf/meta/m2m100-1.2b", TRANSLATION),
        Model("@cf/meta/llama-guard-3-8b", MODERATION, context_window=131072),
    )
}

DEFAULTS: dict[str, str] = {
    CHAT: "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    EMBEDDING: "@cf/baai/bge-m3",
    IMAGE: "@cf/black-forest-labs/flux-1-schnell",
    TRANSCRIPTION: "@cf/openai/whisper-large-v3-turbo",
    SPEECH: "@cf/myshell-ai/melotts",
    TRANSLATION: "@cf/meta/m2m100-1.2b",
    MODERATION: "@cf/meta/llama-guard-3-8b",
}

# OpenAI names -> Workers AI ids. Chosen for capability (vision, tools, reasoning), then price.
ALIASES: dict[str, str] = {
    "gpt-4o": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4.1": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4-turbo": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "gpt-4o-mini": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-4.1-mini": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-4.1-nano": "@cf/meta/llama-3.2-3b-instruct",
    "gpt-3.5-turbo": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-3.5-turbo-instruct": "@cf/meta/llama-3.1-8b-instruct-fast",
    "gpt-5": "@cf/openai/gpt-oss-120b",
    "gpt-5-mini": "@cf/openai/gpt-oss-20b",
    "o1": "@cf/openai/gpt-oss-120b",
    "o3": "@cf/openai/gpt-oss-120b",
    "o3-mini": "@cf/openai/gpt-oss-20b",
    "o4-mini": "@cf/openai/gpt-oss-20b",
    "gpt-oss-120b": "@cf/openai/gpt-oss-120b",
    "gpt-oss-20b": "@cf/openai/gpt-oss-20b",
    "text-embedding-3-small": "@cf/baai/bge-m3",
    "text-embedding-3-large": "@cf/qwen/qwen3-embedding-0.6b",
    "text-embedding-ada-002": "@cf/baai/bge-base-en-v1.5",
    "dall-e-2": "@cf/bytedance/stable-diffusion-xl-lightning",
    "dall-e-3": "@cf/black-forest-labs/flux-1-schnell",
    "gpt-image-1": "@cf/black-forest-labs/flux-2-klein-4b",
    "whisper-1": "@cf/openai/whisper-large-v3-turbo",
    "tts-1": "@cf/myshell-ai/melotts",
    "tts-1-hd": "@cf/deepgram/aura-2-en",
    "gpt-4o-mini-tts": "@cf/deepgram/aura-2-en",
    "omni-moderation-latest": "@cf/meta/llama-guard-3-8b",
    "text-moderation-latest": "@cf/meta/llama-guard-3-8b",
    "text-moderation-stable": "@cf/meta/llama-guard-3-8b",
}

# Ids Cloudflare removed (2025-10-01, 2026-05-30; workers-ai.md §9.1) -> documented successor.
_SMALL = "@cf/meta/llama-3.1-8b-instruct-fast"
_LARGE = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
_CODER = "@cf/qwen/qwen2.5-coder-32b-instruct"
REMOVED: dict[str, str] = {
    "@hf/thebloke/deepseek-coder-6.7b-base-awq": _CODER,
    "@hf/thebloke/deepseek-coder-6.7b-instruct-awq": _CODER,
    "@cf/deepseek-ai/deepseek-math-7b-instruct": _SMALL,
    "@cf/thebloke/discolm-german-7b-v1-awq": _SMALL,
    "@cf/tiiuae/falcon-7b-instruct": _SMALL,
    "@hf/thebloke/llama-2-13b-chat-awq": _SMALL,
    "@hf/thebloke/llamaguard-7b-awq": "@cf/meta/llama-guard-3-8b",
    "@hf/thebloke/mistral-7b-instruct-v0.1-awq": _SMALL,
    "@hf/thebloke/neural-chat-7b-v3-1-awq": _SMALL,
    "@cf/openchat/openchat-3.5-0106": _SMALL,
    "@hf/thebloke/openhermes-2.5-mistral-7b-awq": _SMALL,
    "@cf/qwen/qwen1.5-0.5b-chat": _SMALL,
    "@cf/qwen/qwen1.5-1.8b-chat": _SMALL,
    "@cf/qwen/qwen1.5-14b-chat-awq": _SMALL,
    "@cf/qwen/qwen1.5-7b-chat-awq": _SMALL,
    "@hf/nexusflow/starling-lm-7b-beta": _SMALL,
    "@cf/tinyllama/tinyllama-1.1b-chat-v1.0": _SMALL,
    "@cf/fblgit/una-cybertron-7b-v2-bf16": _SMALL,
    "@hf/thebloke/zephyr-7b-beta-awq": _SMALL,
    "@cf/moonshotai/kimi-k2.5": "@cf/moonshotai/kimi-k2.6",
    "@hf/meta-llama/meta-llama-3-8b-instruct": _SMALL,
    "@cf/meta/llama-3-8b-instruct": _SMALL,
    "@cf/meta/llama-3-8b-instruct-awq": _SMALL,
    "@cf/meta/llama-3.1-8b-instruct": _SMALL,
    "@cf/meta/llama-3.1-8b-instruct-awq": _SMALL,
    "@cf/meta/llama-3.1-70b-instruct": _LARGE,
    "@cf/meta/llama-2-7b-chat-int8": _SMALL,
    "@cf/meta/llama-2-7b-chat-fp16": _SMALL,
    "@cf/mistral/mistral-7b-instruct-v0.1": _SMALL,
    "@hf/mistral/mistral-7b-instruct-v0.2": _SMALL,
    "@hf/google/gemma-7b-it": _SMALL,
    "@cf/google/gemma-3-12b-it": "@cf/google/gemma-4-26b-a4b-it",
    "@hf/nousresearch/hermes-2-pro-mistral-7b": _SMALL,
    "@cf/microsoft/phi-2": _SMALL,
    "@cf/defog/sqlcoder-7b-2": _CODER,
    "@cf/unum/uform-gen2-qwen-500m": "@cf/meta/llama-3.2-11b-vision-instruct",
}

TASK_NAMES = {
    CHAT: "a text-generation",
    EMBEDDING: "an embedding",
    IMAGE: "an image-generation",
    TRANSCRIPTION: "a speech-recognition",
    SPEECH: "a text-to-speech",
    TRANSLATION: "a translation",
    MODERATION: "a moderation",
}


def _lookup(name: str, config: Config) -> Model | None:
    # A configured alias may name a built-in alias or a removed id.
    target = config.model_aliases.get(name, name)
    target = ALIASES.get(target, target)
    target = REMOVED.get(target, target)
    return MODELS.get(target)


def resolve(name: Any, task: str, config: Config, param: str = "model") -> Model:
    """The model to run for `name` on an endpoint of `task` (a default when name is empty).

    A catalog model of another task is returned as is: the endpoint decides whether it can use
    it (chat turns image models into pictures) via `require_task`.
    """
    if name is None or name == "":
        name = config.defaults.get(task) or DEFAULTS[task]
    if not isinstance(name, str):
        raise invalid("`model` must be a string.", param)
    name = name.strip()
    model = _lookup(name, config)
    if model is not None:
        return model
    target = config.model_aliases.get(name, name)
    if target.startswith(("@cf/", "@hf/")):
        # Not in the catalog: let Workers AI decide; limits are conservative.
        return Model(target, task, context_window=0, max_tokens=2048, listed=False)
    raise model_not_found(name)


def require_task(model: Model, task: str, param: str = "model") -> Model:
    """A 400 when the resolved model cannot serve this endpoint."""
    if model.task != task:
        raise ApiError(
            400,
            f"`{model.id}` is {TASK_NAMES[model.task]} model; this endpoint needs "
            f"{TASK_NAMES[task]} model.",
            "invalid_request_error",
            param,
            "model_not_supported",
        )
    return model


def model_entry(id: str, model: Model) -> dict:
    """One `/v1/models` entry in OpenAI's shape, plus the task and, for aliases, the target."""
    entry = {
        "id": id,
        "object": "model",
        "created": CATALOG_CREATED,
        "owned_by": model.owned_by,
        "task": model.task,
    }
    if id != model.id:
        entry["alias_of"] = model.id
    return entry


def listing(config: Config) -> list[dict]:
    """Every catalog model, then every alias (config aliases override built-in ones)."""
    entries = [model_entry(m.id, m) for m in MODELS.values()]
    aliases = {**ALIASES, **config.model_aliases}
    for alias in aliases:
        model = _lookup(alias, config)
        if model is not None and alias not in MODELS:
            entries.append(model_entry(alias, model))
    return entries


def describe(name: str, config: Config) -> dict:
    """The `/v1/models/{id}` entry, or a 404 if nothing serves that name."""
    model = _lookup(name, config)
    if model is None:
        raise model_not_found(name)
    return model_entry(name, model)
