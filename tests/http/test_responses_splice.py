"""A streamed Response through the Worker (sse_splice.mjs framing upstream bytes, Python
transcoding them) must be exactly what `ResponsesStream` alone makes on CPython, whatever the
upstream says and however its bytes are cut (the chat cases of test_stream_splice)."""

from __future__ import annotations

import json

import pytest

from core import config
from handlers.responses import response_stream
from mapping import catalog, chat, responses
from mapping.chatreply import prompt_text_of
from tests.http.test_stream_splice import CASES, chunkings, post_streamed, shaped

pytestmark = pytest.mark.emulator

# Content deltas the splice must tell apart: quotes and backslashes inside the text, another key
# after the content, thought between answers.
SHAPED_EDGES = (
    shaped({"role": "assistant", "content": ""})
    + shaped({"content": 'say "hi" \\'})
    + shaped({"content": "a", "reasoning_content": None})
    + shaped({"content": '"}'})
    + shaped({"reasoning_content": "hm"})
    + shaped({"content": "b"})
    + shaped({}, "stop")
    + "data: [DONE]\n\n"
)
RESPONSES_CASES = {name: case for name, case in CASES.items() if not case[2]}
RESPONSES_CASES["OpenAI-shaped edges"] = ("gpt-4o-mini", SHAPED_EDGES, {})


def reference(body: dict, upstream: bytes, response_id: str, created: int) -> bytes:
    """What `ResponsesStream` alone makes of the whole upstream stream, built as the handler
    does (the test Worker stores responses)."""
    model = catalog.model_for(body["model"], catalog.CHAT, config.load({}))
    request = responses.parse(body)
    chat_request = chat.chat_request(responses.chat_body(request, request.items), model)
    prompt_text = prompt_text_of(chat_request.inputs)
    stream = response_stream(request, chat_request, prompt_text, response_id, created, True)
    return stream.feed(b"") + stream.feed(upstream) + stream.end()


@pytest.mark.parametrize("case", list(RESPONSES_CASES))
def test_worker_stream_matches_responsesstream_for_any_chunking(
    case, base_url, api_key, emulator_control
):
    model, upstream_text, _ = RESPONSES_CASES[case]
    upstream = upstream_text.encode()
    body = {"model": model, "stream": True, "input": "Say hello"}
    for number, chunks in enumerate(chunkings(upstream, seed=len(case))):
        sent = post_streamed(base_url + "/v1/responses", api_key, emulator_control, body, chunks)
        created = json.loads(sent.split(b"\n\n", 1)[0].split(b"\ndata: ", 1)[1])["response"]
        expected = reference(body, upstream, created["id"], created["created_at"])
        assert sent.decode() == expected.decode(), f"{case}, chunking {number}: {chunks}"
