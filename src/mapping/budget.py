"""Token budgeting: a conservative prompt-size estimate by script, and the retry budget a 5021
reports.

Workers AI counts *tokens* of prompt + `max_tokens` against the context window and answers 5021
`The estimated number of input and maximum output tokens (N) exceeded this model context window
limit (M).` when they do not fit (Cloudflare changelog 2025-02-24 "estimate and validate the
number of tokens"; message as seen in the wild, workers-ai.md §1.3). Tokenizers spend about one
token per CJK ideograph, kana or Hangul syllable, about one per two characters of other
non-Latin scripts, and about one per four characters of Latin text; the estimate below leans
high (Latin at three) so a default `max_tokens` leaves room.
"""

from __future__ import annotations

import re

# CJK ideographs (+ extension A, compatibility, supplementary planes), kana, Hangul (syllables
# and jamo), CJK symbols and full-width forms: about one token each.
_DENSE = re.compile(
    "[\u1100-\u11ff\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)
_ASCII = re.compile("[\x00-\x7f]")
_5021 = re.compile(r"\((\d+)\)\D*?context window limit \((\d+)\)")


def estimate_tokens(text: str) -> int:
    """Prompt tokens, estimated high: dense scripts 1/char, other non-ASCII 1/2, ASCII 1/3."""
    dense = len(_DENSE.findall(text))
    ascii_chars = len(_ASCII.findall(text))
    other = len(text) - dense - ascii_chars
    return dense + (other + 1) // 2 + ascii_chars // 3 + 1


def retry_budget(message: str, max_tokens: int) -> int | None:
    """The `max_tokens` that fits after a 5021 naming N (prompt + max_tokens) and the window M:
    M - (N - max_tokens), the platform's own prompt count; None if nothing fits or unparsable."""
    match = _5021.search(message or "")
    if not match:
        return None
    total, window = int(match.group(1)), int(match.group(2))
    budget = window - (total - max_tokens)
    return budget if 0 < budget < max_tokens else None
