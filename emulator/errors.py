"""Workers AI error codes, their HTTP statuses and default texts, and the REST error envelope.

One exception type (`AiError`) is raised anywhere in the emulator and rendered once by the
server as `{"errors":[{"message":"AiError: AiError: <text>","code":N}],"success":false,...}`.
"""

from __future__ import annotations

from dataclasses import dataclass

# code -> (HTTP status, default text). Texts follow the reference (docs/workers-ai.md §1.3); the
# ones Cloudflare never published (3030, 5035, 3010's detail) are plausible stand-ins.
CODES: dict[int, tuple[int, str]] = {
    1001: (400, "InvalidInput"),
    3001: (500, "Internal server error"),
    3003: (400, "Request is missing headers or body"),
    3006: (413, "Request is too large"),
    3007: (408, "Request timeout"),
    3008: (408, "Request was aborted"),
    3010: (400, "Invalid or incomplete input for the model"),
    3023: (403, "Service unavailable for account"),
    3030: (400, "The generated image was flagged by the safety filter"),
    3036: (
        429,
        "You have used up your daily free allocation of 10,000 neurons. Please upgrade to "
        "Cloudflare's Workers Paid plan if you would like to continue usage.",
    ),
    3039: (400, "Finetune missing required files"),
    3040: (429, "No more data centers to forward the request to"),
    3041: (403, "Account not allowed for private model"),
    3042: (404, "The model name is invalid"),
    3046: (408, "Request timeout"),
    4006: (
        429,
        "you have used up your daily free allocation of 10,000 neurons, please upgrade",
    ),
    5004: (400, "Invalid data type for base64 input"),
    5005: (405, "The model does not support LoRa inference"),
    5006: (400, "Bad input: Error: invalid input"),
    5007: (400, "No such model or task"),
    5016: (403, "User has not agreed to Llama3.2 model terms"),
    5018: (403, "Account not allowed for private model"),
    5019: (405, "Deprecated SDK version"),
    5021: (
        413,
        "The estimated number of input and maximum output tokens exceeded this model "
        "context window limit.",
    ),
    5035: (403, "This model requires the Workers Paid plan"),
    8006: (400, "Input rejected by the model"),  # stand-in text: none published
    8007: (400, "Input prompt contains NSFW content."),
}

# Codes Cloudflare does not document get 400 unless a fault overrides the status.
DEFAULT_STATUS = 400


@dataclass
class AiError(Exception):
    """A Workers AI failure: internal `code`, optional explicit `text` and HTTP `status`."""

    code: int
    text: str | None = None
    status: int | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    @property
    def http_status(self) -> int:
        """The status from the code table unless overridden."""
        if self.status is not None:
            return self.status
        return CODES.get(self.code, (DEFAULT_STATUS, ""))[0]

    @property
    def message(self) -> str:
        """The bare text, before the REST `AiError: AiError: ` prefix."""
        if self.text is not None:
            return self.text
        return CODES.get(self.code, (DEFAULT_STATUS, "Unknown internal error"))[1]

    def body(self) -> dict:
        """The REST error envelope; Cloudflare prefixes the text twice."""
        return {
            "errors": [{"message": f"AiError: AiError: {self.message}", "code": self.code}],
            "success": False,
            "result": None,
            "messages": [],
        }


def bad_input(detail: str) -> AiError:
    """5006: the inputs failed the model's JSON schema."""
    return AiError(5006, f"Bad input: Error: {detail}")


def invalid_input(detail: str) -> AiError:
    """3010: the inputs passed the schema but the model could not use them."""
    return AiError(3010, f"Invalid or incomplete input for the model: {detail}")


def no_such_model(model: str) -> AiError:
    """5007 for unknown, removed or deprecated model ids."""
    return AiError(5007, f"No such model {model} or task")


def context_exceeded(total: int, window: int) -> AiError:
    """5021: prompt tokens + max_tokens exceed the model's context window."""
    return AiError(
        5021,
        f"The estimated number of input and maximum output tokens ({total}) exceeded this "
        f"model context window limit ({window}).",
    )


AUTH_ERROR_BODY = {"errors": [{"code": 10000, "message": "Authentication error"}], "success": False}
NOT_FOUND_BODY = {
    "errors": [{"code": 7000, "message": "No route for that URI"}],
    "success": False,
    "result": None,
    "messages": [],
}
METHOD_NOT_ALLOWED_BODY = {
    "errors": [{"code": 10405, "message": "Method not allowed"}],
    "success": False,
    "result": None,
    "messages": [],
}
