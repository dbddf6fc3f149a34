"""What a family handler receives (`Call`) and what it returns (`Json`, `Binary`, `Stream`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from emulator.controls import default_quirks
from emulator.models import Model


@dataclass
class Call:
    """One run request: the model, its inputs, and the raw body for binary inputs."""

    model: Model
    inputs: dict[str, Any]
    body: bytes = b""
    content_type: str = "application/json"
    query: dict[str, str] = field(default_factory=dict)
    quirks: dict[str, Any] = field(default_factory=default_quirks)  # controls.QUIRKS choices
    controls: Any = None  # the server's Controls (license agreements), None in unit calls

    @cached_property
    def seed(self) -> int:
        """A stable 64-bit hash of model + inputs, so equal requests get equal answers."""
        digest = hashlib.sha256(self.model.id.encode())
        digest.update(json.dumps(self.inputs, sort_keys=True, default=repr).encode())
        if self.content_type != "application/json":
            digest.update(self.body)
        return int.from_bytes(digest.digest()[:8], "big")

    def hexid(self, n: int = 24) -> str:
        """A deterministic hex id derived from the seed."""
        return hashlib.sha256(str(self.seed).encode()).hexdigest()[:n]


@dataclass
class Json:
    """A JSON output, sent inside the success envelope."""

    value: Any


@dataclass
class Binary:
    """Raw bytes with their content type, sent without an envelope."""

    data: bytes
    content_type: str


@dataclass
class Stream:
    """SSE events, sent one by one as `text/event-stream` without an envelope."""

    events: list[bytes]


Result = Json | Binary | Stream
