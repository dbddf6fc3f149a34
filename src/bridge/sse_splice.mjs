// The hot loop of streamed chat, in JavaScript. Calling into Pyodide costs about 10 µs per
// upstream chunk (the call, two conversions, `enqueue`; docs/performance.md), more than a whole
// JavaScript transform, so the events that are most of every stream never reach Python. Two
// ways, each byte for byte what `chatstream.ChatStream.feed` makes of the event:
// - bytes, as `ChatStream._spliced` splices them: the native `{"response":"…","p":"…"}` event
//   (as content, or as reasoning inside `<think>`), an OpenAI-shaped content or reasoning
//   delta ending in `"finish_reason":null}]}`, and (`ChatStream._compact`) a compact content
//   delta or tool-call argument fragment whose string `dumps` would write the same;
// - parsed, as `ChatStream._json_event` reads any other event (pretty-printed, other field
//   orders, no `logprobs`, escapes): when all it says is content, reasoning or a fragment of the
//   arguments of the tool call Python opened last, the chunks are written here with
//   `JSON.stringify`, which writes strings as Python's `core.exchange.dumps` does.
// Content is cut at the stop sequences here too, as `ChatStream._content` cuts it: the start of
// a stop that ends an event is held back here until later text settles it.
// Every other event (role, new tool calls, usage, finish reasons, tags, `[DONE]`, errors) goes
// to `ChatStream.feed` in order, whole, and the stream's end and failures are Python's too.
// `ChatStream.mode` says what may be spliced; Python sets `control.mode` whenever it changes.
// CRLF line ends are framed here as Python reads them (each CRLF as LF). bridge/adapter.py sets
// this up; no policy lives here.
// A Responses stream (`mapping.responses_stream.ResponsesStream`) numbers its events: there the
// text of a content delta is spliced as an `output_text.delta` event carrying the next sequence
// number, and Python hears what was spliced before anything else.

// Values of `control.mode`: `chatstream.PYTHON`, `SPLICE`, `OVER`, `REASON`, `STOPPED`, `THOUGHT`
// and `CALL`; the same values as there (tests/unit/test_sse.py reads these lines and compares).
const PYTHON = 0;
const SPLICE = 1;
const OVER = 2;
const REASON = 3;
const STOPPED = 4;
const THOUGHT = 5;
const CALL = 6;

// What `python(kind, value)` is asked to do: `chatstream.FEED`, `END`, `FAIL` and `SPLICED`.
const FEED = 0; // value: whole events, as they came -> OpenAI events
const END = 1; // value: the content length spliced here -> the closing events
const FAIL = 2; // value: a message -> the error event and `[DONE]`
const SPLICED = 3; // numbered streams; value: `<count>\n<the literals spliced>` -> nothing

const LF = 10;
const CR = 13;
const QUOTE = 34;
const LESS_THAN = 60;
const BACKSLASH = 92;
const LOWER_U = 117;
const BRACE = 125;
const ascii = (text) => new TextEncoder().encode(text);
const NATIVE = ascii('data: {"response":"');
const PAD = ascii('","p":"');
const DELTA = ascii('"choices":[{"index":0,"delta":{"');
const DELTA_KEYS = [ascii('content":"'), ascii('reasoning_content":"')];
const DELTA_TAIL = ascii('"finish_reason":null}]}');
const CONTENT_TAIL = ascii('"},"logprobs":null,"finish_reason":null}]}');
// Compact events (`chatstream._COMPACT_TAIL`, `_COMPACT_FRAGMENT`, `_NATIVE_FRAGMENT`).
const COMPACT_TAIL = ascii('"}}]}');
const FRAGMENT = ascii('tool_calls":[{"index":');
const ARGUMENTS = ascii(',"function":{"arguments":"');
const FRAGMENT_TAIL = ascii('"}}]}}]}');
const NATIVE_FRAGMENT = ascii('data: {"tool_calls":[{"index":');
const NATIVE_FRAGMENT_END = ascii('"}}]');
const USAGE = ascii('"usage"');
const ERROR = ascii('"error"');
const TOOLS = ascii('"tool_calls"');
const BLANK_LINE = ascii("\n\n");
const DATA = ascii('data:');
// Python's json refuses what is not UTF-8, and skips a byte order mark only before the data.
const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BOM = "\ufeff";
const SLAB_SIZE = 16384;
// Bytes written but not yet read by the client past which reading the upstream waits.
const HIGH_WATER = 16384;
const ignore = () => {};

