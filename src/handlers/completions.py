"""`POST /v1/completions`: legacy text completions (`text_completion`), streaming or not.

Each prompt is sent as the user's turn of an instruct model (Workers AI has no base models);
several prompts run concurrently and come back as choices in order.
"""

from __future__ import annotations

import asyncio
import time

from core import validate
from core.errors import invalid
from core.exchange import Call, Reply, json_reply
from mapping import catalog, chat
from mapping.chatreply import completion_id, stream_reply
from upstream import ai


async def create(call: Call) -> Reply:
    """Create a text completion."""
    body = await call.json()
    settings = call.settings
    model = catalog.model_for(body.get("model"), catalog.CHAT, settings)
    prompts = chat.completion_prompts(body)
    echo = validate.optional_bool(body, "echo")
    requests = [chat.completion_request(body, model, prompt) for prompt in prompts]
    cid = completion_id(call, "cmpl-")
    if requests[0].stream:
        if len(prompts) > 1 or echo:
            raise invalid("Streaming supports one prompt without echo.", "stream")
        result = await ai.run_chat(call, requests[0])
        return stream_reply(call, requests[0], result, prompts[0], text_completion=True)
    results = await asyncio.gather(*(ai.run_chat(call, r) for r in requests))
    choices = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for index, (request, prompt, result) in enumerate(zip(requests, prompts, results, strict=True)):
        answer, finish, counts = chat.settle(result, request, prompt, f"call_{cid}_")
        choices.append(
            {
                "text": prompt + answer.content if echo else answer.content,
                "index": index,
                "logprobs": None,
                "finish_reason": finish,
            }
        )
        for key, value in counts.items():
            usage[key] += value
    call.metrics.tokens = usage["total_tokens"]
    return json_reply(
        {
            "id": cid,
            "object": "text_completion",
            "created": int(time.time()),
            "model": model.id,
            "choices": choices,
            "usage": usage,
        }
    )
