"""`POST /v1/embeddings`: HTTP glue over `mapping.embeddings`; batches run concurrently."""

from __future__ import annotations

import asyncio
import struct

from core.exchange import Call, Reply, json_reply
from mapping import catalog, embeddings
from upstream import ai


async def create(call: Call) -> Reply:
    """Embed every input, one upstream call per batch, all batches concurrently."""
    request = embeddings.parse_request(await call.json())
    settings = call.settings
    model = catalog.model_for(request.model, catalog.EMBEDDING, settings)
    dimensions = embeddings.check_dimensions(model, request.dimensions)
    groups = embeddings.batches(request.texts, model.max_batch or embeddings.DEFAULT_BATCH)
    outputs = await asyncio.gather(
        *(ai.run(call, model.id, embeddings.to_upstream(group)) for group in groups)
    )
    vectors = [
        vector
        for group, output in zip(groups, outputs, strict=True)
        for vector in embeddings.vectors_from(output, len(group))
    ]
    tokens = sum(embeddings.estimate_tokens(text) for text in request.texts)
    try:
        if dimensions is not None:
            if any(len(v) < dimensions for v in vectors):
                raise embeddings.unexpected_result()
            vectors = [embeddings.shorten(v, dimensions) for v in vectors]
        return json_reply(embeddings.to_openai(model.id, vectors, request.encoding_format, tokens))
    except (struct.error, TypeError, ValueError, OverflowError):  # non-numbers, NaN, inf
        raise embeddings.unexpected_result() from None