/** Whether `pattern` occurs in `bytes` at `at`. */
function matchAt(bytes, at, pattern) {
  if (at < 0 || at + pattern.length > bytes.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    if (bytes[at + i] !== pattern[i]) return false;
  }
  return true;
}

/** First index >= `from` where `pattern` lies wholly before `end`, or -1 (like bytes.find). */
function find(bytes, pattern, from, end) {
  const last = end - pattern.length;
  const first = pattern[0];
  const second = pattern[1]; // most candidates differ here: no call for them
  for (let at = bytes.indexOf(first, from); at !== -1 && at <= last; at = bytes.indexOf(first, at + 1)) {
    if (bytes[at + 1] === second && matchAt(bytes, at, pattern)) return at;
  }
  return -1;
}

/** Bytes `[from, to)` are all ASCII letters or digits, and there is at least one. */
function alnum(bytes, from, to) {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

/** Bytes `[from, to)` of a JSON string literal cannot decode to a `<`: none, no `\u` escape. */
function tagless(bytes, from, to) {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === LESS_THAN || (c === BACKSLASH && bytes[i + 1] === LOWER_U)) return false;
  }
  return true;
}

/** No byte of `[from, to)` is marked in `table` (a 256-entry lookup; null marks none). */
function free(bytes, from, to, table) {
  if (table === null) return true;
  for (let i = from; i < to; i++) {
    if (table[bytes[i]]) return false;
  }
  return true;
}

/** Bytes `[from, to)` are one JSON string literal's body: every quote is escaped. */
function literal(bytes, from, to) {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return false;
  }
  return true;
}

// The escapes `dumps` writes as such: `"`, `\`, b, f, n, r, t (`chatstream._PLAIN`).
const SHORT_ESCAPES = new Set(ascii('"\\bfnrt'));

/** Bytes `[from, to)` of a JSON string literal are what `dumps` writes for it: no control byte,
 * no escape but those `dumps` writes (`\u` and `\/` it writes otherwise). */
function plain(bytes, from, to) {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c < 32 || c === QUOTE) return false;
    if (c === BACKSLASH && (++i === to || !SHORT_ESCAPES.has(bytes[i]))) return false;
  }
  return true;
}

/** Where the arguments' text starts after `<digits>,"function":{"arguments":"` at `at`, or -1;
 * `key[0]` gets the number (`chatstream._fragment_at`; short, so exact as a JS number). */
function fragmentAt(data, at, to, key) {
  let end = at;
  let number = 0;
  for (; end < to && end - at < 9 && data[end] >= 48 && data[end] <= 57; end++) {
    number = number * 10 + data[end] - 48;
  }
  if (end === at || (end - at > 1 && data[at] === 48) || !matchAt(data, end, ARGUMENTS)) return -1;
  key[0] = number;
  return end + ARGUMENTS.length <= to ? end + ARGUMENTS.length : -1;
}

/** Where the padding marker of a native `data: {"response":"…","p":"…"}` event `[from, to)`
 * starts, or -1 if the event is not one. */
function nativePad(data, from, to) {
  if (to - from <= NATIVE.length || data[to - 1] !== BRACE || data[to - 2] !== QUOTE) return -1;
  if (!matchAt(data, from, NATIVE)) return -1;
  const pad = find(data, PAD, from + NATIVE.length, to);
  return pad !== -1 && alnum(data, pad + PAD.length, to - 2) ? pad : -1;
}

/** Where `"choices":[…]` starts in an OpenAI-shaped event `[from, to)` whose only news is a
 * non-empty content or reasoning delta, or -1; `text` gets where that text starts. */
function deltaChoice(data, from, to, text) {
  if (!matchAt(data, to - DELTA_TAIL.length, DELTA_TAIL)) return -1;
  const at = find(data, DELTA, from + 6, to);
  if (at === -1) return -1;
  for (const key of DELTA_KEYS) {
    const start = at + DELTA.length + key.length;
    if (
      matchAt(data, at + DELTA.length, key) &&
      start < to &&
      data[start] !== QUOTE &&
      find(data, USAGE, at, to) === -1 &&
      find(data, TOOLS, at, to) === -1
    ) {
      text[0] = start;
      return at;
    }
  }
  return -1;
}

