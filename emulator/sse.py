"""Server-sent event framing as Workers AI writes it: `data: <json>\\n\\n`, `data: [DONE]`.

The `p` field is Cloudflare's side-channel padding: a prefix of PAD_ALPHABET of random length
(6–50 seen) on some events. It is derived from a seeded RNG so a stream is reproducible.
"""

from __future__ import annotations

import json
import random
from typing import Any

PAD_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789" * 2
DONE = b"data: [DONE]\n\n"


def dumps(obj: Any) -> str:
    """Compact JSON, non-ASCII kept as is (what the service sends)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event(obj: Any) -> bytes:
    """One SSE event carrying `obj` as JSON."""
    return f"data: {dumps(obj)}\n\n".encode()


class Padder:
    """Adds `p` padding to roughly two events in three, reproducibly from a seed."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def __call__(self, obj: dict) -> dict:
        if self._rng.random() < 0.7:
            return {**obj, "p": PAD_ALPHABET[: self._rng.randint(6, 50)]}
        return obj
