"""Workers AI server-sent events -> OpenAI `chat.completion.chunk` (or `text_completion`) events.

`ChatStream.feed(data)` takes upstream bytes in arbitrary pieces (events may be split across
pieces, even inside a multi-byte character, or several may share one) and returns the OpenAI
events ready to send, as UTF-8 bytes; `end()` closes the stream (finish_reason chunk, optional
usage chunk, exactly one `data: [DONE]`), and `fail(message)` ends a broken one with an error
event, then `[DONE]`.

Bytes in and out because crossing into Pyodide as bytes costs far less than as JS strings, and
only whole events are parsed, so a split character is never decoded in halves. Common events
are spliced as bytes (`ChatStream._spliced`): a native `{"response":"…","p":"…"}` event's JSON
string literal is already valid inside our JSON, so it is copied without decoding or
re-encoding (as content, or as reasoning inside `<think>`); an OpenAI-shaped content or
reasoning delta keeps its `"choices":[…]` and gets our envelope; a compact content delta or
tool-call argument fragment whose string `dumps` would write the same is written around it
(`_compact`). Everything else (new tool calls, usage, role and finish chunks, numbers, tags,
text where a stop sequence may start) goes through `json`. Both paths give the same chunks.

In the Worker, sse_splice.mjs splices the same events the same way in JavaScript, and writes
the chunks for the events `_json_event` reads as only text and argument fragments itself too
(parsed), cutting content at the stop sequences as `_content` does; it hands `feed` the rest.
`mode` says what it may splice, `open_call` which call's fragments it may write. Whichever side
matched content against the stops last, the other adopts the outcome: JavaScript reads `held`
after each call, and before a call hands `settle` what its own matching changed.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from core.exchange import dumps
from mapping import chat

DONE = b"data: [DONE]\n\n"
# `ChatStream.mode`, which sse_splice.mjs follows:
#   PYTHON  every event goes to `feed`;
#   SPLICE  content and reasoning events are spliced (content cut at the stops as `_content`
#           cuts it, the text held back against them in `held`);
#   OVER    nothing more is read;
#   REASON  inside `<think>`: native text that cannot hold a tag is spliced as reasoning;
#   STOPPED after a stop sequence: content says nothing more (thought and tool calls still do);
#   THOUGHT (numbered streams) a reasoning item is open while the chat transcoder is in SPLICE:
#           only OpenAI-shaped thought is spliced, as reasoning text;
#   CALL    (numbered streams) the open call's item is open: only its argument fragments are.
PYTHON, SPLICE, OVER, REASON, STOPPED, THOUGHT, CALL = 0, 1, 2, 3, 4, 5, 6
# What sse_splice.mjs asks of Python through `python(kind, value)`; SPLICED tells a numbered
# transform (Responses) what was spliced since its last call.
FEED, END, FAIL, SPLICED = 0, 1, 2, 3
_DATA = b"data:"  # an SSE data line's field name
_FAST_EVENT = b'data: {"response":"'
_PAD = b'","p":"'
# An OpenAI-shaped content or reasoning delta, spliced onto our envelope: its choices are
# already right.
_CHUNK_DELTA = b'"choices":[{"index":0,"delta":{"'
_CHUNK_KEYS = (b'content":"', b'reasoning_content":"')
_CHUNK_TAIL = b'"finish_reason":null}]}'
# Compact events as vLLM writes them, whose one string needs no escape: written as `_json_event`
# would write them, from the string's bytes. An OpenAI-shaped delta (after `_CHUNK_DELTA`) of
# content or reasoning (a `_CHUNK_KEYS` key, then the string and this tail), or of a fragment of
# a tool call's arguments; the same fragment in the native form.
_COMPACT_TAIL = b'"}}]}'
_COMPACT_FRAGMENT = (b'tool_calls":[{"index":', b',"function":{"arguments":"', b'"}}]}}]}')
_NATIVE_FRAGMENT = (b'data: {"tool_calls":[{"index":', b'"}}]')
_PLAIN = re.compile(rb'(?:[^"\\\x00-\x1f]|\\["\\bfnrt])*')
_TOOL = "tool_calls"


class SpliceHeads(NamedTuple):
    """What sse_splice.mjs puts around the bytes it splices (see `ChatStream._spliced`)."""

    content: bytes  # before a native event's literal, as content
    tail: bytes  # after it
    reasoning: bytes  # before it, as reasoning_content
    chunk: bytes | None  # before an OpenAI-shaped event's choices (None: not for completions)
    stop_triggers: bytes  # content holding any of these bytes is not spliced as bytes
    stops: tuple[str, ...] = ()  # parsed content is cut at these as `_content` cuts it


def _longest_prefix_tail(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest suffix of `text` that starts some marker (held back for later)."""
    best = 0
    for marker in markers:
        for size in range(min(len(marker) - 1, len(text)), best, -1):
            if marker.startswith(text[-size:]):
                best = size
                break
    return best


