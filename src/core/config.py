"""Settings read from the Worker's vars and secrets (names are part of the public contract)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import ApiError

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class Config:
    """Parsed settings; see README "Configuration"."""

    api_keys: tuple[str, ...] = ()
    allow_anonymous: bool = False
    cors_origins: tuple[str, ...] = ("*",)
    model_aliases: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    image_upload_url: str = ""
    ai_gateway_id: str = ""
    public_base_url: str = ""


# Task -> var naming its default model.
DEFAULT_VARS = {
    "chat": "DEFAULT_CHAT_MODEL",
    "completion": "DEFAULT_COMPLETION_MODEL",
    "embedding": "DEFAULT_EMBEDDING_MODEL",
    "image": "DEFAULT_IMAGE_MODEL",
    "transcription": "DEFAULT_TRANSCRIPTION_MODEL",
    "speech": "DEFAULT_SPEECH_MODEL",
    "translation": "DEFAULT_TRANSLATION_MODEL",
    "moderation": "DEFAULT_MODERATION_MODEL",
}


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _aliases(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        # A broken deployment setting is the operator's error, not the caller's.
        raise ApiError(
            500,
            "MODEL_ALIASES must be a JSON object mapping alias names to model ids.",
            "server_error",
            None,
            "invalid_configuration",
        )
    return value


# Every setting `load` reads (the adapter reads exactly these from `env`).
NAMES = (
    "API_KEYS",
    "ALLOW_ANONYMOUS",
    "CORS_ORIGINS",
    "MODEL_ALIASES",
    "IMAGE_UPLOAD_URL",
    "AI_GATEWAY_ID",
    "PUBLIC_BASE_URL",
    *DEFAULT_VARS.values(),
)

_cache: dict[tuple, Config] = {}


def load(vars: Mapping[str, str]) -> Config:
    """Parse the settings; cached per distinct set of raw values (they rarely change)."""
    raw = tuple(str(vars.get(name) or "") for name in NAMES)
    cached = _cache.get(raw)
    if cached is not None:
        return cached
    values = dict(zip(NAMES, raw, strict=True))
    config = Config(
        api_keys=_split(values["API_KEYS"]),
        allow_anonymous=values["ALLOW_ANONYMOUS"].strip().lower() in TRUE_WORDS,
        cors_origins=_split(values["CORS_ORIGINS"]) or ("*",),
        model_aliases=_aliases(values["MODEL_ALIASES"]),
        defaults={task: values[var].strip() for task, var in DEFAULT_VARS.items() if values[var]},
        image_upload_url=values["IMAGE_UPLOAD_URL"].strip(),
        ai_gateway_id=values["AI_GATEWAY_ID"].strip(),
        public_base_url=values["PUBLIC_BASE_URL"].strip().rstrip("/"),
    )
    _cache.clear()  # one live configuration per isolate; drop stale ones
    _cache[raw] = config
    return config

