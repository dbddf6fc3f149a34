"""A streamed Response: Workers AI SSE -> typed Responses events, over the chat transcoder.

    upstream SSE --chatstream.ChatStream--> chat.completion.chunk events --ResponsesStream--> events

`chatstream.ChatStream` already normalises every upstream shape (native and OpenAI-shaped events,
`<think>` tags, both tool-call forms, usage, finish reasons, broken streams), so this module only
re-frames its chunks. Each event is `event: <type>\\ndata: <json>\\n\\n` with a
`sequence_number`, in OpenAI's order:

    response.created, response.in_progress,
    per output item: output_item.added, [content_part.added, *.delta..., *.done,
                     content_part.done | function_call_arguments.delta..., .done], output_item.done
    response.completed | response.incomplete (budget spent) | response.failed

Items: `reasoning` (reasoning_text), `message` (output_text), `function_call`. An answer that
came whole (gpt-oss, native JSON mode) is replayed through the same path.

Text deltas keep the JSON string literal of the chat chunk (for a spliced chat chunk, the
upstream's own bytes), so sse_splice.mjs can splice the delta events without Python: content
while a message is open (`mode` SPLICE), thought while a reasoning item is open (REASON inside
`<think>`, THOUGHT for OpenAI-shaped thought), fragments of the open call's arguments while its
function_call item is open (CALL). It writes `delta_head` with the next sequence number in
place of its NUL, the literal and `delta_tail`, and tells `absorb` what it wrote before Python
is asked anything else. Both paths give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from core.exchange import dumps
from mapping import chat, responses
from mapping.chatstream import (
    CALL,
    OVER,
    PYTHON,
    REASON,
    SPLICE,
    THOUGHT,
    ChatStream,
    SpliceHeads,
)

OnDone = Callable[[dict[str, Any]], None]
_DELTA = {"message": "response.output_text.delta", "reasoning": "response.reasoning_text.delta"}
_DONE = {"message": "response.output_text.done", "reasoning": "response.reasoning_text.done"}
_ARGUMENTS = "response.function_call_arguments.delta"
_TAIL = {"message": b'","logprobs":[]}\n\n', "reasoning": b'"}\n\n', "function_call": b'"}\n\n'}
# (open item, chat transcoder's mode) -> what sse_splice.mjs may splice (see `mode`).
_ITEM_MODES = {
    ("message", SPLICE): SPLICE,
    ("reasoning", REASON): REASON,
    ("reasoning", SPLICE): THOUGHT,
}


def _literal_body(raw: bytes) -> bool:
    """Whether `raw` is one JSON string literal's body (no unescaped quote)."""
    return b'"' not in raw.replace(b"\\\\", b"").replace(b'\\"', b"")