/** Whether byte `c` is whitespace to Python's `bytes.lstrip`. */
const space = (c) => c === 32 || (c >= 9 && c <= 13);

/** The data of the event `[from, to)` as `ChatStream.feed` reads it: `data: ` and the rest of
 * a one-line event, else its `data:` lines without leading whitespace, joined by LF (a CR
 * before an LF is part of the line end). Null if it has none; throws if it is not UTF-8. */
function eventData(data, from, to) {
  const lf = data.indexOf(LF, from);
  if ((lf === -1 || lf >= to) && data[from + DATA.length] === 32 && matchAt(data, from, DATA)) {
    return STRICT.decode(data.subarray(from + DATA.length + 1, to));
  }
  const lines = [];
  for (let start = from; start <= to; ) {
    let end = data.indexOf(LF, start);
    if (end === -1 || end > to) end = to;
    const next = end + 1;
    if (end < to && end > start && data[end - 1] === CR) end--;
    if (end - start >= DATA.length && matchAt(data, start, DATA)) {
      let at = start + DATA.length;
      while (at < end && space(data[at])) at++;
      lines.push(STRICT.decode(data.subarray(at, end)));
    }
    start = next;
  }
  return lines.length ? lines.join("\n") : null;
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const absent = (value) => value === undefined || value === null;
/** A string, or nothing (which Python reads as no text). */
const optionalText = (value) => absent(value) || (typeof value === "string" && value.isWellFormed());

/**
 * Whether `event` (an upstream event, parsed) is one that `ChatStream._json_event` reads as
 * text and at most one arguments fragment, with no finish, usage or error; if so, `said` gets
 * its `reasoning`, `content`, and the fragment's upstream `call` index and `arguments` ("" for
 * none). Python reads values it does not expect leniently; those events stay Python's.
 */
function plainDelta(event, said) {
  if (!isObject(event) || "error" in event || "usage" in event) return false;
  let holder = event; // where the text and tool calls are: the event (native) or its delta
  said.reasoning = "";
  said.content = "";
  said.arguments = "";
  if (Array.isArray(event.choices)) {
    if (event.choices.length === 0) return true;
    const choice = event.choices[0];
    if (!isObject(choice) || !absent(choice.finish_reason)) return false;
    const delta = choice.delta ?? {};
    const { reasoning_content: thought, reasoning, content } = delta;
    if (!isObject(delta) || !optionalText(thought) || !optionalText(reasoning) || !optionalText(content)) {
      return false;
    }
    said.reasoning = thought || reasoning || "";
    said.content = content ?? "";
    holder = delta;
  } else {
    if ("choices" in event || !absent(event.finish_reason) || !optionalText(event.response)) return false;
    said.content = event.response ?? "";
  }
  return fragment(holder.tool_calls, said);
}

/** Whether `calls` is no call, or one fragment of an open call's arguments (see `plainDelta`). */
function fragment(calls, said) {
  if (absent(calls) || (Array.isArray(calls) && calls.length === 0)) return true;
  if (!Array.isArray(calls) || calls.length !== 1) return false;
  const call = calls[0];
  if (!isObject(call) || !isObject(call.function) || !optionalText(call.function.arguments)) return false;
  said.call = "index" in call ? call.index : 0;
  said.arguments = call.function.arguments ?? "";
  return true;
}

/**
 * What `ChatStream._content` makes of `text` (the held-back text and the new) under `stops`:
 * returns the text to pass on, and `found` gets `[held, stopped]` after it. Cut before the
 * earliest stop (`chat.apply_stops`; where several start at once, the cut is the same), else
 * the longest end of `text` that starts some stop is held back (`_longest_prefix_tail`).
 *
 * Python counts code points and JavaScript UTF-16 units, yet for well-formed text and stops
 * (a request with a lone surrogate is refused, content is spliced here only if well-formed, and
 * held text is the start of a stop) both find the same strings: where a stop occurs, or a
 * prefix of it ends the text, the match starts on the stop's first unit (never a low
 * surrogate) and ends on the stop's or the text's last (never a high one), so on whole
 * characters. Both cut and hold the same characters, astral ones included.
 */
function applyStops(text, stops, found) {
  let cut = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at !== -1 && (cut === -1 || at < cut)) cut = at;
  }
  if (cut !== -1) {
    found[0] = "";
    found[1] = true;
    return text.slice(0, cut);
  }
  let keep = 0;
  for (const stop of stops) {
    for (let size = Math.min(stop.length - 1, text.length); size > keep; size--) {
      if (text.startsWith(stop.slice(0, size), text.length - size)) {
        keep = size;
        break;
      }
    }
  }
  found[0] = text.slice(text.length - keep);
  found[1] = false;
  return text.slice(0, text.length - keep);
}

