"""The streaming transcoder: OpenAI chunk order and fields, any upstream chunking, failures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapping import chatstream
from mapping.chatstream import ChatStream
from tests.chunking import split_at

NATIVE = (
    'data: {"response":"Hel","p":"abcdef"}\n\n'
    'data: {"response":"lo \\"wörld\\" 🌍\\n","p":"abcdefghijklmnop"}\n\n'
    'data: {"response":0}\n\n'
    'data: {"response":""}\n\n'
    'data: {"response":"","usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\n'
    "data: [DONE]\n\n"
)


def transcoder(**kw) -> ChatStream:
    options = {"completion_id": "chatcmpl-1", "created": 7, "model": "@cf/m", "max_tokens": 100}
    return ChatStream(**{**options, **kw})


def run_chunks(chunks: list[bytes], **kw) -> str:
    stream = transcoder(**kw)
    out = [stream.feed(chunk) for chunk in chunks]
    return (b"".join(out) + stream.end()).decode()


def events(text: str) -> list:
    assert text.endswith("data: [DONE]\n\n")
    assert text.count("data: [DONE]") == 1
    blocks = [b for b in text.split("\n\n") if b]
    assert all(b.startswith("data: ") for b in blocks)
    return [json.loads(b[6:]) for b in blocks[:-1]]


def test_native_stream_becomes_openai_chunks_in_order():
    chunks = events(run_chunks([NATIVE.encode()], include_usage=True))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    for chunk in chunks:
        assert chunk["id"] == "chatcmpl-1"
        assert chunk["object"] == "chat.completion.chunk"
        assert (chunk["created"], chunk["model"]) == (7, "@cf/m")
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content == 'Hello "wörld" 🌍\n0'
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    for chunk in chunks[:-2]:
        assert chunk["choices"][0]["finish_reason"] is None
        assert chunk["choices"][0]["index"] == 0


def test_no_usage_chunk_unless_asked():
    chunks = events(run_chunks([NATIVE.encode()]))
    assert all(c["choices"] for c in chunks)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(NATIVE.encode())), max_size=12))
def test_any_byte_chunking_gives_identical_output(cuts):
    data = NATIVE.encode()
    pieces = split_at(data, cuts)
    assert run_chunks(pieces, include_usage=True) == run_chunks([data], include_usage=True)


def test_crlf_split_across_chunks():
    data = NATIVE.replace("\n", "\r\n").encode()
    whole = run_chunks([NATIVE.encode()])
    assert run_chunks([data[:30], data[30:31], data[31:]]) == whole


def test_fast_path_and_json_path_agree():
    fast = run_chunks([b'data: {"response":"a\\u00e9\\"","p":"abc"}\n\ndata: [DONE]\n\n'])
    slow = run_chunks([b'data: {"p":"abc","response":"a\\u00e9\\""}\n\ndata: [DONE]\n\n'])
    assert [c["choices"][0]["delta"] for c in events(fast)] == [
        c["choices"][0]["delta"] for c in events(slow)
    ]


def test_length_finish_when_budget_used():
    text = 'data: {"response":"x","usage":{"prompt_tokens":1,"completion_tokens":4}}\n\ndata: [DONE]\n\n'
    chunks = events(run_chunks([text.encode()], max_tokens=4))
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_native_flat_tool_call():
    text = (
        'data: {"response":"","tool_calls":[{"name":"add","arguments":{"a":1,"b":2}}]}\n\n'
        "data: [DONE]\n\n"
    )
    chunks = events(run_chunks([text.encode()]))
    call = chunks[1]["choices"][0]["delta"]["tool_calls"][0]
    assert call["index"] == 0
    assert call["type"] == "function"
    assert call["id"]
    assert call["function"] == {"name": "add", "arguments": '{"a":1,"b":2}'}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_incremental_tool_call_deltas_and_null_finaliser():
    text = (
        'data: {"tool_calls":[{"id":"chatcmpl-tool-abc","type":"function","index":0,'
        '"function":{"name":"calc"}}]}\n\n'
        'data: {"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\": 1"}}]}\n\n'
        'data: {"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}\n\n'
        'data: {"tool_calls":[{"id":null,"type":null,"index":0,"function":{"name":null,'
        '"arguments":""}}]}\n\n'
        'data: {"tool_calls":[],"p":"abc"}\n\n'
        'data: {"finish_reason":"tool_calls"}\n\n'
        "data: [DONE]\n\n"
    )
    chunks = events(run_chunks([text.encode()]))
    deltas = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if "tool_calls" in c["choices"][0]["delta"]
    ]
    assert deltas[0] == {
        "index": 0,
        "id": "chatcmpl-tool-abc",
        "type": "function",
        "function": {"name": "calc", "arguments": ""},
    }
    assert "".join(d["function"]["arguments"] for d in deltas) == '{"a": 1}'
    assert len(deltas) == 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_openai_shaped_chunks_with_reasoning():
    upstream = [
        {
            "id": "x",
            "object": "chat.completion.chunk",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "reasoning_content": "think"},
                    "finish_reason": None,
                }
            ],
        },
        {"id": "x", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
        {"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            "id": "x",
            "choices": [],
            "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
        },
    ]
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in upstream) + "data: [DONE]\n\n"
    chunks = events(run_chunks([text.encode()], include_usage=True))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert {"reasoning_content": "think"} in deltas
    assert {"content": "Hi"} in deltas
    assert chunks[-1]["usage"]["total_tokens"] == 4
    assert sum(1 for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]) == 1


def test_think_tags_split_reasoning_even_when_the_tag_is_split():
    tokens = ["Let me", " think</", "think>\n\nThe answer", " is 4."]
    text = "".join(f"data: {json.dumps({'response': t})}\n\n" for t in tokens) + "data: [DONE]\n\n"
    chunks = events(run_chunks([text.encode()], think_tags=True))
    deltas = [c["choices"][0]["delta"] for c in chunks]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    content = "".join(d.get("content", "") for d in deltas)
    assert reasoning == "Let me think"
    assert content == "The answer is 4."


def test_stop_sequence_cuts_across_tokens():
    tokens = ["one two", " ST", "OP three", " four"]
    text = "".join(f"data: {json.dumps({'response': t})}\n\n" for t in tokens) + "data: [DONE]\n\n"
    chunks = events(run_chunks([text.encode()], stops=("STOP",)))
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == "one two "
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_stream_without_done_ends_with_error_event():
    out = run_chunks([b'data: {"response":"partial","p":"ab"}\n\n'])
    assert out.endswith("data: [DONE]\n\n")
    chunks = events(out)
    assert chunks[-1]["error"]["code"] == "upstream_stream_error"


def test_fail_mid_stream_emits_error_then_done_once():
    stream = transcoder()
    first = stream.feed(b'data: {"response":"a","p":"ab"}\n\n')
    failed = stream.fail("boom")
    assert stream.end() == b""
    assert stream.feed(b"data: more\n\n") == b""
    chunks = events((first + failed).decode())
    assert chunks[-1] == {
        "error": {
            "message": "boom",
            "type": "api_error",
            "param": None,
            "code": "upstream_stream_error",
        }
    }


def test_upstream_error_event_ends_the_stream():
    out = run_chunks([b'data: {"error":"overloaded"}\n\ndata: {"response":"late"}\n\n'])
    chunks = events(out)
    assert chunks[-1]["error"]["type"] == "api_error"
    assert all("late" not in json.dumps(c) for c in chunks)


def test_duplicate_done_and_events_after_done_are_ignored():
    text = NATIVE + 'data: {"response":"after"}\n\ndata: [DONE]\n\n'
    out = run_chunks([text.encode()])
    assert "after" not in out
    assert out.count("[DONE]") == 1


def test_text_completion_flavour():
    chunks = events(run_chunks([NATIVE.encode()], text_completion=True))
    assert chunks[0]["object"] == "text_completion"
    assert "".join(c["choices"][0]["text"] for c in chunks) == 'Hello "wörld" 🌍\n0'
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def openai_chunk(delta: dict | None, finish: str | None = None, **extra) -> dict:
    """An upstream chat.completion.chunk (delta None: a usage-only chunk)."""
    choices = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    )
    return {
        "id": "u",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "@cf/q",
        "choices": choices,
        **extra,
    }


COMPACT = {"separators": (",", ":")}
# Compact JSON as vLLM-served models emit it (the fast path), plus one spaced-out event.
OPENAI_SHAPED = (
    "".join(
        f"data: {json.dumps(event, **options)}\n\n"
        for event, options in [
            (openai_chunk({"role": "assistant", "content": ""}), COMPACT),
            (openai_chunk({"reasoning_content": "hmm"}), COMPACT),
            (openai_chunk({"content": 'Hé "q" 🌍\n'}), {**COMPACT, "ensure_ascii": False}),
            (openai_chunk({"content": "ü\\"}), COMPACT),
            (openai_chunk({"content": "x"}, usage=None), COMPACT),
            (openai_chunk({"content": " spaced"}), {}),
            (openai_chunk({}, "stop"), COMPACT),
            (
                openai_chunk(
                    None, usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
                ),
                COMPACT,
            ),
        ]
    )
    + "data: [DONE]\n\n"
)


def test_openai_shaped_content_is_spliced_with_our_envelope():
    chunks = events(run_chunks([OPENAI_SHAPED.encode()], include_usage=True))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "hmm"},
        {"content": 'Hé "q" 🌍\n'},
        {"content": "ü\\"},
        {"content": "x"},
        {"content": " spaced"},
        {},
    ]
    assert all((c["id"], c["model"], c["created"]) == ("chatcmpl-1", "@cf/m", 7) for c in chunks)
    assert chunks[-1]["usage"]["total_tokens"] == 7


def test_compact_openai_content_deltas_skip_json(monkeypatch):
    parsed = []
    real = chatstream.json.loads
    monkeypatch.setattr(chatstream.json, "loads", lambda data: parsed.append(data) or real(data))
    run_chunks([OPENAI_SHAPED.encode()])
    texts = b"".join(parsed)
    assert "Hé".encode() not in texts and b"\\u00fc" not in texts  # spliced, never parsed
    assert b"hmm" not in texts  # a reasoning delta is spliced too
    assert b"spaced" in texts and b'"role"' in texts  # the json path's events


def test_openai_shaped_fast_and_json_paths_give_the_same_chunks(monkeypatch):
    def parsed() -> list:
        stream = transcoder(include_usage=True)
        return events((stream.feed(OPENAI_SHAPED.encode()) + stream.end()).decode())

    spliced = parsed()
    monkeypatch.setattr(ChatStream, "_spliced", lambda self, event, mode: None)
    assert spliced == parsed()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(OPENAI_SHAPED.encode())), max_size=10))
def test_any_chunking_of_an_openai_shaped_stream_gives_identical_output(cuts):
    data = OPENAI_SHAPED.encode()
    pieces = split_at(data, cuts)
    assert run_chunks(pieces, include_usage=True) == run_chunks([data], include_usage=True)


def test_mode_tells_the_javascript_splicer_when_it_may_splice():
    plain = transcoder()
    assert plain.mode == chatstream.SPLICE
    plain.feed(b'data: {"response":"hi","p":"ab"}\n\ndata: [DONE]\n\n')
    assert plain.mode == chatstream.OVER  # anything after [DONE] is ignored
    stopping = transcoder(stops=("END", "halt"))
    assert stopping.mode == chatstream.SPLICE  # for text in which no stop can start
    assert stopping.splice_heads().stop_triggers == b"E\\h"  # and no escape could spell one
    stopping.feed(b'data: {"response":"the EN","p":"ab"}\n\n')
    # `EN` is held back: the next text decides, wherever it is matched (JavaScript adopts `held`).
    assert stopping.mode == chatstream.SPLICE and stopping.held == "EN"
    stopping.feed(b'data: {"response":"D","p":"ab"}\n\n')
    assert stopping.stopped and stopping.mode == chatstream.STOPPED  # text says nothing more
    assert stopping.feed(b'data: {"response":"more","p":"ab"}\n\n') == b""

    reasoning = transcoder(think_tags=True)
    reasoning.feed(b'data: {"response":"<think>Hmm","p":"ab"}\n\n')
    assert reasoning.mode == chatstream.REASON  # thought goes to reasoning_content, not content
    reasoning.feed(b'data: {"response":" then </th","p":"ab"}\n\n')
    assert reasoning.mode == chatstream.PYTHON  # the rest of `</think>` needs the next text
    reasoning.feed(b'data: {"response":"ink>Answer","p":"ab"}\n\n')
    assert reasoning.mode == chatstream.SPLICE
    assert transcoder(think_tags=True, text_completion=True).mode == chatstream.PYTHON

    failed = transcoder()
    failed.feed(b'data: {"error":"overloaded"}\n\n')
    assert failed.mode == chatstream.OVER


def test_settle_adopts_what_javascript_matched_against_the_stops():
    def stream(state: bytes) -> ChatStream:
        out = transcoder(stops=("END", "🌍!"))
        out.feed(b"")
        out.settle(state)
        return out

    # Held text is said (and counted) at the end unless a stop completes it.
    held = stream(b"\x00the \xf0\x9f\x8c\x8d")
    assert held.held == "the 🌍" and held.mode == chatstream.SPLICE
    tail = events_of(held.feed(b"data: [DONE]\n\n") + held.end())
    assert tail[0]["choices"][0]["delta"] == {"content": "the 🌍"}
    held = stream(b"\x00\xf0\x9f\x8c\x8d")
    assert held.feed(b'data: {"response":"!","p":"ab"}\n\n') == b""
    assert held.stopped and held.held == "" and held.mode == chatstream.STOPPED
    # A stop found in JavaScript: content says nothing more.
    stopped = stream(b"\x01")
    assert stopped.mode == chatstream.STOPPED and stopped.held == ""
    assert stopped.feed(b'data: {"response":"more","p":"ab"}\n\n') == b""


def test_feed_splices_no_content_while_text_is_held_back():
    # `D` holds no byte that starts a stop, but `_spliced` cannot put the held `EN` before it.
    stream = transcoder(stops=("END",))
    data = b'data: {"response":"the EN","p":"ab"}\n\ndata: {"response":"D","p":"ab"}\n\n'
    assert [e["choices"][0]["delta"] for e in events_of(stream.feed(data))[1:]] == [
        {"content": "the "}
    ]
    assert stream.stopped


def test_splice_heads_wrap_a_literal_into_the_same_chunk_feed_makes():
    event = b'data: {"response":"a\\"b","p":"xy"}\n\n'
    for text_completion in (False, True):
        heads = transcoder(text_completion=text_completion).splice_heads()
        fed = transcoder(text_completion=text_completion)
        fed.feed(b"")
        assert heads.content + b'a\\"b' + heads.tail == fed.feed(event)
        # An OpenAI-shaped delta is spliced for chat only; completions have no `delta`.
        assert (heads.chunk is None) == text_completion
    thinking = transcoder(think_tags=True)
    thinking.feed(b'data: {"response":"<think>","p":"xy"}\n\n')
    heads = thinking.splice_heads()
    assert heads.reasoning + b'a\\"b' + heads.tail == thinking.feed(event)


def test_reasoning_splice_leaves_anything_tag_like_to_the_json_path():
    def deltas(events: list[str]) -> list:
        stream = transcoder(think_tags=True)
        data = "".join(f'data: {{"response":{json.dumps(e)},"p":"ab"}}\n\n' for e in events)
        chunks = events_of(stream.feed(data.encode()) + stream.feed(b"data: [DONE]\n\n"))
        return [c["choices"][0]["delta"] for c in chunks[1:]]

    # `\u003c` is `<`: a tag written as an escape is still found.
    assert deltas(["<think>", "a", "\u003c/think>b", " c"]) == [
        {"reasoning_content": "a"},
        {"content": "b"},
        {"content": " c"},
    ]
    assert deltas(["<think>x </thi", "nk> y"]) == [
        {"reasoning_content": "x "},
        {"content": "y"},
    ]


def test_content_spliced_outside_counts_towards_the_usage_estimate():
    def usage(spliced: int) -> dict:
        stream = transcoder(include_usage=True, prompt_text="hello there")
        stream.feed(b'data: {"response":"abc","p":"xy"}\n\ndata: [DONE]\n\n')
        return events((stream.end(spliced)).decode())[-1]["usage"]

    assert usage(30)["completion_tokens"] > usage(0)["completion_tokens"]
    assert usage(30)["prompt_tokens"] == usage(0)["prompt_tokens"]


def events_of(data: bytes) -> list:
    """The JSON events in `data`, without requiring the stream to have ended."""
    return [json.loads(b[6:]) for b in data.decode().split("\n\n") if b.startswith("data: {")]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", "ab", "\n", "é", "ba", " x", '"', "\\", "<", "</s"]), max_size=12
    ),
    st.lists(st.sampled_from(["ab", "b\n", "é", "</s>", "x"]), min_size=1, max_size=2),
)
def test_splicing_with_stop_sequences_changes_nothing(tokens, stops):
    """Whatever the text and the stops, splicing what no stop can start in gives the same
    chunks as parsing every event."""
    data = "".join(
        f'data: {{"response":{json.dumps(t, ensure_ascii=bool(i % 2))},"p":"ab"}}\n\n'
        for i, t in enumerate(tokens)
    )
    data += "data: [DONE]\n\n"
    spliced = events(run_chunks([data.encode()], stops=tuple(stops)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChatStream, "_spliced", lambda self, event, mode: None)
        parsed = events(run_chunks([data.encode()], stops=tuple(stops)))
    assert spliced == parsed


def test_the_javascript_splicer_uses_the_same_constants_as_python():
    # sse_splice.mjs and chatstream must agree on modes, call kinds and the byte markers they
    # splice around; each is written once per language, and this keeps the two equal.
    source = (Path(__file__).parents[2] / "src" / "bridge" / "sse_splice.mjs").read_text()
    numbers = dict(re.findall(r"^const ([A-Z]+) = (\d+);", source, re.M))
    texts = dict(re.findall(r"^const ([A-Z_]+) = ascii\('([^']*)'\);", source, re.M))
    keys = re.search(r"^const DELTA_KEYS = \[(.*)\];", source, re.M).group(1)
    modes = ("PYTHON", "SPLICE", "OVER", "REASON", "STOPPED", "THOUGHT", "CALL")
    assert {k: int(numbers[k]) for k in modes} == {k: getattr(chatstream, k) for k in modes}
    assert tuple(int(numbers[k]) for k in ("FEED", "END", "FAIL", "SPLICED")) == (
        chatstream.FEED,
        chatstream.END,
        chatstream.FAIL,
        chatstream.SPLICED,
    )
    assert texts["DATA"].encode() == chatstream._DATA
    assert texts["NATIVE"].encode() == chatstream._FAST_EVENT
    assert texts["PAD"].encode() == chatstream._PAD
    assert texts["DELTA"].encode() == chatstream._CHUNK_DELTA
    assert texts["DELTA_TAIL"].encode() == chatstream._CHUNK_TAIL
    compact = ("COMPACT_TAIL", "FRAGMENT", "ARGUMENTS", "FRAGMENT_TAIL")
    assert tuple(texts[k].encode() for k in compact) == (
        chatstream._COMPACT_TAIL,
        *chatstream._COMPACT_FRAGMENT,
    )
    native_fragment = (texts["NATIVE_FRAGMENT"].encode(), texts["NATIVE_FRAGMENT_END"].encode())
    assert native_fragment == chatstream._NATIVE_FRAGMENT
    assert (
        tuple(k.encode() for k in re.findall(r"ascii\('([^']*)'\)", keys)) == chatstream._CHUNK_KEYS
    )


def test_an_event_that_is_not_json_ends_the_stream_with_an_error_not_silence():
    stream = ChatStream(completion_id="c", created=1, model="m", max_tokens=100)
    out = stream.feed(b'data: {"response":"Hel","p":"x"}\n\ndata: {"response": lo\n\n')
    out += stream.end()
    text = out.decode()
    assert '"content":"Hel"' in text
    assert "Workers AI sent an event that is not JSON." in text
    assert text.endswith("data: [DONE]\n\n")


def _compact_events(texts: list[str]) -> str:
    """Compact events as vLLM writes them, each carrying one of `texts` (escaped as `json`
    escapes, or with `\\u` escapes): content, reasoning and argument fragments of a call."""
    head = 'data: {"id":"u","object":"chat.completion.chunk","choices":[{"index":0,"delta":{'
    opened = head + '"tool_calls":[{"index":0,"id":"c","function":{"name":"f"}}]}}]}\n\n'
    out = [opened]
    for i, text in enumerate(texts):
        literal = json.dumps(text, ensure_ascii=bool(i % 3 == 2))
        out.append(
            [
                f'{head}"content":{literal}}}}}]}}\n\n',
                f'{head}"reasoning_content":{literal}}}}}]}}\n\n',
                f'{head}"tool_calls":[{{"index":0,"function":{{"arguments":{literal}}}}}]}}}}]}}\n\n',
                f'data: {{"tool_calls":[{{"index":0,"function":{{"arguments":{literal}}}}}],"p":"ab"}}\n\n',
            ][i % 4]
        )
    return "".join(out) + "data: [DONE]\n\n"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "é", '"', "\\", "\n", "\x01", "/", "🌍", "", "<"]), max_size=12),
    st.sampled_from([(), ("é",), ("a\n",)]),
)
def test_compact_events_as_bytes_are_what_json_would_write(texts, stops):
    """`_compact` writes exactly the chunks `_json_event` would (the usage estimate aside)."""
    data = _compact_events(texts).encode()
    spliced = run_chunks([data], stops=stops)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChatStream, "_compact", lambda self, event, mode: None)
        parsed = run_chunks([data], stops=stops)
    assert spliced == parsed
