"""``allow_bad_entropy_calls(n)``: let ``n`` entropy calls through during the import phase.

Production lets a few known packages (Rust hash seeds, numpy) draw entropy at import time;
the SDK's patches use this API to ask for that allowance.
"""

from contextlib import contextmanager

from . import _state


@contextmanager
def allow_bad_entropy_calls(n: int):
    previous = _state.allowance
    _state.allowance = n
    try:
        yield
    finally:
        _state.allowance = previous


def take_allowance() -> bool:
    if _state.allowance > 0:
        _state.allowance -= 1
        return True
    return False
