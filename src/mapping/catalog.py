"""The model catalog: what each supported Workers AI model does, its limits, and OpenAI aliases.

`resolve(name, task, config)` turns what a client sent into a `Model`:
  MODEL_ALIASES (config) -> built-in aliases -> removed ids' successors -> catalog ids ->
  any other `@cf/...`/`@hf/...` id as-is (Workers AI decides) -> 404.
Facts come from docs/workers-ai.md (schemas, context windows, §9 removals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from core.config import Config
from core.errors import ApiError, invalid, model_not_found

# Tasks, named for the endpoint family that serves them.
CHAT = "chat"
EMBEDDING = "embedding"
IMAGE = "image"
TRANSCRIPTION = "transcription"
SPEECH = "speech"
TRANSLATION = "translation"
MODERATION = "moderation"

# Text output families (docs/workers-ai.md §1.5).
NATIVE = "native"  # {response, tool_calls, usage}
OPENAI = "openai"  # chat.completion / chat.completion.chunk
RESPONSES = "responses"  # gpt-oss: Responses `output[]` (or chat.completion for `messages`)

# Shown as `created` in /v1/models: the catalog's revision date (2026-11-30 UTC).
CATALOG_CREATED = 1795996800


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


# Image-model settings a catalog entry does not override (see `_image`).
IMAGE_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "input": "json",
        "sizes": (256, 2048),
        "default_size": (1024, 1024),
        "size_multiple": 1,
        "steps": None,
        "quality_steps": {},
        "options": (),
        "guidance": (0.0, 30.0),
        "edit": None,
        "max_prompt": 0,
    }
)


def _image(id: str, **params: Any) -> Model:
    """An image model; `params` are the facts `handlers/images.py` maps OpenAI fields onto:

    input: "json" | "multipart" (flux-2 takes one multipart form); sizes: (min, max) pixels per
    side, or None when the output size is fixed at `default_size`; size_multiple: sides must
    divide by it; steps: the step field name or None (fixed steps); quality_steps: steps sent
    for OpenAI's `quality` low/high (others leave the model's default); options: optional
    inputs the schema has (only those are sent); guidance: its range; edit: "img2img" |
    "inpaint" for `/v1/images/edits`; max_prompt: characters the schema accepts.
    """
    return Model(id, IMAGE, params=MappingProxyType({**IMAGE_DEFAULTS, **params}))


# Stable Diffusion family (docs/workers-ai.md §4.1): one schema; sides divide by 8 (the VAE's
# factor).
_SD: dict[str, Any] = {
    "size_multiple": 8,
    "steps": "num_steps",
    "quality_steps": {"low": 10, "high": 20},
    "options": ("seed", "negative_prompt", "guidance"),
}


# flux-2 (§4.2): one multipart form; the size range is not documented, 1920 is a safe bound.
_FLUX2: dict[str, Any] = {"input": "multipart", "sizes": (256, 1920), "size_multiple": 16}


def _asr(id: str, **params: Any) -> Model:
    """A speech-recognition model; `audio`: how it takes the upload ("bytes": a JSON array of
    byte values, "base64": a base64 string, "stream": `{body, contentType}`, base64 through AI
    Gateway), `translate`: has `task: "translate"`, `language`: the only language it knows
    (None: many)."""
    base: dict[str, Any] = {"audio": "base64", "translate": False, "language": None}
    base.update(params)
    return Model(id, TRANSCRIPTION, params=MappingProxyType(base))


# OpenAI's voice names (the `openai` SDK's list).
OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
    "marin", "cedar",
)  # fmt: skip


def _tts(id: str, **params: Any) -> Model:
    """A text-to-speech model; `tts`: "melotts" | "aura" (input shape), `formats`: the OpenAI
    response formats it really produces, `voices`: OpenAI voice -> speaker, `speakers`: its
    own speaker names, `languages`: melotts' languages (it has one voice per language)."""
    formats = ("mp3", "opus", "aac", "flac", "wav", "pcm")
    base: dict[str, Any] = {"openai_voices": OPENAI_VOICES, "formats": formats}
    base.update(params)
    return Model(id, SPEECH, params=MappingProxyType(base))


def _aura(id: str, speakers: tuple[str, ...], voices: tuple[str, ...]) -> Model:
    """A Deepgram aura model; `voices` are the speakers OPENAI_VOICES map to, in that order
    (chosen to match gender and tone)."""
    mapping = MappingProxyType(dict(zip(OPENAI_VOICES, voices, strict=True)))
    return _tts(id, tts="aura", speakers=speakers, voices=mapping)


