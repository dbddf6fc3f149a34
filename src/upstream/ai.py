"""The one place the Worker runs Workers AI: every `env.AI.run` goes through `run`.

It applies what the settings ask of every call, so no endpoint can forget it: the run options
(AI Gateway), the key's policy (KEY_POLICIES: allowed models, a max_tokens ceiling), and a
deadline (UPSTREAM_TIMEOUT_S). The adapter under it maps binding failures to `ApiError`s
(`core.errors.upstream_error`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core import log
from core.config import Config
from core.errors import ApiError, bad_upstream, deadline_passed
from core.exchange import Call
from mapping import catalog, chat, sse_collect

# Inputs that bound how many tokens a model may write, by the names Workers AI schemas use.
_TOKEN_LIMITS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


def run_options(settings: Config) -> dict | None:
    """Options for `env.AI.run`: route through AI Gateway when AI_GATEWAY_ID is set."""
    return {"gateway": {"id": settings.ai_gateway_id}} if settings.ai_gateway_id else None


def apply_policy(call: Call, model_id: str, inputs: dict) -> dict:
    """`inputs` within the calling key's KEY_POLICIES entry, or a 403 for a model it may not use."""
    policy = call.settings.key_policies.get(call.key_id or "")
    if policy is None:
        return inputs
    if policy.models is not None:
        allowed = {catalog.model_id(name, call.settings) for name in policy.models}
        if model_id not in allowed:
            raise ApiError(
                403,
                f"This API key may not use `{model_id}`.",
                "permission_error",
                "model",
                "model_not_allowed",
            )
    if policy.max_tokens is not None:
        capped = {
            name: min(value, policy.max_tokens)
            for name in _TOKEN_LIMITS
            if isinstance(value := inputs.get(name), int)
        }
        if capped:
            inputs = {**inputs, **capped}
    return inputs


async def run(call: Call, model_id: str, inputs: dict) -> Any:
    """`env.AI.run(model_id, inputs)` with the request's run options, policy and deadline; a
    license-gated model's terms are accepted once and the call retried."""
    inputs = apply_policy(call, model_id, inputs)
    settings = call.settings
    options = run_options(settings)
    started = time.monotonic()
    try:
        return await asyncio.wait_for(
            _run_agreeing(call, model_id, inputs, options), settings.upstream_timeout_s
        )
    except TimeoutError:
        raise deadline_passed("Workers AI", settings.upstream_timeout_s) from None
    finally:
        call.metrics.models.append(model_id)
        call.metrics.upstream_ms += (time.monotonic() - started) * 1000


# License-gated models (llama-3.2-11b-vision) answer 5016 "User has not agreed to Llama3.2 model
# terms" until the account sends `{"prompt": "agree"}` to that model once (cloudflare-docs
# workers-ai/platform/errors.mdx; the model page's "agree" instruction). Deploying this gateway
# for a model means its operator accepts that model's license, so the Worker agrees on the first
# 5016, logs it, and retries once; a model that still answers 5016 fails with the 403 (no loop).
AGREE_INPUTS = {"prompt": "agree"}
AGREED: set[str] = set()  # model ids agreed to by this isolate


async def _run_agreeing(call: Call, model_id: str, inputs: dict, options: dict | None) -> Any:
    try:
        return await call.env.ai.run(model_id, inputs, options)
    except ApiError as err:
        if err.code != "model_terms_not_accepted":  # 5016, as core.errors maps it
            raise
    if model_id not in AGREED:
        log.event(call.request_id, "model_terms_accepted", model=model_id)
    await call.env.ai.run(model_id, dict(AGREE_INPUTS), options)
    AGREED.add(model_id)
    return await call.env.ai.run(model_id, inputs, options)


async def run_chat(call: Call, request: chat.ChatRequest) -> Any:
    """`run` for a chat request: an upstream stream when it was asked for one, else the whole
    answer (models that do not stream upstream are replayed from it). A 5021 against the
    Worker's own default budget is retried once with the budget the error reports (the token
    estimate is only an estimate)."""
    try:
        result = await run(call, request.model.id, request.inputs)
    except ApiError as error:
        if not chat.shrink_after_5021(request, error):
            raise
        result = await run(call, request.model.id, request.inputs)
    return result if request.inputs.get("stream") else await _whole(result)


async def _whole(result: Any) -> Any:
    """A JSON result; a stream we did not ask for (JSON, or SSE of any shape) is read whole."""
    if hasattr(result, "read_all"):
        try:
            return sse_collect.collect(await result.read_all())
        except ValueError:
            raise bad_upstream("Workers AI answered with something other than JSON.") from None
    return result
