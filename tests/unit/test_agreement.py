"""License-gated models: the first 5016 is answered by agreeing once, then the request retried."""

from __future__ import annotations

import pytest

from tests.unit.fakes import AUTH, FakeAi, body_json, make_call, run
from upstream import ai

VISION = "@cf/meta/llama-3.2-11b-vision-instruct"
TERMS = Exception("5016: AiError: AiError: User has not agreed to Llama3.2 model terms")


@pytest.fixture(autouse=True)
def fresh_isolate():
    ai.AGREED.clear()
    yield
    ai.AGREED.clear()


def gated():
    agreed: set[str] = set()

    def answer(model, inputs):
        if inputs == {"prompt": "agree"}:
            agreed.add(model)
            return {"response": "Thank you for agreeing"}
        return {"response": "fine"} if model in agreed else TERMS

    return FakeAi(answer)


def chat(ai):
    body = {"model": VISION, "messages": [{"role": "user", "content": "hi"}]}
    return run(make_call("POST", "/v1/chat/completions", body=body, headers=AUTH, ai=ai))


def test_first_5016_agrees_once_and_retries(capsys):
    ai = gated()
    reply = chat(ai)
    assert reply.status == 200
    assert body_json(reply)["choices"][0]["message"]["content"] == "fine"
    assert [inputs for _, inputs, _ in ai.calls][1] == {"prompt": "agree"}
    assert len(ai.calls) == 3
    assert '"event":"model_terms_accepted"' in capsys.readouterr().out
    assert chat(ai).status == 200
    assert len(ai.calls) == 4  # agreed for the isolate: no second agree


def test_a_model_that_keeps_refusing_fails_with_403_instead_of_looping():
    ai = FakeAi(lambda model, inputs: TERMS if inputs != {"prompt": "agree"} else {})
    reply = chat(ai)
    assert reply.status == 403
    assert body_json(reply)["error"]["code"] == "model_terms_not_accepted"
    assert len(ai.calls) == 3  # request, agree, one retry
    assert chat(ai).status == 403 and len(ai.calls) == 6
