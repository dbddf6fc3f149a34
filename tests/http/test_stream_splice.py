"""The Worker's streaming path (sse_splice.mjs splicing common events, `chatstream.ChatStream` for the
rest) must send exactly the bytes `ChatStream` alone produces on CPython, whatever the upstream
says and however its bytes are cut into network chunks."""

from __future__ import annotations

import base64
import http.client
import json
import random
import shutil
import socket
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core import config
from mapping import catalog, chat
from mapping.chatreply import chat_stream, prompt_text_of
from tests.chunking import split_at
from tests.http.conftest import DEFAULT_API_KEYS, REPO_ROOT, worker_copy

pytestmark = pytest.mark.emulator

CHAT = "gpt-4o-mini"
REASONING = "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"  # native, `<think>` in the text
USAGE = '"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}'


def native(text: str, pad: str = "abc") -> str:
    return f"data: {json.dumps({'response': text, 'p': pad}, separators=(',', ':'))}\n\n"


def shaped(delta: dict, finish: str | None = None) -> str:
    event = {
        "id": "chatcmpl-up",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event, separators=(',', ':'), ensure_ascii=False)}\n\n"


NATIVE_WITH_USAGE = (
    native("Hé")
    + native('llo "🌍"', "abcdefghijk")
    + native("")
    + native("\\ back\nslash")
    + 'data: {"response":"!"}\n\n'
    + 'data: {"response":"",'
    + USAGE
    + "}\n\n"
    + "data: [DONE]\n\n"
)
# No usage from upstream: completion_tokens is estimated from every character of content,
# including what JavaScript spliced without telling Python event by event.
NATIVE_NO_USAGE = (
    "".join(native(f" word{i}", "p" * (1 + i % 5)) for i in range(12)) + "data: [DONE]\n\n"
)
OPENAI_SHAPED = (
    shaped({"role": "assistant", "content": ""})
    + shaped({"content": "Hel"})
    + shaped({"content": "lo ✓"})
    + 'data: {"id":"x","choices":[{"index":0, "delta":{"content":" spaced"}}]}\n\n'
    + shaped({"content": "!"})
    + shaped({}, "stop")
    + 'data: {"id":"x","choices":[],'
    + USAGE
    + "}\n\n"
    + "data: [DONE]\n\n"
)
TOOLS_BETWEEN_TEXT = (
    native("Checking")
    + 'data: {"response":"","tool_calls":[{"name":"get_weather","arguments":{"city":"Oslo"}}]}\n\n'
    + native(" done")
    + shaped(
        {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}]}
    )
    + "data: [DONE]\n\n"
)
AFTER_DONE_IS_IGNORED = native("one") + "data: [DONE]\n\n" + native("two") + native("three")
ERROR_MID_STREAM = native("par") + native("tial") + 'data: {"error":"overloaded"}\n\n' + native("x")
NO_DONE = native("cut") + native(" short") + 'data: {"response":" unfinished'
MULTI_LINE_AND_COMMENTS = (
    ": keep-alive\n\n"
    + native("a")
    + 'event: message\ndata: {"response":"b","p":"ab"}\n\n'
    + 'data: {"response":\ndata: "c"}\n\n'
    + native("d")
    + "\n\n\n"
    + native("e")
    + "data: [DONE]\n\n"
)
CRLF = (native("cr") + native("lf") + "data: [DONE]\n\n").replace("\n", "\r\n")
THINKING = (
    native("<think>")
    + native("Let me think")
    + native(" hard.</thi")
    + native("nk>\n\nThe answer")
    + native(" is 42")
    + 'data: {"response":"",'
    + USAGE
    + "}\n\n"
    + "data: [DONE]\n\n"
)

# Mostly plain thought (spliced as reasoning), a tag hidden in an escape, and the answer
# starting in the same event as `</think>`.
LONG_THOUGHT = (
    native("<think>\n")
    + "".join(native(f" step {i},", "q" * (1 + i % 7)) for i in range(15))
    + 'data: {"response":" a \\u003cb\\u003e tag","p":"ab"}\n\n'
    + native(" 5 < 6 ")
    + native("done.</think>\n\nSo")
    + "".join(native(f" answer{i}") for i in range(5))
    + "data: [DONE]\n\n"
)
OPENAI_REASONING = (
    shaped({"role": "assistant", "content": ""})
    + "".join(shaped({"reasoning_content": f" thought {i}"}) for i in range(6))
    + shaped({"reasoning_content": "", "content": "Answer"})
    + shaped({"content": " here"})
    + shaped({}, "stop")
    + "data: [DONE]\n\n"
)