# Deepgram aura speakers (docs/workers-ai.md §7; aura-2-en: the `speaker` enum of cloudflare-docs
# aura-2-en.json @ 14f349e28b55b97ff69c930b10a38950469b7df0, 40 names, no "selene") and the ones
# OpenAI's voices map to, in order.
_AURA_1 = (
    "angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna", "zeus", "perseus",
    "helios", "hera", "stella",
)  # fmt: skip
_AURA_1_VOICES = (
    "asteria", "arcas", "angus", "luna", "orion", "helios", "zeus", "stella", "athena", "hera",
    "orpheus", "luna", "perseus",
)  # fmt: skip
_AURA_2_EN = (
    "amalthea", "andromeda", "apollo", "arcas", "aries", "asteria", "athena", "atlas", "aurora",
    "callista", "cora", "cordelia", "delia", "draco", "electra", "harmonia", "helena", "hera",
    "hermes", "hyperion", "iris", "janus", "juno", "jupiter", "luna", "mars", "minerva",
    "neptune", "odysseus", "ophelia", "orion", "orpheus", "pandora", "phoebe", "pluto",
    "saturn", "thalia", "theia", "vesta", "zeus",
)  # fmt: skip
_EN_VOICES = (
    "asteria", "arcas", "draco", "cora", "orion", "hyperion", "zeus", "luna", "athena",
    "thalia", "orpheus", "helena", "apollo",
)  # fmt: skip
_AURA_2_ES = (
    "sirio", "nestor", "carina", "celeste", "alvaro", "diana", "aquila", "selena", "estrella",
    "javier",
)  # fmt: skip
_ES_VOICES = (
    "celeste", "alvaro", "nestor", "carina", "sirio", "aquila", "javier", "diana", "selena",
    "estrella", "alvaro", "carina", "sirio",
)  # fmt: skip