/** Python's `len` of a well-formed string: code points, not UTF-16 units. */
function codePoints(text) {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) count--;
  }
  return count;
}

/** A string's JSON literal without its quotes, as Python's `dumps` writes it. */
const literalOf = (text) => JSON.stringify(text).slice(1, -1);

/** A sequence number's decimal digits, as bytes: `TextEncoder` costs ten times more for so few. */
function digitsOf(number) {
  const text = String(number);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function join(first, second) {
  const out = new Uint8Array(first.length + second.length);
  out.set(first);
  out.set(second, first.length);
  return out;
}

/**
 * `source` (Workers AI's SSE bytes) as a ReadableStream of OpenAI SSE bytes.
 *
 * `python` is one Python callable (see FEED, END, FAIL), destroyed here once nothing will call
 * it again; `control.mode` is the stream's mode, which Python updates. `heads`, one object
 * of named strings: `head` is sent first (the role chunk); a native event's JSON string literal
 * goes between `contentHead` (or `reasoningHead`) and `tail`; an OpenAI-shaped event's choices
 * after `chunkHead` (empty: that shape is not spliced); content holding a byte of
 * `stopTriggers` is not spliced as bytes but parsed, and cut here at the `stops`
 * (`chatstream.SpliceHeads`). `control.held` is the text held back against them as Python last
 * left it (`ChatStream.held`); what matching here changes (that text, a stop found) Python
 * hears with its next call, as a third argument (`ChatStream.settle`). With `control.sequence`
 * set (a numbered stream), the literal of a text delta (content in a message, mode SPLICE;
 * thought in a reasoning item, mode REASON) goes between `control.head` (the next sequence
 * number in place of its NUL) and `control.tail`, and Python keeps them current. `control.callKey` and
 * `control.call` are the tool call Python opened last (`ChatStream.open_call`): fragments of
 * its arguments are written here.
 */
export function transcode(source, python, control, heads) {
  const { head, contentHead, tail, reasoningHead, chunkHead, stopTriggers, stops, idleMs } = heads;
  const encoder = new TextEncoder();
  // Content holding any of these bytes (one char per byte) may start a stop sequence.
  let triggers = null;
  if (stopTriggers) {
    triggers = new Uint8Array(256);
    for (let i = 0; i < stopTriggers.length; i++) triggers[stopTriggers.charCodeAt(i)] = 1;
  }
  const stopList = Array.from(stops ?? []);
  const contentOpen = encoder.encode(contentHead);
  const reasoningOpen = encoder.encode(reasoningHead);
  const tailBytes = encoder.encode(tail);
  const chunkOpen = chunkHead ? encoder.encode(chunkHead) : null;
  let mode = control.mode;
  // The tool call Python opened last: its upstream index, and the chunk of a fragment of its
  // arguments around the fragment's literal (`ChatStream.open_call`).
  let callKey;
  let callOpen = "";
  let callShut = "";
  let callOpenBytes = null;
  let callShutBytes = null;
  // A numbered stream: the next sequence number, the delta event around it (as of Python's
  // last call), and the literals spliced since then, as byte ranges, with their count.
  const numbered = typeof control.sequence === "number";
  let sequence = 0;
  let deltaHead = null;
  let numberOpen = null;
  let numberShut = null;
  let numberTail = null;
  const splicedRanges = [];
  let splicedCount = 0;
  // Content is matched against the stops here while the mode is SPLICE: `held` is the text held
  // back (Python's when it was the last to match), `told` whether Python knows what it and the
  // mode are now.
  let held = "";
  let told = true;
  const found = ["", false]; // what matching one event's content leaves: held text, stopped
  const follow = () => {
    mode = control.mode; // Python sets it when it changes
    if (stopList.length) held = control.held;
    if (control.call && control.callKey !== callKey) {
      callKey = control.callKey;
      const at = control.call.indexOf("\0");
      callOpen = control.call.slice(0, at);
      callShut = control.call.slice(at + 1);
      callOpenBytes = encoder.encode(callOpen);
      callShutBytes = encoder.encode(callShut);
    }
    if (!numbered) return;
    sequence = control.sequence;
    if (control.head !== deltaHead) {
      deltaHead = control.head;
      const at = deltaHead.indexOf("\0");
      numberOpen = encoder.encode(deltaHead.slice(0, at));
      numberShut = encoder.encode(deltaHead.slice(at + 1));
      numberTail = encoder.encode(control.tail);
    }
  };
  follow();
  let pending = null; // an event not yet ended by a blank line
  let splicedChars = 0; // content length spliced here, for Python's usage estimate

  // What to send next, as byte ranges: copied once into one chunk by `send`.
  const parts = [];
  const starts = [];
  const ends = [];
  let count = 0;
  let outSize = 0;
  let slab = new Uint8Array(0); // allocated on the first splice
  let slabAt = 0;

  const emitRange = (bytes, from, to) => {
    if (to > from) {
      parts[count] = bytes;
      starts[count] = from;
      ends[count] = to;
      count++;
      outSize += to - from;
    }
  };
  const emit = (bytes) => {
    if (bytes) emitRange(bytes, 0, bytes.length);
  };
  const drop = () => {
    for (let i = 0; i < count; i++) parts[i] = null;
    count = 0;
    outSize = 0;
  };
  let lastWrite = Promise.resolve();
  const write = (chunk) => {
    lastWrite = writer.write(chunk);
    lastWrite.catch(ignore); // a client gone: `writer.closed` says so
  };
  /** Writes what was emitted, as one chunk, if anything was. */
  const send = () => {
    if (!outSize) return;
    if (count === 1 && starts[0] === 0 && ends[0] === parts[0].length) {
      write(parts[0]); // Python's output: already a chunk of its own
      drop();
      return;
    }
    // Chunks are views into a slab that is only ever appended to: allocating an ArrayBuffer
    // per event costs more than the rest of the splice. workerd's writable keeps a reference
    // to the view's buffer, not a copy, until the chunk is read; no range is written after it
    // is written out, and a full slab is replaced, never reused.
    if (slabAt + outSize > slab.length) {
      slab = new Uint8Array(Math.max(SLAB_SIZE, outSize));
      slabAt = 0;
    }
    const all = slab.subarray(slabAt, slabAt + outSize);
    slabAt += outSize;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const bytes = parts[i];
      const from = starts[i];
      const to = ends[i];
      // Short pieces are copied byte by byte: cheaper than a subarray view for each.
      if (to - from < 48) {
        for (let j = from; j < to; j++) all[at++] = bytes[j];
      } else {
        all.set(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to), at);
        at += to - from;
      }
    }
    write(all);
    drop();
  };

  /** Tells a numbered stream's Python what was spliced since it last heard. */
  const report = () => {
    if (!splicedCount) return;
    const count = encoder.encode(`${splicedCount}\n`);
    let size = count.length;
    for (let i = 0; i < splicedRanges.length; i += 3) size += splicedRanges[i + 2] - splicedRanges[i + 1];
    const out = new Uint8Array(size);
    out.set(count);
    let at = count.length;
    for (let i = 0; i < splicedRanges.length; i += 3) {
      out.set(splicedRanges[i].subarray(splicedRanges[i + 1], splicedRanges[i + 2]), at);
      at += splicedRanges[i + 2] - splicedRanges[i + 1];
    }
    splicedRanges.length = 0;
    splicedCount = 0;
    python(SPLICED, out);
  };

  /** `python(kind, value)`, first telling Python what matching the stops here changed: `\x01`
   * for a stop found, else `\x00` and the held-back text (`ChatStream.settle`). */
  const ask = (kind, value) => {
    if (told) return python(kind, value);
    told = true;
    const state = mode === STOPPED ? Uint8Array.of(1) : join(Uint8Array.of(0), encoder.encode(held));
    return python(kind, value, state);
  };

  const toPython = (bytes) => {
    report();
    emit(ask(FEED, bytes));
    follow();
  };

  // The splice `classify` found: `open`, bytes `[rangeFrom, rangeTo)` of `body`, `shut`.
  let body = null;
  let open = null;
  let shut = null;
  let rangeFrom = 0;
  let rangeTo = 0;
  let chars = 0;
  const text = [0];
  const said = { reasoning: "", content: "", call: undefined, arguments: "" };

  /** Whether the event `data[from, to)`, parsed, may be spliced in this mode: what Python would
   * write for it, from `said` (see `plainDelta`), as `body`. */
  const classifyParsed = (data, from, to) => {
    let event;
    try {
      const json = eventData(data, from, to);
      // No data: nothing to say.
      event = json === null ? { choices: [] } : JSON.parse(json.startsWith(BOM) ? json.slice(1) : json);
    } catch {
      return false; // not UTF-8, not JSON, `[DONE]`: Python's to judge
    }
    said.call = undefined;
    if (!plainDelta(event, said)) return false;
    // A completion has no reasoning field; in a numbered stream thought goes on only in a
    // reasoning item.
    if (said.reasoning && (numbered ? mode !== REASON && mode !== THOUGHT : chunkOpen === null)) return false;
    if (said.call !== undefined && ((numbered ? mode !== CALL : chunkOpen === null) || said.call !== callKey)) {
      return false;
    }
    // Inside `<think>` content is thought unless it may hold a tag; outside, it is content, cut
    // at the stops; after a stop, it is nothing.
    const { reasoning } = said;
    let content = mode === STOPPED ? "" : said.content;
    if ((mode === THOUGHT || mode === CALL) && content) return false; // a message is Python's to open
    if (mode === REASON && content.includes("<")) return false;
    if (mode === SPLICE && stopList.length && content) content = applyStops(held + content, stopList, found);
    chars = codePoints(reasoning) + codePoints(content);
    open = null;
    shut = null;
    if (numbered) {
      // One delta event, of the open item's kind (the mode let no other through).
      const texts = [reasoning, content, said.arguments].filter(Boolean);
      if (texts.length > 1) return false;
      body = encoder.encode(literalOf(texts.length ? texts[0] : ""));
    } else {
      let out = "";
      if (reasoning) out += reasoningHead + literalOf(reasoning) + tail;
      if (content) out += (mode === REASON ? reasoningHead : contentHead) + literalOf(content) + tail;
      if (said.arguments) out += callOpen + literalOf(said.arguments) + callShut;
      body = encoder.encode(out);
    }
    rangeFrom = 0;
    rangeTo = body.length;
    return true;
  };

  /** Whether the text of a JSON string literal `data[from, to)` passes on as content as it is:
   * nothing is held back, and no byte of it may begin a stop (nor an escape spell one). */
  const asIs = (data, from, to) => held === "" && free(data, from, to, triggers);

  const fragmentKey = [0];
  /** Whether `data[args, end)`, a fragment of the arguments of the call at `fragmentKey`, may
   * be spliced (`ChatStream._fragment`): into the open call's chunk. */
  const spliceFragment = (data, args, end) => {
    const unopened = numbered ? mode !== CALL : callOpenBytes === null;
    if (unopened || fragmentKey[0] !== callKey || !plain(data, args, end)) return false;
    open = callOpenBytes;
    shut = callShutBytes;
    rangeFrom = args;
    rangeTo = end;
    chars = 0;
    return true;
  };

  /** Whether the event `data[from, to)` is a compact one `ChatStream._compact` splices. */
  const classifyCompact = (data, from, to) => {
    if (find(data, USAGE, from, to) !== -1 || find(data, ERROR, from, to) !== -1) return false;
    if (to - from > NATIVE_FRAGMENT.length && matchAt(data, from, NATIVE_FRAGMENT)) {
      // `…"arguments":"<text>"}}]` then `}` or `,"p":"<padding>"}`.
      const args = fragmentAt(data, from + NATIVE_FRAGMENT.length, to, fragmentKey);
      const end = args === -1 ? -1 : find(data, NATIVE_FRAGMENT_END, args, to);
      if (end === -1) return false;
      const rest = end + NATIVE_FRAGMENT_END.length;
      const padded =
        matchAt(data, rest, PAD.subarray(1)) &&
        data[to - 2] === QUOTE &&
        alnum(data, rest + PAD.length - 1, to - 2);
      return data[to - 1] === BRACE && (rest === to - 1 || padded) && spliceFragment(data, args, end);
    }
    const at = find(data, DELTA, from + 6, to);
    if (at === -1) return false;
    const key = at + DELTA.length;
    const compact = matchAt(data, to - COMPACT_TAIL.length, COMPACT_TAIL);
    const keyed = compact ? DELTA_KEYS.findIndex((name) => matchAt(data, key, name)) : -1;
    if (keyed !== -1) {
      const start = key + DELTA_KEYS[keyed].length;
      const end = to - COMPACT_TAIL.length;
      // Content goes through `_content` (thought, stops) unless plain text may; in a numbered
      // stream thought goes on only in a reasoning item.
      const content = keyed === 0;
      const deferred = content
        ? mode !== SPLICE || !asIs(data, start, end)
        : numbered && mode !== REASON && mode !== THOUGHT;
      if (deferred || end < start || !plain(data, start, end)) return false;
      open = content ? contentOpen : reasoningOpen;
      shut = tailBytes;
      rangeFrom = start;
      rangeTo = end;
      chars = end - start;
      return true;
    }
    const end = to - FRAGMENT_TAIL.length;
    if (!matchAt(data, key, FRAGMENT) || !matchAt(data, end, FRAGMENT_TAIL)) return false;
    const args = fragmentAt(data, key + FRAGMENT.length, to, fragmentKey);
    return args !== -1 && args <= end && spliceFragment(data, args, end);
  };

  /** Whether the event `data[from, to)` may be spliced in this mode; if so, how. As bytes
   * where `ChatStream._spliced` would splice it, else parsed. */
  const classify = (data, from, to) => {
    body = data;
    found[0] = held;
    found[1] = false;
    const pad = nativePad(data, from, to);
    if (pad !== -1) {
      const start = from + NATIVE.length;
      if (mode === STOPPED) {
        rangeFrom = rangeTo = start; // nothing
        return true;
      }
      if (mode === THOUGHT || mode === CALL) return false; // content: a message opens
      if (mode === REASON ? !tagless(data, start, pad) : !asIs(data, start, pad)) {
        return classifyParsed(data, from, to);
      }
      open = mode === REASON ? reasoningOpen : contentOpen;
      shut = tailBytes;
      rangeFrom = start;
      rangeTo = pad;
      chars = pad - start;
      return true;
    }
    const chat = chunkOpen !== null || numbered; // Python's chat transcoder, not a completion's
    // The chat transcoder copies OpenAI's choices in SPLICE (also under a numbered THOUGHT).
    const at = (mode === SPLICE || mode === THOUGHT) && chat ? deltaChoice(data, from, to, text) : -1;
    if (at === -1 || !asIs(data, text[0], to - DELTA_TAIL.length)) {
      return (chat && classifyCompact(data, from, to)) || classifyParsed(data, from, to);
    }
    const shapedChars = to - text[0] - DELTA_TAIL.length; // as `_spliced` counts them
    chars = shapedChars;
    if (numbered) {
      // Only the item's text (content in a message, thought in a reasoning item), one literal
      // before OpenAI's usual tail: the literal itself is spliced. Otherwise Python's chat chunk
      // is these choices, parsed again for the Responses event, and its text counted as here.
      const end = to - CONTENT_TAIL.length;
      if (
        end <= text[0] ||
        !matchAt(data, at + DELTA.length, DELTA_KEYS[mode === THOUGHT ? 1 : 0]) ||
        !matchAt(data, end, CONTENT_TAIL) ||
        !literal(data, text[0], end)
      ) {
        if (!classifyParsed(data, from, to)) return false;
        chars = shapedChars;
        return true;
      }
      shut = tailBytes;
      rangeFrom = text[0];
      rangeTo = end;
      return true;
    }
    open = chunkOpen;
    shut = BLANK_LINE;
    rangeFrom = at;
    rangeTo = to;
    return true;
  };

  const rewrite = (chunk) => {
    if (mode === OVER) return;
    const data = pending === null ? chunk : join(pending, chunk);
    pending = null;
    let from = 0; // where the current event starts
    let slow = -1; // where a run of events for Python starts
    for (let scan = 0; ; ) {
      // An event ends at a blank line. Python reads each CRLF as LF, so LF, CR LF does too; the
      // events Python gets are as they came.
      const lf = data.indexOf(LF, scan);
      if (lf === -1) break;
      const next = data[lf + 1] === CR ? lf + 2 : lf + 1;
      if (next >= data.length) break;
      if (data[next] !== LF) {
        scan = lf + 1;
        continue;
      }
      const end = lf > from && data[lf - 1] === CR ? lf - 1 : lf;
      if (end > from) {
        let spliced = mode !== PYTHON && classify(data, from, end);
        if (spliced && slow !== -1) {
          // Python's run goes first, and may change the mode (`[DONE]`, `</think>`).
          toPython(data.subarray(slow, from));
          slow = -1;
          if (mode === OVER) return;
          spliced = mode !== PYTHON && classify(data, from, end);
        }
        if (spliced) {
          if (found[1] || found[0] !== held) {
            held = found[0];
            if (found[1]) mode = STOPPED; // (Python's mode follows when it hears)
            told = false;
          }
          if (rangeTo > rangeFrom) {
            splicedChars += chars;
            if (numbered) {
              emit(numberOpen);
              emit(digitsOf(sequence++));
              emit(numberShut);
              splicedRanges.push(body, rangeFrom, rangeTo);
              splicedCount++;
            } else {
              emit(open);
            }
            emitRange(body, rangeFrom, rangeTo);
            emit(numbered ? numberTail : shut);
          }
        } else if (slow === -1) {
          slow = from;
        }
      }
      from = scan = next + 1;
    }
    if (slow !== -1) toPython(data.subarray(slow, from));
    if (mode === OVER) return;
    if (from < data.length) pending = data.subarray(from);
  };

  let released = false;
  let idleTimer = null;
  const release = () => {
    if (!released) {
      released = true;
      clearTimeout(idleTimer);
      python.destroy();
    }
  };
  const reader = source.getReader();

  const finish = () => {
    send();
    writer.close().catch(ignore);
    release();
  };
  const ended = () => {
    if (pending !== null && mode !== OVER) toPython(pending);
    pending = null;
    report();
    emit(ask(END, splicedChars));
    finish();
  };
  const failed = (message = "The upstream stream failed before it finished.") => {
    // Python's error event and `[DONE]` still go out and the stream closes normally, so
    // clients see why instead of a cut connection.
    drop();
    report();
    emit(ask(FAIL, message));
    finish();
  };
  /** The client went away (the readable was cancelled) or rewriting failed (a bug, not the
   * upstream): Python's side is freed, the upstream stopped, the output errored. */
  const stop = (reason) => {
    if (released) return;
    release();
    reader.cancel(reason).catch(ignore);
    writer.abort(reason).catch(ignore);
  };
  // A stalled upstream must not hold the client forever. One timer per stream, re-armed when
  // it fires, rather than one per chunk: a read only records when it was asked for and a chunk
  // when it came. Only a read left unanswered counts: while the client is not reading, no read
  // is asked for (backpressure), and that is not the upstream's silence.
  let lastData = Date.now();
  let waiting = false; // a read of the upstream is outstanding
  const watch = (delay) => {
    idleTimer = setTimeout(() => {
      if (released) return;
      const quiet = Date.now() - lastData;
      if (!waiting || quiet < idleMs) return watch(waiting ? idleMs - quiet : idleMs);
      reader.cancel("stalled").catch(ignore);
      failed(`The upstream stream stalled: nothing arrived for ${idleMs / 1000} s.`);
    }, delay);
  };
  /** Reads the upstream and writes what it says, until either end stops. A write is not
   * awaited: the loop waits only when the output holds `HIGH_WATER` bytes the client has not
   * read, and then for the last write to be read (a client gone: `desiredSize` is null and the
   * write rejects). Waiting on `writer.ready` instead held the stream for seconds per chunk in
   * workerd once the client fell behind. */
  const pump = async () => {
    for (;;) {
      let chunk;
      waiting = true;
      lastData = Date.now();
      try {
        chunk = await reader.read();
      } catch {
        if (!released) failed();
        return;
      }
      waiting = false;
      if (released) return;
      lastData = Date.now();
      if (chunk.done) return ended();
      rewrite(chunk.value);
      send();
      // Full: wait until the client has read what was written last.
      if (!(writer.desiredSize > 0)) await lastWrite;
    }
  };

  // workerd's native IdentityTransformStream rather than a JavaScript stream: the body is read
  // from it natively, and per chunk JavaScript pays for one read and one write (see
  // docs/performance.md, "How the streaming path is built").
  const { readable, writable } = new IdentityTransformStream({ highWaterMark: HIGH_WATER });
  const writer = writable.getWriter();
  // A client that leaves while the upstream is quiet is noticed here, not at the next write.
  writer.closed.catch(stop);
  emit(encoder.encode(head));
  send();
  if (idleMs > 0) watch(idleMs);
  pump().catch(stop);
  return readable;
}
