"""Log lines: one JSON object each, always with the request id, so Workers Logs can filter them.

Never pass a key, a prompt or a model's output: only ids, sizes, statuses and short reasons.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def event(request_id: str, name: str, **fields: Any) -> None:
    """Write one structured line to stdout (Workers Logs indexes JSON console output)."""
    print(_line(request_id, name, fields))


def error(request_id: str, name: str, **fields: Any) -> None:
    """Like `event`, at error level (stderr -> console.error)."""
    print(_line(request_id, name, {"level": "error", **fields}), file=sys.stderr)


def _line(request_id: str, name: str, fields: dict[str, Any]) -> str:
    return json.dumps(
        {"request_id": request_id, "event": name, **fields},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
