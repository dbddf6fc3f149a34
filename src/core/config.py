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
    # Deadlines (docs/security.md): a Workers AI call, an outbound fetch, a silent stream.
    upstream_timeout_s: float = 120.0
    fetch_timeout_s: float = 15.0
    stream_idle_timeout_s: float = 60.0
    image_url_hosts: tuple[str, ...] = ()  # when set, the only hosts image URLs may name
    max_image_urls: int = 8  # image URLs fetched per request
    key_policies: Mapping[str, KeyPolicy] = field(default_factory=dict)  # by key fingerprint
    responses_ttl_s: int = 30 * 24 * 3600  # how long stored Responses live in KV


@dataclass(frozen=True)
class KeyPolicy:
    """What one API key may do (KEY_POLICIES); absent fields mean no restriction."""

    models: frozenset[str] | None = None  # model names or ids the key may use
    max_tokens: int | None = None  # ceiling on max_tokens / max_output_tokens
    rate_limited: bool = True  # False exempts the key from the RATE_LIMITER binding


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


def _bad_setting(message: str) -> ApiError:
    # A broken deployment setting is the operator's error, not the caller's.
    return ApiError(500, message, "server_error", None, "invalid_configuration")


def _seconds(name: str, raw: str, default: float) -> float:
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise _bad_setting(f"{name} must be a number of seconds between 0 and 3600.")
    return value


def _ttl(raw: str) -> int:
    """RESPONSES_TTL_SECONDS, raised to KV's minimum expiration of 60 s."""
    if not raw.strip():
        return 30 * 24 * 3600
    if not raw.strip().isdigit():
        raise _bad_setting("RESPONSES_TTL_SECONDS must be a whole number of seconds.")
    return max(int(raw), 60)


def _count(name: str, raw: str, default: int) -> int:
    if not raw.strip():
        return default
    if not raw.strip().isdigit() or not 0 < int(raw) <= 1000:
        raise _bad_setting(f"{name} must be a whole number between 1 and 1000.")
    return int(raw)


def _policy(entry: object) -> KeyPolicy | None:
    """One KEY_POLICIES entry, or None when it is malformed."""
    if not isinstance(entry, dict) or not set(entry) <= {"models", "max_tokens", "rate_limit"}:
        return None
    models, cap, limited = entry.get("models"), entry.get("max_tokens"), entry.get("rate_limit")
    if models is not None and not (
        isinstance(models, list) and all(isinstance(m, str) for m in models)
    ):
        return None
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        return None
    if limited is not None and not isinstance(limited, bool):
        return None
    return KeyPolicy(frozenset(models) if models is not None else None, cap, limited is not False)


def _policies(raw: str) -> dict[str, KeyPolicy]:
    """KEY_POLICIES: `{"<key fingerprint>": {"models": [...], "max_tokens": n,
    "rate_limit": false}}` (fingerprints from `auth.fingerprint`, never keys)."""
    value = _json_setting(raw)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad_setting("KEY_POLICIES must be a JSON object keyed by key fingerprint.")
    policies = {}
    for fingerprint, entry in value.items():
        policy = _policy(entry)
        if policy is None:
            raise _bad_setting(
                f"KEY_POLICIES[{fingerprint!r}] must be an object with optional 'models' (a list "
                "of model names), 'max_tokens' (a positive integer) and 'rate_limit' (a boolean)."
            )
        policies[fingerprint] = policy
    return policies


_UNPARSABLE = object()


def _json_setting(raw: str) -> object:
    """A JSON setting's value: None when unset, `_UNPARSABLE` (never a dict) when broken."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _UNPARSABLE


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _aliases(raw: str) -> dict[str, str]:
    value = _json_setting(raw)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _bad_setting("MODEL_ALIASES must be a JSON object mapping alias names to model ids.")
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
    "UPSTREAM_TIMEOUT_S",
    "FETCH_TIMEOUT_S",
    "STREAM_IDLE_TIMEOUT_S",
    "IMAGE_URL_HOSTS",
    "MAX_IMAGE_URLS",
    "KEY_POLICIES",
    "RESPONSES_TTL_SECONDS",
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
        upstream_timeout_s=_seconds("UPSTREAM_TIMEOUT_S", values["UPSTREAM_TIMEOUT_S"], 120.0),
        fetch_timeout_s=_seconds("FETCH_TIMEOUT_S", values["FETCH_TIMEOUT_S"], 15.0),
        stream_idle_timeout_s=_seconds(
            "STREAM_IDLE_TIMEOUT_S", values["STREAM_IDLE_TIMEOUT_S"], 60.0
        ),
        image_url_hosts=tuple(h.lower() for h in _split(values["IMAGE_URL_HOSTS"])),
        max_image_urls=_count("MAX_IMAGE_URLS", values["MAX_IMAGE_URLS"], 8),
        key_policies=_policies(values["KEY_POLICIES"]),
        responses_ttl_s=_ttl(values["RESPONSES_TTL_SECONDS"]),
    )
    _cache.clear()  # one live configuration per isolate; drop stale ones
    _cache[raw] = config
    return config
