"""License-gated models: accept the terms once per isolate when Workers AI asks, then retry.

Some models (llama-3.2-11b-vision) answer 5016 `User has not agreed to Llama3.2 model terms`
until the account sends `{"prompt": "agree"}` to that model once (Cloudflare docs
workers-ai/platform/errors.mdx; the model page's "agree" instruction). Deploying this gateway
for a model means its operator accepts that model's license, so the Worker agrees on the first
5016, logs it (once per isolate: `AGREED`), and retries the request once; a model that still
answers 5016 after that fails with the 403, never loops. Agreeing again after a later 5016 (the
account's agreement was withdrawn) costs one call and keeps the gateway working.
"""

from __future__ import annotations

import sys
from typing import Any

from errors import ApiError

AGREE_INPUTS = {"prompt": "agree"}
AGREED: set[str] = set()  # model ids agreed to by this isolate


class AgreeingAi:
    """An `exchange.Ai` that answers a 5016 by agreeing to the model's terms and retrying."""

    def __init__(self, ai: Any) -> None:
        self._ai = ai

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any:
        try:
            return await self._ai.run(model, inputs, options)
        except ApiError as err:
            if err.code != "model_terms_not_accepted":
                raise
        if model not in AGREED:
            print(
                f"Workers AI answered 5016 for {model}: agreeing to its license terms "
                '({"prompt": "agree"}) for this account, then retrying.',
                file=sys.stderr,
            )
        await self._ai.run(model, dict(AGREE_INPUTS), options)
        AGREED.add(model)
        return await self._ai.run(model, inputs, options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ai, name)