class ResponsesStream:
    """One streamed Response's transcoder (an `exchange.NumberedTransform`).

    `on_done` gets the final Response (completed or incomplete) once, e.g. to store it.
    """

    def __init__(
        self,
        chat: ChatStream,
        response: dict[str, Any],
        hexid: str,
        on_done: OnDone | None = None,
    ) -> None:
        self.chat = chat
        self.response = response
        self.hexid = hexid
        self.on_done = on_done
        self.sequence = 0
        self.output: list[dict] = []
        self.current: dict | None = None  # the open item
        self.literals: list[bytes] = []  # the open item's text, as JSON string literal bodies
        self.delta_head = ""  # the open item's delta event up to its text; NUL: the number
        self.delta_tail = ""  # and after its text
        self.calls: dict[Any, dict] = {}  # chat tool-call index -> function_call item
        self.finish = "stop"
        self.usage: chat.Usage | None = None
        self.details: Any = None  # a whole upstream answer, for its cached/reasoning counts
        self.started = False
        self.finished = False
        # A chat chunk holding one content or reasoning literal: its head, and its tail.
        self.chunk_heads = {"message": chat.fast_head, "reasoning": chat.reasoning_head}
        self.chunk_tail = chat.fast_tail.removesuffix(b"\n\n")

    # ---- exchange.StreamTransform --------------------------------------------------------------

    @property
    def mode(self) -> int:
        """SPLICE while a message is open and the chat transcoder would splice its text as
        content; while a reasoning item is open, REASON if it would splice thought (inside
        `<think>`), THOUGHT if it would splice content (then only OpenAI-shaped thought)."""
        if self.finished or self.chat.mode == OVER:
            return OVER
        kind = self.current["type"] if self.current is not None else None
        if kind == "function_call":
            call = self.chat.open_call
            open_item = call is not None and self.calls.get(self.chat.tool_index[call[0]])
            return CALL if open_item is self.current else PYTHON
        return _ITEM_MODES.get((kind, self.chat.mode), PYTHON)

    @property
    def open_call(self) -> tuple[int, str] | None:
        """The chat transcoder's open call, whose fragments sse_splice.mjs writes in CALL."""
        return self.chat.open_call

    def splice_heads(self) -> SpliceHeads:
        """Only text is spliced (as `delta_head` + literal + `delta_tail`)."""
        return SpliceHeads(b"", _TAIL["message"], b"", None, b"")

    def absorb(self, report: bytes) -> None:
        """What sse_splice.mjs spliced since Python last heard: `<count>\\n<literal bodies>`."""
        count, _, literals = report.partition(b"\n")
        self.sequence += int(count)
        if self.current is not None and self.current["type"] == "function_call":
            self.current["arguments"] += json.loads(b'"' + literals + b'"')
        else:
            self.literals.append(literals)

    def feed(self, data: bytes) -> bytes:
        out = self._start()
        self._consume(self.chat.feed(data), out)
        return b"".join(out)

    def end(self, spliced_chars: int = 0) -> bytes:
        out = self._start()
        self._consume(self.chat.end(spliced_chars), out)
        self._complete(out)
        return b"".join(out)

    def fail(self, message: str) -> bytes:
        out = self._start()
        self._consume(self.chat.fail(message), out)
        return b"".join(out)

    def replay(self, answer: chat.Answer) -> bytes:
        """The whole stream for an answer that arrived in one piece."""
        out = self._start()
        self._consume(self.chat.replay(answer), out)
        self._complete(out)
        return b"".join(out)

    # ---- output --------------------------------------------------------------------------------

    def _event(self, kind: str, fields: dict[str, Any], out: list[bytes]) -> None:
        data = dumps({"type": kind, "sequence_number": self.sequence, **fields})
        self.sequence += 1
        out.append(f"event: {kind}\ndata: {data}\n\n".encode())

    def _start(self) -> list[bytes]:
        out: list[bytes] = []
        if not self.started:
            self.started = True
            self._event("response.created", {"response": self.response}, out)
            self._event("response.in_progress", {"response": self.response}, out)
        return out

    def _open(self, item: dict, out: list[bytes]) -> None:
        self._close(out)
        self.current = item
        self.output.append(item)
        self.literals = []
        index = len(self.output) - 1
        kind = item["type"]
        if kind == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
        elif kind == "message":
            added = {**item, "status": "in_progress", "content": []}
        else:
            added = {**item, "content": []}
        self._event("response.output_item.added", {"output_index": index, "item": added}, out)
        if kind == "function_call":
            self.delta_head = (
                f'event: {_ARGUMENTS}\ndata: {{"type":"{_ARGUMENTS}","sequence_number":\0,'
                f'"item_id":{dumps(item["id"])},"output_index":{index},"delta":"'
            )
            self.delta_tail = _TAIL[kind].decode()
        else:
            part = self._part(kind, "")
            self._event("response.content_part.added", self._at(item, {"part": part}), out)
            self.delta_head = (
                f'event: {_DELTA[kind]}\ndata: {{"type":"{_DELTA[kind]}","sequence_number":\0,'
                f'"item_id":{dumps(item["id"])},"output_index":{index},"content_index":0,'
                '"delta":"'
            )
            self.delta_tail = _TAIL[kind].decode()

    @staticmethod
    def _part(kind: str, text: str) -> dict:
        if kind == "message":
            return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        return {"type": "reasoning_text", "text": text}

    def _at(self, item: dict, fields: dict[str, Any], content: bool = True) -> dict[str, Any]:
        """Where an event belongs: the item's id and index (and part index), then `fields`."""
        place: dict[str, Any] = {"item_id": item["id"], "output_index": self.output.index(item)}
        if content:
            place["content_index"] = 0
        return {**place, **fields}

    def _close(self, out: list[bytes]) -> None:
        item = self.current
        if item is None:
            return
        self.current = None
        kind = item["type"]
        if kind == "function_call":
            done = {"arguments": item["arguments"]}
            self._event("response.function_call_arguments.done", self._at(item, done, False), out)
        else:
            text = json.loads(b'"' + b"".join(self.literals) + b'"')
            part = self._part(kind, text)
            item["content"] = [part]
            fields: dict[str, Any] = {"text": text}
            if kind == "message":
                fields["logprobs"] = []
                if self.finish == "length":
                    item["status"] = "incomplete"
            self._event(_DONE[kind], self._at(item, fields), out)
            self._event("response.content_part.done", self._at(item, {"part": part}), out)
        index = self.output.index(item)
        self._event("response.output_item.done", {"output_index": index, "item": item}, out)

    def _text(self, kind: str, literal: bytes, out: list[bytes]) -> None:
        """A delta of message or reasoning text, given as a JSON string literal's body."""
        if self.current is None or self.current["type"] != kind:
            item_id = responses.item_id(kind, self.hexid, len(self.output))
            if kind == "message":
                item = responses.message_item(item_id, "")
            else:
                item = responses.reasoning_item(item_id, "")
            self._open(item, out)
        self.literals.append(literal)
        head = self.delta_head.replace("\0", str(self.sequence)).encode()
        self.sequence += 1
        out.append(head + literal + self.delta_tail.encode())

    def _tool_call(self, delta: dict, out: list[bytes]) -> None:
        key = delta.get("index", 0)
        function = delta.get("function") or {}
        item = self.calls.get(key)
        if item is None:
            item = responses.function_call_item(
                responses.item_id("function_call", self.hexid, len(self.output)),
                delta.get("id") or f"call_{self.hexid}_{key}",
                function.get("name") or "",
                "",
            )
            self.calls[key] = item
            self._open(item, out)
        arguments = function.get("arguments") or ""
        if arguments:
            item["arguments"] += arguments
            if item is self.current:
                fields = self._at(item, {"delta": arguments}, False)
                self._event(_ARGUMENTS, fields, out)

    # ---- input ---------------------------------------------------------------------------------

    def _spliced_text(self, event: bytes) -> tuple[str, bytes] | None:
        """(kind, literal) of a chat chunk that says only some content or reasoning text."""
        if not event.endswith(self.chunk_tail):
            return None
        for kind, head in self.chunk_heads.items():
            if event.startswith(head):
                literal = event[len(head) : -len(self.chunk_tail)]
                return (kind, literal) if _literal_body(literal) else None
        return None

    def _consume(self, chunks: bytes, out: list[bytes]) -> None:
        """Turn the chat transcoder's `data: …` events into Responses events."""
        for event in chunks.split(b"\n\n"):
            if not event.startswith(b"data: {") or self.finished:
                continue  # blank, or `[DONE]`
            text = self._spliced_text(event)
            if text is not None:
                if text[1]:
                    self._text(*text, out)
                continue
            chunk = json.loads(event[6:])
            if "error" in chunk:
                self._failed(chunk["error"].get("message") or "The stream failed.", out)
                return
            if not chunk.get("choices") and chunk.get("usage"):
                self.usage = chat.parse_usage(chunk["usage"])
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                for kind, name in (("reasoning", "reasoning_content"), ("message", "content")):
                    if delta.get(name):
                        self._text(kind, dumps(delta[name])[1:-1].encode(), out)
                for call in delta.get("tool_calls") or ():
                    self._tool_call(call, out)
                if choice.get("finish_reason"):
                    self.finish = choice["finish_reason"]

    def _complete(self, out: list[bytes]) -> None:
        """The closing events of a stream that ended well."""
        if self.finished:
            return
        if not self.output:  # a model that said nothing still answers with a message
            item_id = responses.item_id("message", self.hexid, 0)
            self._open(responses.message_item(item_id, ""), out)
        self._close(out)
        self.finished = True
        usage = self.usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        usage_out = responses.usage_of(usage, self.details)
        final = responses.finished(self.response, self.output, usage_out, self.finish)
        kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
        self._event(kind, {"response": final}, out)
        if self.on_done is not None:
            self.on_done(final)

    def _failed(self, message: str, out: list[bytes]) -> None:
        self._close(out)
        self.finished = True
        failed = responses.failed(self.response, self.output, message)
        self._event("response.failed", {"response": failed}, out)
