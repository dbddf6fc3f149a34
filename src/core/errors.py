"""The one error type of the Worker and the mapping of Workers AI failures onto it.

    ApiError                 raised anywhere; `app` renders it once per response
    upstream_error(message)  InferenceUpstreamError text ("<code>: <text>") -> ApiError

Rendered as OpenAI's `{"error": {"message", "type", "param", "code"}}` (translation routes render
their own shapes from the same object).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class ApiError(Exception):
    """A failure with an HTTP status and OpenAI's error fields."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] | None = None  # sent with the rendered error (e.g. Retry-After)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict:
        """OpenAI's error object."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 for a bad request field."""
    return ApiError(400, message, "invalid_request_error", param, code)


def missing(param: str) -> ApiError:
    """A 400 for a required field that is absent."""
    return invalid(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def too_large(limit: int, what: str = "The request body", param: str | None = None) -> ApiError:
    """A 413 naming the limit that was passed."""
    size = f"{limit // MiB} MB" if limit >= MiB else f"{limit // 1024} KB"
    return ApiError(
        413, f"{what} is larger than this endpoint accepts ({size}).",
        "invalid_request_error", param, "request_too_large",
    )  # fmt: skip


def bad_upstream(detail: str) -> ApiError:
    """A 502 for an upstream answer this Worker cannot use; `detail` says what was wrong."""
    return ApiError(502, detail, "api_error", None, "upstream_error")


def rate_limited(retry_after_s: int) -> ApiError:
    """A 429 for a key over its request rate (the RATE_LIMITER binding)."""
    return ApiError(
        429,
        f"Rate limit reached for this API key; retry after {retry_after_s} seconds.",
        "rate_limit_error",
        None,
        "rate_limit_exceeded",
        {"retry-after": str(retry_after_s)},
    )


def deadline_passed(what: str, seconds: float) -> ApiError:
    """A 504 for an upstream that did not answer in time."""
    return ApiError(
        504, f"{what} did not answer within {seconds:g} s.", "timeout_error", None,
        "upstream_timeout",
    )  # fmt: skip


def internal_error(request_id: str) -> ApiError:
    """A 500 for a bug: no internals, only the id that finds the logged traceback."""
    return ApiError(
        500,
        f"The server failed to handle this request (request id {request_id}).",
        "server_error",
        None,
        "internal_error",
    )


def model_not_found(model: str) -> ApiError:
    """A 404 for a model id nothing can serve."""
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model",
        "model_not_found",
    )


# Workers AI internal code -> (HTTP status, OpenAI type, OpenAI code, whether the upstream text
# is about the caller's input and so safe and useful to show).
_UPSTREAM: dict[int, tuple[int, str, str | None, bool]] = {
    5007: (404, "invalid_request_error", "model_not_found", False),
    3042: (404, "invalid_request_error", "model_not_found", False),
    5006: (400, "invalid_request_error", "invalid_upstream_input", True),
    3010: (400, "invalid_request_error", "invalid_upstream_input", True),
    5004: (400, "invalid_request_error", "invalid_upstream_input", True),
    3003: (400, "invalid_request_error", "invalid_upstream_input", True),
    8007: (400, "invalid_request_error", "content_policy_violation", True),
    # 8006: the model refused the input (seen from flux-2 and the Chat Completions models);
    # the reason is about the caller's input, so it is shown.
    8006: (400, "invalid_request_error", "invalid_upstream_input", True),
    3030: (400, "invalid_request_error", "content_policy_violation", True),
    5021: (413, "invalid_request_error", "context_length_exceeded", True),
    3006: (413, "invalid_request_error", "request_too_large", True),
    3036: (429, "insufficient_quota", "insufficient_quota", True),
    4006: (429, "insufficient_quota", "insufficient_quota", True),
    3040: (429, "rate_limit_error", "rate_limit_exceeded", True),
    5016: (403, "permission_error", "model_terms_not_accepted", True),
    5035: (403, "permission_error", "model_requires_paid_plan", True),
    5018: (403, "permission_error", "permission_denied", False),
    3041: (403, "permission_error", "permission_denied", False),
    3023: (403, "permission_error", "permission_denied", False),
    3007: (504, "timeout_error", "upstream_timeout", False),
    3046: (504, "timeout_error", "upstream_timeout", False),
    3008: (504, "timeout_error", "upstream_aborted", False),
}

_CODE_PREFIX = re.compile(r"^\s*(\d{3,5})\s*:\s*(.*)$", re.DOTALL)
_NOISE_PREFIX = re.compile(r"^(?:(?:AiError|InferenceUpstreamError|Error)\s*:\s*)+")
_MAX_DETAIL = 500
MiB = 1024 * 1024


def upstream_code(message: str) -> int | None:
    """The Workers AI internal code at the start of an error message, if any."""
    match = _CODE_PREFIX.match(message or "")
    return int(match.group(1)) if match else None


def upstream_error(message: str, model: str | None = None) -> ApiError:
    """Map an `InferenceUpstreamError` message to an ApiError without leaking internals."""
    match = _CODE_PREFIX.match(message or "")
    code = int(match.group(1)) if match else None
    detail = _NOISE_PREFIX.sub("", match.group(2)).strip() if match else ""
    status, err_type, err_code, show = _UPSTREAM.get(
        code or 0, (502, "api_error", "upstream_error", False)
    )
    if err_code == "model_not_found" and model:
        return model_not_found(model)
    if show and detail:
        text = f"Workers AI rejected the request ({code}): {detail[:_MAX_DETAIL]}"
    elif code:
        text = f"Workers AI failed with error {code}."
    else:
        text = "Workers AI failed without an error code."
    return ApiError(status, text, err_type, None, err_code)