MODELS: dict[str, Model] = {
    m.id: m
    for m in (
        # Text generation (§2, §9.3, §10).
        _chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000, tools=True),
        _chat("@cf/meta/llama-3.1-8b-instruct-fast", 128000, tools=True),
        _chat("@cf/meta/llama-3.1-8b-instruct-fp8", 32000, tools=True),
        _chat("@cf/meta/llama-3.2-1b-instruct", 60000),
        # llama-3.2-1b/3b/11b publish no context_window, only maxLength 131072 characters per prompt
        # or message (cloudflare-docs llama-3.2-3b-instruct.json @ 33c66007); 128000 is Meta's
        # window and what the emulator uses.
        _chat("@cf/meta/llama-3.2-3b-instruct", 128000),
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
        # gemma-4: context_window 256000 (cloudflare-docs gemma-4-26b-a4b-it.json @ 8082244b).
        _chat("@cf/google/gemma-4-26b-a4b-it", 256000, 4096, OPENAI, tools=True, vision=True),
        # nemotron: context_window 256000 (cloudflare-docs nemotron-3-120b-a12b.json @ 05b5f46c).
        _chat("@cf/nvidia/nemotron-3-120b-a12b", 256000, 8192, OPENAI, tools=True, reasoning=True),
        _chat("@cf/aisingapore/gemma-sea-lion-v4-27b-it", 128000, 4096, OPENAI),
        _chat("@cf/ibm-granite/granite-4.0-h-micro", 131000, tools=True),
        # kimi-k2.6: property vision=true (cloudflare-docs kimi-k2.6.json @ 05b5f46c).
        _chat(
            "@cf/moonshotai/kimi-k2.6",
            262144,
            8192,
            OPENAI,
            tools=True,
            reasoning=True,
            vision=True,
        ),
        # Embeddings (§3).
        Model("@cf/baai/bge-small-en-v1.5", EMBEDDING, dimensions=384, max_batch=100),
        Model("@cf/baai/bge-base-en-v1.5", EMBEDDING, dimensions=768, max_batch=100),
        Model("@cf/baai/bge-large-en-v1.5", EMBEDDING, dimensions=1024, max_batch=100),
        Model("@cf/baai/bge-m3", EMBEDDING, dimensions=1024, max_batch=100),
        # `dimensions` params: the shorter sizes a Matryoshka-trained model keeps meaningful.
        Model(
            "@cf/google/embeddinggemma-300m",
            EMBEDDING,
            dimensions=768,
            max_batch=100,
            params=MappingProxyType({"dimensions": (128, 256, 512)}),
        ),
        Model(
            "@cf/qwen/qwen3-embedding-0.6b",
            EMBEDDING,
            dimensions=1024,
            max_batch=32,
            params=MappingProxyType({"dimensions": range(32, 1025)}),
        ),
        # Image generation (§4).
        # flux-1-schnell: additionalProperties false, so only prompt and steps; fixed 1024².
        _image(
            "@cf/black-forest-labs/flux-1-schnell",
            sizes=None,
            steps="steps",
            quality_steps={"low": 2, "high": 8},
            max_prompt=2048,
        ),
        # flux-2: multipart form fields prompt, width, height, steps, guidance; klein runs a
        # fixed 4 steps.
        _image(
            "@cf/black-forest-labs/flux-2-dev",
            **_FLUX2,
            steps="steps",
            quality_steps={"low": 10, "high": 50},
            options=("guidance",),
        ),
        _image("@cf/black-forest-labs/flux-2-klein-4b", **_FLUX2),
        _image("@cf/black-forest-labs/flux-2-klein-9b", **_FLUX2),
        _image(
            "@cf/leonardo/phoenix-1.0",
            sizes=(64, 2048),
            steps="num_steps",
            quality_steps={"low": 12, "high": 50},
            options=("seed", "negative_prompt", "guidance"),
            guidance=(2.0, 10.0),
        ),
        _image(
            "@cf/leonardo/lucid-origin",
            sizes=(64, 2500),
            default_size=(1120, 1120),
            steps="num_steps",
            quality_steps={"low": 10, "high": 40},
            options=("seed", "guidance"),
            guidance=(0.0, 10.0),
        ),
        _image("@cf/stabilityai/stable-diffusion-xl-base-1.0", **_SD),
        _image("@cf/bytedance/stable-diffusion-xl-lightning", **_SD),
        _image("@cf/lykon/dreamshaper-8-lcm", default_size=(512, 512), **_SD),
        _image(
            "@cf/runwayml/stable-diffusion-v1-5-img2img",
            default_size=(512, 512),
            edit="img2img",
            **_SD,
        ),
        _image(
            "@cf/runwayml/stable-diffusion-v1-5-inpainting",
            default_size=(512, 512),
            edit="inpaint",
            **_SD,
        ),
        # Speech recognition (§5).
        _asr("@cf/openai/whisper", audio="bytes"),
        _asr("@cf/openai/whisper-tiny-en", audio="bytes", language="en"),
        _asr("@cf/openai/whisper-large-v3-turbo", audio="stream", translate=True),
        # Text to speech (§7).
        _tts(
            "@cf/myshell-ai/melotts",
            tts="melotts",
            formats=("mp3",),
            languages=("en", "es", "fr", "zh", "jp", "kr"),
        ),
        _aura("@cf/deepgram/aura-1", _AURA_1, _AURA_1_VOICES),
        _aura("@cf/deepgram/aura-2-en", _AURA_2_EN, _EN_VOICES),
        _aura("@cf/deepgram/aura-2-es", _AURA_2_ES, _ES_VOICES),
        # Translation (§6) and moderation.
        # segment_tokens: estimated tokens per call; longer text is cut at sentence ends.
        Model(
            "@cf/meta/m2m100-1.2b", TRANSLATION, params=MappingProxyType({"segment_tokens": 128})
        ),
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

# Ids Cloudflare removed (2025-10-01, 2026-05-30; docs/workers-ai.md §9.1) -> documented successor.
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


# Families whose models take and answer Chat Completions (workers-ai.md §1.5, §2.3; workerd
# types/defines/ai.d.ts types them `ChatCompletionsInput`). An id of theirs outside the catalog
# still gets OpenAI's request shape, e.g. the `{name, schema}` envelope for `json_schema`.
CHAT_COMPLETIONS_FAMILIES = (
    "@cf/zai-org/",
    "@cf/moonshotai/",
    "@cf/nvidia/nemotron",
    "@cf/google/gemma-4",
    "@cf/qwen/qwen3",
    "@cf/aisingapore/",
    "@cf/deepseek-ai/deepseek-v",
)


# gpt-oss and Kimi do not stream on /ai/run: asked to, they answer JSON with an empty result
# (cloudflare/ai packages/workers-ai-provider/CHANGELOG.md 3.1.1, #396 @ 2fb3ca8: "Fix REST
# streaming for models that don't support it on /ai/run/ (GPT-OSS, Kimi) by retrying without
# streaming"). They are called without `stream` and their whole answer is replayed as SSE.
NO_UPSTREAM_STREAM = ("@cf/openai/gpt-oss-", "@cf/moonshotai/kimi-")


def streams_upstream(model: Model) -> bool:
    """Whether `stream: true` may be sent to this model."""
    return not model.id.startswith(NO_UPSTREAM_STREAM)


def _lookup(name: str, config: Config) -> Model | None:
    # A configured alias may name a built-in alias or a removed id.
    target = config.model_aliases.get(name, name)
    target = ALIASES.get(target, target)
    target = REMOVED.get(target, target)
    return MODELS.get(target)


def model_id(name: str, config: Config) -> str:
    """The Workers AI id a model name (id, alias, configured alias, removed id) stands for."""
    model = _lookup(name.strip(), config)
    return model.id if model is not None else config.model_aliases.get(name.strip(), name.strip())


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
        shape = OPENAI if target.startswith(CHAT_COMPLETIONS_FAMILIES) else NATIVE
        return Model(target, task, shape=shape, context_window=0, max_tokens=2048, listed=False)
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


def model_for(name: Any, task: str, config: Config) -> Model:
    """The model an endpoint of `task` runs for `name`: resolved, and refused if of another task."""
    return require_task(resolve(name, task, config), task)


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