class ChatStream:
    """One streamed completion's transcoder; see the module docstring."""

    def __init__(
        self,
        *,
        completion_id: str,
        created: int,
        model: str,
        max_tokens: int,
        include_usage: bool = False,
        stops: tuple[str, ...] = (),
        think_tags: bool = False,
        text_completion: bool = False,
        prompt_text: str = "",
    ) -> None:
        self.buffer = b""
        self.started = False
        self.finished = False
        self.done_seen = False
        self.stopped = False
        self.usage: chat.Usage | None = None
        self.upstream_finish: str | None = None
        self.tool_count = 0
        self.tool_index: dict[Any, int] = {}
        # The upstream index of the call opened last, and its argument fragment's chunk.
        self.open_call: tuple[int, str] | None = None
        self.content_chars = 0
        self.include_usage = include_usage
        self.max_tokens = max_tokens
        self.stops = stops
        self.held = ""  # content that may start a stop: said once the next text rules it out
        self.thinking = think_tags
        self.think_pending = ""
        self.text_completion = text_completion
        self.prompt_text = prompt_text
        self.completion_id = completion_id
        kind = "text_completion" if text_completion else "chat.completion.chunk"
        self.envelope = (
            f'{{"id":{dumps(completion_id)},"object":"{kind}","created":{created},'
            f'"model":{dumps(model)},'
        )
        if text_completion:
            head = "data: " + self.envelope + '"choices":[{"text":"'
            tail = '","index":0,"logprobs":null,"finish_reason":null}]}\n\n'
        else:
            head = "data: " + self.envelope + '"choices":[{"index":0,"delta":{"content":"'
            tail = '"},"logprobs":null,"finish_reason":null}]}\n\n'
        self.fast_head = head.encode()
        self.fast_tail = tail.encode()
        self.reasoning_head = (
            "data: " + self.envelope + '"choices":[{"index":0,"delta":{"reasoning_content":"'
        ).encode()
        # A completion's choices are not a chat delta's: its OpenAI-shaped events are rewritten.
        self.chunk_head = None if text_completion else ("data: " + self.envelope).encode()
        # With stop sequences, text may be spliced only if no stop can start in it: it holds no
        # byte that begins one, and no escape (which could spell one).
        self.stop_triggers = (
            bytes(sorted({b"\\"[0]} | {stop.encode()[0] for stop in stops if stop}))
            if stops
            else b""
        )

    @property
    def mode(self) -> int:
        """`PYTHON`, `SPLICE`, `REASON` (inside `<think>`, nothing held back), `STOPPED` or
        `OVER` (after `[DONE]`, an error or the end): which events may be spliced without
        `feed`."""
        if self.finished or self.done_seen:
            return OVER
        if self.thinking:
            # Completions have no reasoning field; a held-back `</thi…` needs the next text.
            return PYTHON if self.text_completion or self.think_pending else REASON
        if self.stopped:
            return STOPPED  # (a stop is only looked for after `</think>`)
        return SPLICE  # text held back against the stops is sse_splice.mjs's too (`held`)

    @property
    def _own_mode(self) -> int:
        """`mode` for `feed`'s own splicing, which cannot put held-back text before what it
        splices: PYTHON while there is some."""
        return PYTHON if self.held else self.mode

    def settle(self, state: bytes) -> None:
        """Adopt what sse_splice.mjs found matching content against the stops since it last
        called: `\\x01` for a stop, else `\\x00` and the text it holds back (UTF-8)."""
        self.stopped = state == b"\x01"
        self.held = state[1:].decode()

    def splice_heads(self) -> SpliceHeads:
        """What sse_splice.mjs puts around what it splices."""
        return SpliceHeads(
            content=self.fast_head,
            tail=self.fast_tail,
            reasoning=self.reasoning_head,
            chunk=self.chunk_head,
            stop_triggers=self.stop_triggers,
            stops=self.stops,
        )

    def _stop_free(self, raw: bytes) -> bool:
        """Whether no stop sequence can begin in this JSON text (always, without stops)."""
        return not any(byte in raw for byte in self.stop_triggers)

    # ---- output ------------------------------------------------------------------------

    def _event(self, choice: dict | None, usage: Any = None) -> bytes:
        if choice is None:
            body = '"choices":[],"usage":' + dumps(usage) + "}"
        else:
            body = '"choices":[' + dumps(choice) + "]}"
        return ("data: " + self.envelope + body + "\n\n").encode()

    def _delta(self, delta: dict, finish: str | None = None) -> bytes:
        if self.text_completion:
            choice = {"text": delta.get("content", ""), "index": 0, "logprobs": None}
        else:
            choice = {"index": 0, "delta": delta, "logprobs": None}
        choice["finish_reason"] = finish
        return self._event(choice)

    def _start(self) -> bytes:
        self.started = True
        if self.text_completion:
            return b""
        return self._delta({"role": "assistant", "content": ""})

    def _content(self, text: str, out: list[bytes]) -> None:
        if self.stopped or not text:
            return
        if self.thinking:
            text = self._reasoning(text, out)
            if not text:
                return
        if self.stops:
            text = self.held + text
            cut, found = chat.apply_stops(text, self.stops)
            if found:
                self.stopped = True
                self.held = ""
                text = cut
            else:
                keep = _longest_prefix_tail(text, self.stops)
                self.held = text[len(text) - keep :] if keep else ""
                text = text[: len(text) - keep]
        if text:
            self.content_chars += len(text)
            out.append(self._delta({"content": text}))

    def _reasoning(self, text: str, out: list[bytes]) -> str:
        """Emit thought up to `</think>`; return what follows it (the answer)."""
        text = self.think_pending + text
        self.think_pending = ""
        head, marker, tail = text.partition(chat.THINK_END)
        if marker:
            self.thinking = False
            tail = tail.lstrip()
        else:
            keep = _longest_prefix_tail(head, (chat.THINK_END, "<think>"))
            if keep:
                self.think_pending = head[-keep:]
                head = head[:-keep]
        head = head.replace("<think>", "")
        if head:
            self.content_chars += len(head)
            out.append(self._delta({"reasoning_content": head}))
        return tail

    def _tool_calls(self, calls: Any, out: list[bytes]) -> None:
        for call in calls if isinstance(calls, list) else ():
            if not isinstance(call, dict):
                continue
            if "function" not in call and call.get("name"):
                # Flat native form: one complete call per item.
                number = self.tool_count
                self.tool_count += 1
                arguments = call.get("arguments", {})
                out.append(
                    self._delta(
                        {
                            _TOOL: [
                                {
                                    "index": number,
                                    "id": call.get("id") or f"call_{self.completion_id}_{number}",
                                    "type": "function",
                                    "function": {
                                        "name": call["name"],
                                        "arguments": arguments
                                        if isinstance(arguments, str)
                                        else dumps(arguments),
                                    },
                                }
                            ]
                        }
                    )
                )
                continue
            function = call.get("function") or {}
            key = call.get("index", 0)
            delta: dict[str, Any] = {}
            if key not in self.tool_index:
                if not function.get("name"):
                    continue  # a finaliser or fragment for a call never opened
                self.tool_index[key] = self.tool_count
                self.tool_count += 1
                self._opened(key)
                delta = {
                    "index": self.tool_index[key],
                    "id": call.get("id") or f"call_{self.completion_id}_{self.tool_index[key]}",
                    "type": "function",
                    "function": {"name": function["name"], "arguments": ""},
                }
            arguments = function.get("arguments")
            if arguments not in (None, ""):
                if not isinstance(arguments, str):
                    arguments = dumps(arguments)
                if delta:
                    delta["function"]["arguments"] = arguments
                else:
                    delta = {"index": self.tool_index[key], "function": {"arguments": arguments}}
            if delta:
                out.append(self._delta({_TOOL: [delta]}))

    def _opened(self, key: Any) -> None:
        """Note the call at upstream index `key` as `open_call`: sse_splice.mjs writes the chunk
        of a fragment of its arguments (`_tool_calls`, NUL in place of the fragment's literal)
        for the fragments that follow, which are most of a tool call's events."""
        if self.text_completion or type(key) is not int:
            self.open_call = None  # a completion's chunk has no arguments to splice into
            return
        number = self.tool_index[key]
        chunk = self._delta({_TOOL: [{"index": number, "function": {"arguments": ""}}]})
        self.open_call = (key, chunk.decode().replace('"arguments":""', '"arguments":"\0"'))

    def _record_usage(self, raw: Any) -> None:
        usage = chat.parse_usage(raw)
        if usage:
            self.usage = usage

    def _json_event(self, data: bytes, out: list[bytes]) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            # Dropping it would lose part of the answer without a word: end with an error.
            raise _UpstreamEventError("Workers AI sent an event that is not JSON.") from None
        if not isinstance(event, dict):
            self._content(chat.as_text(event), out)
            return
        if "error" in event:
            raise _UpstreamEventError("Workers AI reported an error during the stream.")
        if isinstance(event.get("choices"), list):
            for choice in event["choices"][:1]:
                delta = choice.get("delta") or {}
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning:
                    self.content_chars += len(reasoning)
                    out.append(self._delta({"reasoning_content": reasoning}))
                if delta.get("content") is not None:
                    self._content(chat.as_text(delta["content"]), out)
                if delta.get(_TOOL):
                    self._tool_calls(delta[_TOOL], out)
                if choice.get("finish_reason"):
                    self.upstream_finish = choice["finish_reason"]
        else:
            if "response" in event:
                self._content(chat.as_text(event["response"]), out)
            if event.get(_TOOL):
                self._tool_calls(event[_TOOL], out)
            if event.get("finish_reason"):
                self.upstream_finish = event["finish_reason"]
        if "usage" in event:
            self._record_usage(event["usage"])

    def _data(self, data: bytes, out: list[bytes]) -> None:
        if data == b"[DONE]":
            self.done_seen = True
        else:
            self._json_event(data, out)

    def _spliced(self, event: bytes, mode: int) -> bytes | None:
        """The chunk for a common event, spliced without decoding it (sse_splice.mjs does the
        same in JavaScript): b"" for one that says nothing, None for any other event."""
        # Native: `data: {"response":"<raw>","p":"<padding>"}`.
        if event.startswith(_FAST_EVENT) and event.endswith(b'"}'):
            pad = event.find(_PAD, len(_FAST_EVENT))
            if pad != -1 and event[pad + len(_PAD) : -2].isalnum():
                raw = event[len(_FAST_EVENT) : pad]
                if mode == STOPPED:
                    return b""  # `_content` says nothing after a stop
                if mode == SPLICE:
                    if not self._stop_free(raw):
                        return None
                    head = self.fast_head
                elif b"<" in raw or b"\\u" in raw:
                    return None  # thought that might hold a tag, even escaped
                else:
                    head = self.reasoning_head
                self.content_chars += len(raw)
                return head + raw + self.fast_tail if raw else b""
        # OpenAI-shaped: a non-empty content or reasoning delta, choices last, no usage.
        if mode == SPLICE and self.chunk_head and event.endswith(_CHUNK_TAIL):
            at = event.find(_CHUNK_DELTA, 6)
            key = at + len(_CHUNK_DELTA)
            for name in _CHUNK_KEYS if at != -1 else ():
                text = key + len(name)
                if (
                    event.startswith(name, key)
                    and event[text : text + 1] != b'"'
                    and event.find(b'"usage"', at) == -1
                    and event.find(b'"tool_calls"', at) == -1
                    and self._stop_free(event[text : -len(_CHUNK_TAIL)])
                ):
                    self.content_chars += len(event) - text - len(_CHUNK_TAIL)
                    return self.chunk_head + event[at:] + b"\n\n"
        if self.chunk_head and b'"usage"' not in event and b'"error"' not in event:
            return self._compact(event, mode)
        return None

    def _compact(self, event: bytes, mode: int) -> bytes | None:
        """The chunk for a compact event (see `_COMPACT_TAIL`), or None."""
        if event.startswith(_NATIVE_FRAGMENT[0]):
            # `…"arguments":"<text>"}}]` then `}` or `,"p":"<padding>"}`.
            call = _fragment_at(event, len(_NATIVE_FRAGMENT[0]))
            end = event.find(_NATIVE_FRAGMENT[1], call[1]) if call else -1
            rest = event[end + len(_NATIVE_FRAGMENT[1]) :]
            padded = rest.startswith(_PAD[1:]) and rest.endswith(b'"}') and rest[6:-2].isalnum()
            native = rest == b"}" or padded
            return self._fragment(call[0], event[call[1] : end]) if end != -1 and native else None
        at = event.find(_CHUNK_DELTA, 6)
        key = at + len(_CHUNK_DELTA)
        if at == -1:
            return None
        if event.endswith(_COMPACT_TAIL):
            for name, head in zip(_CHUNK_KEYS, (self.fast_head, self.reasoning_head), strict=True):
                if not event.startswith(name, key):
                    continue
                raw = event[key + len(name) : -len(_COMPACT_TAIL)]
                # Content goes through `_content` (thought, stops) unless plain text may.
                text = head is self.fast_head and (mode != SPLICE or not self._stop_free(raw))
                if text or not _plain(raw):
                    return None
                self.content_chars += len(raw)
                return head + raw + self.fast_tail if raw else b""
        opening, _, closing = _COMPACT_FRAGMENT
        if event.startswith(opening, key) and event.endswith(closing):
            call = _fragment_at(event, key + len(opening))
            return self._fragment(call[0], event[call[1] : -len(closing)]) if call else None
        return None

    def _fragment(self, key: int, raw: bytes) -> bytes | None:
        """The chunk for `raw`, a fragment of the arguments of the call at upstream index `key`,
        if that is the open call (nothing if `raw` is empty), else None."""
        if self.open_call is None or self.open_call[0] != key or not _plain(raw):
            return None
        head, _, tail = self.open_call[1].encode().partition(b"\0")
        return head + raw + tail if raw else b""

    # ---- input -------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """OpenAI events for this piece of the upstream stream."""
        if self.finished or self.done_seen:
            return b""  # anything after `[DONE]` is ignored
        if self.buffer:
            data = self.buffer + data
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        events = data.split(b"\n\n")
        self.buffer = events.pop()
        out: list[bytes] = [] if self.started else [self._start()]
        mode = self._own_mode
        try:
            for event in events:
                if mode != PYTHON:
                    spliced = self._spliced(event, mode)
                    if spliced is not None:
                        if spliced:
                            out.append(spliced)
                        continue
                if event.startswith(_DATA + b" ") and b"\n" not in event:
                    self._data(event[len(_DATA) + 1 :], out)
                else:
                    lines = [
                        ln[len(_DATA) :].lstrip()
                        for ln in event.split(b"\n")
                        if ln.startswith(_DATA)
                    ]
                    if lines:
                        self._data(b"\n".join(lines), out)
                if self.done_seen:
                    break
                mode = self._own_mode  # a tag, a stop, or text held back changes what may splice
        except _UpstreamEventError as exc:
            return b"".join(out) + self.fail(str(exc))
        return b"".join(out)

    def end(self, spliced_chars: int = 0) -> bytes:
        """The closing events once the upstream has ended; `spliced_chars` is the content
        length that sse_splice.mjs passed by without `feed` (for the usage estimate)."""
        self.content_chars += spliced_chars
        if self.finished:
            return b""
        tail = self.feed(b"\n\n") if self.buffer.strip() else b""
        if self.finished:
            return tail
        if not self.done_seen:
            return tail + self.fail("The upstream stream ended before it finished.")
        out = [tail] if self.started else [tail, self._start()]
        if self.think_pending:
            out.append(self._delta({"reasoning_content": self.think_pending}))
        if self.held and not self.stopped:
            self.content_chars += len(self.held)
            out.append(self._delta({"content": self.held}))
        out.append(self._delta({}, self._finish_reason()))
        if self.include_usage:
            out.append(self._event(None, self._usage()))
        out.append(DONE)
        self.finished = True
        return b"".join(out)

    def fail(self, message: str) -> bytes:
        """An error event and `[DONE]`, once."""
        if self.finished:
            return b""
        self.finished = True
        error = {
            "error": {
                "message": message,
                "type": "api_error",
                "param": None,
                "code": "upstream_stream_error",
            }
        }
        event = ("data: " + dumps(error) + "\n\n").encode()
        return (b"" if self.started else self._start()) + event + DONE

    def replay(self, answer: chat.Answer) -> bytes:
        """A whole stream for an answer that arrived in one piece (JSON mode, gpt-oss)."""
        out = [self._start()]
        self.thinking = False  # the answer is already split into reasoning and content
        if answer.reasoning:
            out.append(self._delta({"reasoning_content": answer.reasoning}))
        self._content(answer.content, out)
        for number, call in enumerate(answer.tool_calls):
            out.append(self._delta({_TOOL: [{"index": number, **call}]}))
        self.tool_count = len(answer.tool_calls)
        self.usage = answer.usage
        self.upstream_finish = answer.finish_reason
        self.done_seen = True
        self.buffer = b""
        return b"".join(out) + self.end()

    def _finish_reason(self) -> str:
        if self.tool_count:
            return "tool_calls"
        if self.stopped:
            return "stop"
        if self.upstream_finish in ("length", "model_length"):
            return "length"
        if self.usage and self.usage["completion_tokens"] >= self.max_tokens:
            return "length"
        return "stop"

    def _usage(self) -> chat.Usage:
        if self.usage:
            return self.usage
        prompt = chat.estimate_tokens(self.prompt_text)
        completion = self.content_chars // 3 + (1 if self.content_chars else 0)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


def _plain(raw: bytes) -> bool:
    """Whether `raw`, a JSON string literal's body, is what `dumps` writes for it: no control
    byte, and no escape but those `dumps` writes (`\\u` and `\\/` it writes otherwise)."""
    return _PLAIN.fullmatch(raw) is not None


def _fragment_at(event: bytes, at: int) -> tuple[int, int] | None:
    """The upstream call index written at `at` (`<digits>,"function":{"arguments":"`) and where
    the arguments' text starts, or None."""
    digits = event.find(b",", at)
    marker = _COMPACT_FRAGMENT[1]
    number = event[at:digits] if digits != -1 else b""
    leading_zero = len(number) > 1 and number.startswith(b"0")  # not JSON
    if not number.isdigit() or leading_zero or not event.startswith(marker, digits):
        return None
    return int(event[at:digits]), digits + len(marker)


class _UpstreamEventError(Exception):
    """An `{"error": …}` event, or one that is not JSON, inside the upstream stream."""
