"""Workers AI failures mapped to OpenAI errors."""

from __future__ import annotations

import pytest

from core.errors import upstream_code, upstream_error


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        (
            "5006: AiError: Bad input: required properties at '/' are 'prompt'",
            400,
            "invalid_upstream_input",
        ),
        ("3010: Invalid or incomplete input for the model", 400, "invalid_upstream_input"),
        (
            "5021: The estimated number of input and maximum output tokens (9000) exceeded",
            413,
            "context_length_exceeded",
        ),
        ("3006: Request is too large", 413, "request_too_large"),
        ("3036: You have used up your daily free allocation", 429, "insufficient_quota"),
        ("4006: you have used up your daily free allocation", 429, "insufficient_quota"),
        ("3040: No more data centers to forward the request to", 429, "rate_limit_exceeded"),
        ("3007: Request timeout", 504, "upstream_timeout"),
        ("3046: Request timeout", 504, "upstream_timeout"),
        ("5035: requires Workers Paid", 403, "model_requires_paid_plan"),
        ("3001: Internal server error", 502, "upstream_error"),
        ("something without a code", 502, "upstream_error"),
    ],
)
def test_upstream_codes_map_to_status_and_code(message, status, code):
    err = upstream_error(message)
    assert (err.status, err.code) == (status, code)


def test_no_such_model_becomes_model_not_found_naming_the_model():
    err = upstream_error("5007: No such model @cf/x/y or task", "@cf/x/y")
    assert err.status == 404
    assert err.param == "model"
    assert "@cf/x/y" in err.message


def test_input_errors_show_the_cleaned_upstream_detail():
    err = upstream_error("5006: AiError: AiError: Bad input: Type mismatch of '/seed'")
    assert err.message.endswith("Bad input: Type mismatch of '/seed'")
    assert "AiError" not in err.message


def test_server_side_failures_do_not_leak_upstream_text():
    err = upstream_error("3001: internal stack at node-17.colo /var/lib/secret")
    assert "secret" not in err.message
    assert err.type == "api_error"


def test_upstream_code_parses_prefix():
    assert upstream_code("5021: too long") == 5021
    assert upstream_code("no code") is None