def choices(
    choice: str, head: str = '{"id":"chatcmpl-up","object":"chat.completion.chunk",'
) -> str:
    """An OpenAI-shaped event with this choice, written as given (field order, spacing)."""
    return f'data: {head}"choices":[{choice}]}}\n\n'


def pretty(event: dict) -> str:
    """An event whose JSON is printed over several `data:` lines."""
    lines = json.dumps(event, indent=2, ensure_ascii=False).split("\n")
    return "".join(f"data: {line}\n" for line in lines) + "\n"


# OpenAI-shaped deltas as vLLM and others write them: no logprobs, no finish_reason, other field
# orders, logprobs given, escapes that `dumps` writes otherwise, thought and answer together.
SHAPED_VARIANTS = (
    shaped({"role": "assistant", "content": ""})
    + choices('{"index":0,"delta":{"content":"Hé"}}')
    + choices('{"delta":{"content":"llo"},"index":0}')
    + choices(
        '{"index":0,"delta":{"content":" w\\u00f6rld \\/ \\ud83c\\udf0d"},"finish_reason":null}'
    )
    + choices(
        '{"index":0,"delta":{"content":" 1"},"logprobs":{"content":[{"token":" 1"}]},'
        '"finish_reason":null}'
    )
    + choices('{"index":0,"delta":{"role":null,"content":" 2","tool_calls":[]}}')
    + choices('{"index":0,"delta":{"reasoning_content":"hm","content":" 3"}}')
    + choices('{"index":0,"delta":{"reasoning":"hm2"}}')
    + choices('{"index":0,"delta":{"reasoning_content":"deep \\"ü\\""}}')
    + choices('{"index":0,"delta":{"content":"\\n\\t\\"q\\""}}', head="{")
    + choices('{"index":0,"delta":{}}')
    + choices('{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}')
    + "data: [DONE]\n\n"
)
# Tool-call argument fragments after the call's first event (which Python numbers), both
# upstream forms; fragments of an earlier call after a later one opened, and a finaliser.
TOOL_FRAGMENTS_NATIVE = (
    native("Let me check.")
    + 'data: {"tool_calls":[{"id":"c1","type":"function","index":0,"function":{"name":"f"}}]}\n\n'
    + "".join(
        f'data: {{"tool_calls":[{{"index":0,"function":{{"arguments":{json.dumps(part)}}}}}],'
        f'"p":"abc"}}\n\n'
        for part in ['{"city', '":"Zür', 'ich"}']
    )
    + 'data: {"tool_calls":[{"id":null,"type":null,"index":0,'
    '"function":{"name":null,"arguments":""}}]}\n\n'
    + 'data: {"tool_calls":[{"id":"c2","type":"function","index":1,"function":{"name":"g"}}]}\n\n'
    + 'data: {"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}\n\n'
    + 'data: {"tool_calls":[{"index":0,"function":{"arguments":" "}}]}\n\n'
    + 'data: {"finish_reason":"tool_calls"}\n\n'
    + 'data: {"response":"",'
    + USAGE
    + "}\n\n"
    + "data: [DONE]\n\n"
)
TOOL_FRAGMENTS_OPENAI = (
    shaped({"role": "assistant", "content": ""})
    + shaped(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": ""},
                }
            ]
        }
    )
    + "".join(
        shaped({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
        for part in ['{"a":', ' "b\\"', ' ✓"}']
    )
    + choices('{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}}]}}')
    + shaped(
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "g", "arguments": "{"},
                }
            ]
        }
    )
    + shaped({"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]})
    + shaped({}, "tool_calls")
    + "data: [DONE]\n\n"
)
# Compact fragments as vLLM writes them: escapes `dumps` writes the same (spliced as bytes) and
# others (`\u`, `\/`: parsed), multi-byte characters, a later call's and an unknown index.
COMPACT_FRAGMENTS = (
    'data: {"tool_calls":[{"id":"c1","type":"function","index":0,"function":{"name":"f"}}]}\n\n'
    + "".join(
        f'data: {{"tool_calls":[{{"index":0,"function":{{"arguments":"{part}"}}}}],"p":"ab"}}\n\n'
        for part in ['{\\"city', '\\": \\"Zür', "ich\\u00e9 \\/", '\\n\\t\\\\"', ""]
    )
    + 'data: {"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}\n\n'
    + choices('{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"g"}}]}}')
    + "".join(
        choices(
            f'{{"index":0,"delta":{{"tool_calls":[{{"index":{i},"function":{{"arguments":"{p}"}}}}]}}}}'
        )
        for i, p in [(1, '{\\"a\\":'), (1, " 1}"), (0, "x"), (7, "y"), (1, "")]
    )
    + "data: [DONE]\n\n"
)
# A fragment whose text ends in a lone backslash (its closing quote escaped): not JSON.
BROKEN_FRAGMENT = (
    'data: {"tool_calls":[{"index":0,"function":{"name":"f","arguments":""}}]}\n\n'
    + 'data: {"tool_calls":[{"index":0,"function":{"arguments":"x\\"}}],"p":"ab"}\n\n'
    + "data: [DONE]\n\n"
)
PRETTY = (
    pretty({"response": "Pretty", "p": "ab"})
    + pretty({"response": " printed ✓"})
    + pretty({"choices": [{"index": 0, "delta": {"content": " and shaped"}}]})
    + 'data:{"response":" no space"}\n\n'
    + 'event: message\ndata: {\ndata:   "response": " split"\ndata: }\n\n'
    + pretty({"response": "", "usage": json.loads("{" + USAGE + "}")["usage"]})
    + "data: [DONE]\n\n"
)
# Text under stop sequences: most events hold a stop's first character but no stop and no start
# of one at their end; a stop is split across events and starts with a multi-byte character.
UNDER_STOPS = (
    "".join(native(f" é{i} à", "p" * (1 + i % 5)) for i in range(6))
    + choices('{"index":0,"delta":{"content":" café"}}')
    + native("é")
    + choices('{"delta":{"content":"! said"},"index":0}')
    + native(" after")
    + 'data: {"response":"",'
    + USAGE
    + "}\n\n"
    + "data: [DONE]\n\n"
)


def mixed(seed: int, count: int = 40) -> str:
    """A seeded jumble of every shape the splice handles, with text that escapes, spans
    characters and may start stops, around one tool call; CRLF-framed when the seed is odd."""
    rng = random.Random(seed)
    pieces = ["a", "é", '"', "\\", "\n", "/", "🌍", "", "<", "st", "op", " "]
    out = [shaped({"role": "assistant", "content": ""})]
    for i in range(count):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        literal = json.dumps(text, ensure_ascii=rng.random() < 0.3)
        if i == count // 2:
            out.append(shaped({"tool_calls": [{"index": 3, "id": "c", "function": {"name": "f"}}]}))
        fragment = f'"tool_calls":[{{"index":3,"function":{{"arguments":{literal}}}}}]'
        out.append(
            rng.choice(
                [
                    native(text),
                    choices(f'{{"index":0,"delta":{{"content":{literal}}}}}'),
                    choices(f'{{"delta":{{"reasoning_content":{literal}}},"index":0}}'),
                    shaped({"content": text}),
                    pretty({"response": text}),
                    f'data: {{{fragment},"p":"ab"}}\n\n',
                    choices(f'{{"index":0,"delta":{{{fragment}}}}}'),
                ]
            )
        )
    text = "".join(out) + "data: [DONE]\n\n"
    return text.replace("\n", "\r\n") if seed % 2 else text


CRLF_EVERYTHING = (NATIVE_WITH_USAGE + SHAPED_VARIANTS + PRETTY).replace("\n", "\r\n")

CASES = {
    "native, with usage": (CHAT, NATIVE_WITH_USAGE, {}),
    "native, usage estimated": (CHAT, NATIVE_NO_USAGE, {}),
    "OpenAI-shaped": (CHAT, OPENAI_SHAPED, {}),
    "tool calls between text": (CHAT, TOOLS_BETWEEN_TEXT, {}),
    "events after [DONE]": (CHAT, AFTER_DONE_IS_IGNORED, {}),
    "error event": (CHAT, ERROR_MID_STREAM, {}),
    "no [DONE]": (CHAT, NO_DONE, {}),
    "multi-line data and comments": (CHAT, MULTI_LINE_AND_COMMENTS, {}),
    "CRLF line ends": (CHAT, CRLF, {}),
    "reasoning, then spliced answer": (REASONING, THINKING, {}),
    "long thought": (REASONING, LONG_THOUGHT, {}),
    "long thought, legacy completions": (REASONING, LONG_THOUGHT, {"prompt": "Why"}),
    "long thought with stop sequences": (REASONING, LONG_THOUGHT, {"stop": ["answer3"]}),
    "OpenAI-shaped reasoning": (CHAT, OPENAI_REASONING, {}),
    "stop sequences": (CHAT, NATIVE_NO_USAGE, {"stop": ["word7"]}),
    "stop across events": (CHAT, NATIVE_NO_USAGE, {"stop": ["7 wo", "qq"]}),
    "stop after an escape": (CHAT, NATIVE_WITH_USAGE, {"stop": ["\nsla", "zz"]}),
    "stop in OpenAI-shaped": (CHAT, OPENAI_SHAPED, {"stop": ["lo ✓"]}),
    "legacy completions": (CHAT, NATIVE_NO_USAGE + OPENAI_SHAPED, {"prompt": "Once"}),
    "OpenAI-shaped variants": (CHAT, SHAPED_VARIANTS, {}),
    "OpenAI-shaped variants, stop": (CHAT, SHAPED_VARIANTS, {"stop": ["ö", "zz"]}),
    "OpenAI-shaped variants, legacy completions": (CHAT, SHAPED_VARIANTS, {"prompt": "Once"}),
    "OpenAI-shaped variants in thought": (REASONING, native("<think>") + SHAPED_VARIANTS, {}),
    "tool-call fragments, native": (CHAT, TOOL_FRAGMENTS_NATIVE, {}),
    "tool-call fragments, OpenAI-shaped": (CHAT, TOOL_FRAGMENTS_OPENAI, {}),
    "tool-call fragments, legacy completions": (CHAT, TOOL_FRAGMENTS_OPENAI, {"prompt": "Go"}),
    "tool-call fragments, compact": (CHAT, COMPACT_FRAGMENTS, {}),
    "tool-call fragment ending in a backslash": (CHAT, BROKEN_FRAGMENT, {}),
    "pretty-printed": (CHAT, PRETTY, {}),
    "pretty-printed, stop": (CHAT, PRETTY, {"stop": ["rinted"]}),
    "under stops": (CHAT, UNDER_STOPS, {"stop": ["éé!", "à!"]}),
    "under stops, held back then let go": (CHAT, UNDER_STOPS, {"stop": ["éx", "à "]}),
    "after a stop, thought still said": (CHAT, SHAPED_VARIANTS, {"stop": ["llo"]}),
    "after a stop, tool calls still made": (
        CHAT,
        native("Go STOP now") + TOOL_FRAGMENTS_NATIVE,
        {"stop": ["STOP"]},
    ),
    "mixed shapes": (CHAT, mixed(4), {}),
    "mixed shapes, CRLF": (CHAT, mixed(5), {}),
    "mixed shapes, stops": (CHAT, mixed(6), {"stop": ["stop", "é<"]}),
    "mixed shapes in thought": (REASONING, native("<think>") + mixed(8), {}),
    "CRLF, every shape": (CHAT, CRLF_EVERYTHING, {}),
    "CRLF, thought": (REASONING, LONG_THOUGHT.replace("\n", "\r\n"), {}),
}


USAGE_EVENT = 'data: {"response":"",' + USAGE + "}\n\n"
DONE = "data: [DONE]\n\n"
OPEN_CALL = (
    'data: {"tool_calls":[{"id":"c1","type":"function","index":0,"function":{"name":"f"}}]}\n\n'
)
CALL_FRAGMENTS = "".join(
    f'data: {{"tool_calls":[{{"index":0,"function":{{"arguments":{json.dumps(p)}}}}}],"p":"ab"}}\n\n'
    for p in ['{"a":', " 1}"]
)


def stop_soup(seed: int, chat: bool = True, count: int = 60) -> str:
    """Seeded text in every shape, made of pieces of the stops (`SOUP_STOPS`), so that most
    events end with the start of one and stops are split across events; for chat, thought and,
    after the call's first event, fragments of its arguments between them."""
    rng = random.Random(seed)
    pieces = ["S", "T", "O", "P", "ST", "TO", "🌍", "é", "!", " ", "x", " a", ""]
    out = []
    for i in range(count):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
        literal = json.dumps(text, ensure_ascii=rng.random() < 0.3)
        shapes = [
            native(text),
            choices(f'{{"index":0,"delta":{{"content":{literal}}}}}'),
            shaped({"content": text}),
            pretty({"response": text}),
        ]
        if chat:
            shapes.append(choices(f'{{"delta":{{"reasoning_content":{literal}}},"index":0}}'))
            if i == count // 3:
                out.append(OPEN_CALL)
            if i > count // 3:
                shapes.append(CALL_FRAGMENTS)
        out.append(rng.choice(shapes))
    return "".join(out) + USAGE_EVENT + DONE


# Seeds 1 (never stopped), 20 (stopped at event 19 of 71) and 23 (completions, 31 of 63).
SOUP_STOPS = ["STOP", "🌍é!", "OTTO"]
# Content cut at stop sequences in JavaScript: each case with the number of its events that
# only Python may read (a tool call's first event, usage, `[DONE]`, tags, finishes). Python is
# called at most once per such event, plus once at the end, however the stops split the text.
STOPS = ["STOP"]
STOP_CASES = {
    "stop inside one event": (
        CHAT,
        native("Hello") + native(" big STOP there") + native(" more") + USAGE_EVENT + DONE,
        {"stop": STOPS},
        2,
    ),
    "stop across two events": (
        CHAT,
        native("one ST") + shaped({"content": "OP two"}) + native("three") + DONE,
        {"stop": STOPS},
        1,
    ),
    "stop across three events": (
        CHAT,
        native("a S")
        + choices('{"index":0,"delta":{"content":"T"}}')
        + pretty({"response": "OP b"})
        + USAGE_EVENT
        + DONE,
        {"stop": STOPS},
        2,
    ),
    "start of a stop that does not complete, held to the end": (
        CHAT,
        native("x ST") + native("Oz") + native(" y") + native(" S") + native("T") + DONE,
        {"stop": STOPS},
        1,
    ),
    "held at the end of a stream without [DONE]": (
        CHAT,
        native("cut ST") + native("O"),
        {"stop": STOPS},
        0,
    ),
    "stops with overlapping starts, the shorter found": (
        CHAT,
        native("zab") + native("c") + native("y!") + DONE,
        {"stop": ["abcd", "bcx", "cy"]},
        1,
    ),
    "stops found at the same place": (
        CHAT,
        native("a ST") + native("OP") + DONE,
        {"stop": ["STO", "STOP"]},
        1,
    ),
    "stops with overlapping starts, the earlier found": (
        CHAT,
        native("zab") + shaped({"content": "c"}) + native("xd") + DONE,
        {"stop": ["abcd", "bcx", "cy"]},
        1,
    ),
    "astral and accented stops": (
        CHAT,
        native("hi 🌍")
        + choices('{"index":0,"delta":{"content":"\\ud83c\\udf0d"}}')
        + native("ü")
        + native("x ü")
        + native("🎈 no")
        + shaped({"content": " 🌍"})
        + native("!")
        + DONE,
        {"stop": ["🌍!", "ü🎉"]},
        1,
    ),
    "held text, then a tool call, usage and [DONE]": (
        CHAT,
        native("wait ST") + OPEN_CALL + CALL_FRAGMENTS + native("O") + USAGE_EVENT + DONE,
        {"stop": STOPS},
        3,
    ),
    "held text, completed by Python": (
        CHAT,
        native("so ST")
        + native("O")
        + choices('{"index":0,"delta":{"content":"P!"},"finish_reason":"stop"}')
        + native(" after")
        + DONE,
        {"stop": STOPS},
        2,
    ),
    "held by Python, completed here": (
        CHAT,
        native("so")
        + 'data: {"response":" S","tool_calls":[{"name":"g","arguments":{}}]}\n\n'
        + native("TO")
        + native("P!")
        + DONE,
        {"stop": STOPS},
        2,
    ),
    "a stop, then thought and tool calls": (
        CHAT,
        native("Go ST")
        + native("OP now")
        + shaped({"reasoning_content": "still thinking"})
        + choices('{"index":0,"delta":{"content":"dropped","reasoning":"more"}}')
        + OPEN_CALL
        + CALL_FRAGMENTS
        + DONE,
        {"stop": STOPS},
        2,
    ),
    "after </think>": (
        REASONING,
        native("<think>")
        + native("a STOP in thought")
        + native("</think>Answer ST")
        + native("OP more")
        + DONE,
        {"stop": STOPS},
        3,
    ),
    "legacy completions": (
        CHAT,
        native("one ST") + shaped({"content": "O"}) + native("P two") + native(" S") + DONE,
        {"stop": STOPS, "prompt": "Once"},
        1,
    ),
    "a soup of stop pieces": (CHAT, stop_soup(1), {"stop": SOUP_STOPS}, 3),
    "a soup of stop pieces, CRLF": (
        CHAT,
        stop_soup(20).replace("\n", "\r\n"),
        {"stop": SOUP_STOPS},
        3,
    ),
    "a soup of stop pieces, legacy completions": (
        CHAT,
        stop_soup(23, chat=False),
        {"stop": SOUP_STOPS, "prompt": "Once"},
        2,
    ),
}


def chunkings(data: bytes, seed: int) -> list[list[bytes]]:
    """The whole stream at once, three random cuttings (some one byte wide), then one cut
    inside CRLFs and multi-byte characters."""
    rng = random.Random(seed)
    out = [[data]]
    for _ in range(3):
        cuts = sorted(rng.sample(range(1, len(data)), min(10, len(data) - 1)))
        out.append(split_at(data, cuts))
    inside = [i for i in range(1, len(data)) if data[i] == 10 and data[i - 1] == 13]
    inside += [i for i in range(1, len(data)) if data[i] & 0xC0 == 0x80]
    if inside:
        out.append(split_at(data, rng.sample(inside, min(12, len(inside)))))
    return out


def reference(body: dict, upstream: bytes, stream_id: str, created: int) -> bytes:
    """What `ChatStream` alone makes of the whole upstream stream, built as the handler does."""
    model = catalog.model_for(body["model"], catalog.CHAT, config.load({}))
    if "prompt" in body:
        request = chat.completion_request(body, model, body["prompt"])
        stream = chat_stream(request, body["prompt"], stream_id, created, text_completion=True)
    else:
        request = chat.chat_request(body, model)
        stream = chat_stream(request, prompt_text_of(request.inputs), stream_id, created)
    return stream.feed(b"") + stream.feed(upstream) + stream.end()


def post_streamed(
    url: str, api_key: str, emulator_control, body: dict, chunks: list[bytes]
) -> bytes:
    """What the Worker at `url` sends for `body` while the upstream sends `chunks`."""
    emulator_control.script(
        model="*",
        content_type="text/event-stream",
        chunks_b64=[base64.b64encode(c).decode() for c in chunks],
        chunk_delay_ms=0 if len(chunks) == 1 else 2,
    )
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def streamed(
    base_url: str, api_key: str, emulator_control, model: str, extra: dict, chunks: list[bytes]
) -> tuple[bytes, bytes]:
    """What the Worker sends for a streamed request whose upstream sends `chunks`, and what
    `ChatStream` alone makes of the same upstream bytes."""
    body = {"model": model, "stream": True, "stream_options": {"include_usage": True}, **extra}
    path = "/v1/completions"
    if "prompt" not in body:
        body["messages"] = [{"role": "user", "content": "Say hello"}]
        path = "/v1/chat/completions"
    sent = post_streamed(base_url + path, api_key, emulator_control, body, chunks)
    first = json.loads(sent.split(b"\n\n", 1)[0].removeprefix(b"data: "))
    return sent, reference(body, b"".join(chunks), first["id"], first["created"])


@pytest.mark.parametrize("case", list(CASES))
def test_worker_stream_matches_chatstream_for_any_chunking(
    case, base_url, api_key, emulator_control
):
    model, upstream_text, extra = CASES[case]
    for number, chunks in enumerate(chunkings(upstream_text.encode(), seed=len(case))):
        sent, expected = streamed(base_url, api_key, emulator_control, model, extra, chunks)
        assert sent.decode() == expected.decode(), f"{case}, chunking {number}: {chunks}"


STREAM_BODY = {
    "model": CHAT,
    "stream": True,
    "messages": [{"role": "user", "content": "Say hello"}],
}


def _open_stream(worker, api_key) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """A streamed chat on a connection of its own, so the test can stop reading or hang up."""
    parts = urlsplit(worker.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "POST",
        "/v1/chat/completions",
        json.dumps(STREAM_BODY),
        {"authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    return conn, conn.getresponse()


def test_client_leaving_mid_stream_stops_it_cleanly(worker, api_key, emulator_control):
    """A client that hangs up mid-stream stops the upstream stream too, leaves no error
    behind, and the next stream works."""
    emulator_control.fault(model="*", token_delay_ms=50)
    logs_before = len(worker.logs())
    conn, response = _open_stream(worker, api_key)
    assert response.read1(65536).startswith(b"data: ")
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    assert emulator_control.wait_abandoned(), "the upstream stream was not cancelled"

    emulator_control.reset()
    request = urllib.request.Request(
        worker.base_url + "/v1/chat/completions",
        data=json.dumps(STREAM_BODY).encode(),
        headers={"authorization": f"Bearer {api_key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as again:
        assert again.read().endswith(b"data: [DONE]\n\n")
    logs = worker.logs()[logs_before:]
    assert "Traceback" not in logs and "Error" not in logs, logs


def test_a_client_that_stops_reading_stops_the_upstream_reads(worker, api_key, emulator_control):
    """A client that reads the first bytes and then nothing holds the upstream back: the
    Worker buffers a bounded amount, so the emulator is still writing its 48 MB (not done)
    when the client hangs up, and sees the hang-up."""
    event = native("x" * 65536).encode()
    emulator_control.script(
        model="*",
        content_type="text/event-stream",
        chunks_b64=[base64.b64encode(event).decode()] * 768,
    )
    conn, response = _open_stream(worker, api_key)
    assert response.read1(65536).startswith(b"data: ")
    time.sleep(3)  # long enough to read and splice it all, were nothing holding it back
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    assert emulator_control.wait_abandoned(), "the Worker read the whole upstream"


@pytest.fixture(scope="module")
def counting(tmp_path_factory, start_worker):
    """The Worker with sse_splice.mjs wrapped by tests/http/splice_counter.mjs, which counts the
    calls into Python: a copy of src/ by reference, but for that one module."""
    root = tmp_path_factory.mktemp("counting")
    src = root / "src"
    src.mkdir()
    for entry in (REPO_ROOT / "src").iterdir():
        if entry.name != "bridge":
            (src / entry.name).symlink_to(entry)
    (src / "bridge").mkdir()
    for entry in (REPO_ROOT / "src" / "bridge").iterdir():
        name = "sse_splice_real.mjs" if entry.name == "sse_splice.mjs" else entry.name
        (src / "bridge" / name).symlink_to(entry)
    shutil.copy(Path(__file__).with_name("splice_counter.mjs"), src / "bridge" / "sse_splice.mjs")
    config = worker_copy(root, src=src)
    config.write_text(config.read_text().replace('"bridge/sse_splice.mjs"', '"bridge/*.mjs"'))
    return start_worker({"API_KEYS": DEFAULT_API_KEYS}, config=config)


def counted(sent: bytes) -> tuple[bytes, int]:
    """The Worker's bytes without the count splice_counter.mjs adds, and that count."""
    head, _, count = sent.rpartition(b": python ")
    return head, int(count)


@pytest.mark.parametrize("case", list(STOP_CASES))
def test_stops_are_matched_without_calling_python_for_text(
    case, counting, api_key, emulator_control
):
    """Bytes as `ChatStream` alone writes them, under any chunking, and Python is called only
    for the events it alone reads and at the end, never because of where a stop may start."""
    model, upstream_text, extra, rare = STOP_CASES[case]
    for number, chunks in enumerate(chunkings(upstream_text.encode(), seed=len(case))):
        sent, expected = streamed(
            counting.base_url, api_key, emulator_control, model, extra, chunks
        )
        sent, calls = counted(sent)
        assert sent.decode() == expected.decode(), f"{case}, chunking {number}: {chunks}"
        assert calls <= rare + 1, f"{case}, chunking {number}: {calls} calls into Python"


def test_a_stream_whose_every_event_may_start_a_stop_calls_python_a_few_times(
    counting, api_key, emulator_control
):
    """200 events, one per network chunk, each ending with a stop's first character: held
    back, then let go, in JavaScript (before, Python was called for nearly every one). Python
    hears the usage event with `[DONE]`, and the end."""
    chunks = [
        (native(f" word{i} S") if i % 2 else shaped({"content": f" word{i} S"})).encode()
        for i in range(200)
    ]
    chunks.append((USAGE_EVENT + DONE).encode())
    extra = {"stop": ["STOP", "SOS"]}
    sent, expected = streamed(counting.base_url, api_key, emulator_control, CHAT, extra, chunks)
    sent, calls = counted(sent)
    assert sent == expected
    assert calls <= 3, f"{calls} calls into Python"
