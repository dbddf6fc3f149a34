"""Context budgeting: estimates by script, and one retry with the budget a 5021 reports."""

from __future__ import annotations

from emulator.text import count_tokens
from mapping import budget, catalog, chat
from tests.unit.fakes import AUTH, FakeAi, body_json, make_call, run

LLAMA = catalog.MODELS["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]  # context window 24000
CJK = "我们今天讨论上下文窗口的问题。" * 1400  # 21000 characters
ERROR_5021 = (
    "5021: AiError: AiError: The estimated number of input and maximum output tokens (24100) "
    "exceeded this model context window limit (24000)."
)


def test_cjk_counts_about_a_token_per_character():
    assert budget.estimate_tokens(CJK) >= len(CJK)
    assert budget.estimate_tokens("안녕하세요 세계") >= 7
    assert budget.estimate_tokens("ひらがなカタカナ") >= 8
    latin = "hello world " * 100
    assert len(latin) // 4 <= budget.estimate_tokens(latin) <= len(latin) // 2


def test_estimate_is_never_below_the_emulators_count_for_plain_text():
    for text in (CJK, "word " * 1000, "Ünïcödé Привет мир " * 50, "x" * 999):
        assert budget.estimate_tokens(text) >= count_tokens(text) - 4, text[:20]


def test_default_max_tokens_leaves_room_for_a_cjk_prompt():
    request = chat.chat_request({"messages": [{"role": "user", "content": CJK}]}, LLAMA)
    assert len(CJK) + request.max_tokens <= LLAMA.context_window


def test_retry_budget_reads_the_5021_message():
    assert budget.retry_budget(ERROR_5021, 4096) == 3996
    assert budget.retry_budget("5021: something else", 4096) is None
    too_big = ERROR_5021.replace("(24100)", "(30000)")
    assert budget.retry_budget(too_big, 4096) is None  # the prompt alone does not fit


def post_chat(body, ai):
    return run(make_call("POST", "/v1/chat/completions", body=body, headers=AUTH, ai=ai))


def test_a_5021_is_retried_once_with_the_reported_budget():
    answers = iter([Exception(ERROR_5021), {"response": "ok"}])
    ai = FakeAi(lambda model, inputs: next(answers))
    reply = post_chat({"model": LLAMA.id, "messages": [{"role": "user", "content": "hi"}]}, ai)
    assert reply.status == 200
    first, second = (inputs["max_tokens"] for _, inputs, _ in ai.calls)
    assert second == first - 100


def test_a_client_chosen_max_tokens_is_not_rewritten():
    ai = FakeAi(lambda model, inputs: Exception(ERROR_5021))
    body = {"model": LLAMA.id, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4096}
    reply = post_chat(body, ai)
    assert reply.status == 413
    assert body_json(reply)["error"]["code"] == "context_length_exceeded"
    assert len(ai.calls) == 1
