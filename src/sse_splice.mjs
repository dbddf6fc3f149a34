// The hot loop of streamed chat, in JavaScript. Calling into Pyodide costs about 10 µs per
// upstream chunk (the call, two conversions, `enqueue`; docs/performance.md), more than a whole
// JavaScript transform, so the events that are most of every stream never reach Python: the
// native `{"response":"…","p":"…"}` event and a compact OpenAI-shaped content delta are spliced
// here, byte for byte as `sse.ChatStream.feed` splices them. Every other event (role, tool
// calls, usage, reasoning, `[DONE]`, errors, anything unusual) goes to `ChatStream.feed` in
// order, whole, and the stream's end and failures are Python's too. `ChatStream.mode` says
// when splicing is allowed (no stop sequences, not inside `<think>`, not over); Python sets
// `control.mode` whenever it changes. jsbridge sets this up; this module owns no policy.

// Values of `control.mode`, the same as `sse.PYTHON`, `sse.SPLICE` and `sse.OVER`.
const PYTHON = 0;
const SPLICE = 1;
const OVER = 2;

const LF = 10;
const CR = 13;
const QUOTE = 34;
const BRACE = 125;
const ascii = (text) => new TextEncoder().encode(text);
const NATIVE = ascii('data: {"response":"');
const PAD = ascii('","p":"');
const CHOICE = ascii('"choices":[{"index":0,"delta":{"content":"');
const CHOICE_TAIL = ascii('"finish_reason":null}]}');
const USAGE = ascii('"usage"');
const TOOLS = ascii('"tool_calls"');
const BLANK_LINE = ascii("\n\n");
const SLAB_SIZE = 16384;

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
  for (let at = bytes.indexOf(pattern[0], from); at !== -1 && at <= last; at = bytes.indexOf(pattern[0], at + 1)) {
    if (matchAt(bytes, at, pattern)) return at;
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

/** Where the padding marker of a native `data: {"response":"…","p":"…"}` event `[from, to)`
 * starts, or -1 if the event is not one. */
function nativePad(data, from, to) {
  if (to - from <= NATIVE.length || data[to - 1] !== BRACE || data[to - 2] !== QUOTE) return -1;
  if (!matchAt(data, from, NATIVE)) return -1;
  const pad = find(data, PAD, from + NATIVE.length, to);
  return pad !== -1 && alnum(data, pad + PAD.length, to - 2) ? pad : -1;
}

/** Where `"choices":[…]` starts in an OpenAI-shaped event `[from, to)` whose only news is a
 * non-empty content delta, or -1. */
function contentChoice(data, from, to) {
  if (!matchAt(data, to - CHOICE_TAIL.length, CHOICE_TAIL)) return -1;
  const at = find(data, CHOICE, from + 6, to);
  if (at === -1 || data[at + CHOICE.length] === QUOTE) return -1;
  return find(data, USAGE, at, to) === -1 && find(data, TOOLS, at, to) === -1 ? at : -1;
}

function join(first, second) {
  const out = new Uint8Array(first.length + second.length);
  out.set(first);
  out.set(second, first.length);
  return out;
}

// What `python(kind, value)` is asked to do: the same numbers as jsbridge's.
const FEED = 0; // value: whole events (or raw bytes after CR) -> OpenAI events or undefined
const END = 1; // value: the content length spliced here -> the closing events
const FAIL = 2; // value: a message -> the error event and `[DONE]`

/**
 * `source` (Workers AI's SSE bytes) as a ReadableStream of OpenAI SSE bytes.
 *
 * `python` is one Python callable (see FEED, END, FAIL), destroyed here once nothing will call
 * it again; `control.mode` is the stream's mode, which Python updates. `head` is sent first
 * (the role chunk); `nativeHead`/`nativeTail` go around a native event's JSON string literal;
 * `chunkHead` is our envelope for an OpenAI-shaped delta (empty: that shape is not spliced).
 */
export function transcode(source, python, control, head, nativeHead, nativeTail, chunkHead) {
  const encoder = new TextEncoder();
  const nativeOpen = encoder.encode(nativeHead);
  const nativeClose = encoder.encode(nativeTail);
  const chunkOpen = chunkHead ? encoder.encode(chunkHead) : null;
  let pending = null; // an event not yet ended by a blank line
  let raw = false; // CR line ends seen: Python frames them (it normalises CRLF)
  let splicedChars = 0; // content length spliced here, for Python's usage estimate
  // What to send next, as byte ranges: copied once into one chunk by `send`.
  const parts = [];
  const starts = [];
  const ends = [];
  let count = 0;
  let outSize = 0;
  let slab = new Uint8Array(SLAB_SIZE);
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
    count = 0;
    outSize = 0;
  };
  /** Enqueues what was emitted, as one chunk; false if there was nothing. */
  const send = (controller) => {
    if (!outSize) return false;
    if (count === 1 && starts[0] === 0 && ends[0] === parts[0].length) {
      controller.enqueue(parts[0]); // Python's output: already a chunk of its own
      parts[0] = null;
      drop();
      return true;
    }
    // Chunks are views into a slab that is only ever appended to: allocating an ArrayBuffer
    // per event costs more than the rest of the splice. No range is written after it is
    // enqueued, and default (not byte) streams neither detach nor reuse what they are given.
    if (slabAt + outSize > slab.length) {
      slab = new Uint8Array(Math.max(SLAB_SIZE, outSize));
      slabAt = 0;
    }
    const all = slab.subarray(slabAt, slabAt + outSize);
    slabAt += outSize;
    // Short pieces are copied byte by byte: cheaper than a subarray view for each.
    let at = 0;
    for (let i = 0; i < count; i++) {
      const bytes = parts[i];
      const from = starts[i];
      const to = ends[i];
      if (to - from < 48) {
        for (let j = from; j < to; j++) all[at++] = bytes[j];
      } else {
        all.set(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to), at);
        at += to - from;
      }
      parts[i] = null;
    }
    controller.enqueue(all);
    drop();
    return true;
  };

  let mode = control.mode;
  const toPython = (bytes) => {
    emit(python(FEED, bytes));
    mode = control.mode; // Python sets it when it changes
  };

  const rewrite = (chunk) => {
    if (mode === OVER) return;
    const data = pending === null ? chunk : join(pending, chunk);
    pending = null;
    if (!raw && data.indexOf(CR) !== -1) raw = true;
    if (raw) {
      toPython(data);
      return;
    }
    let from = 0; // where the current event starts
    let slow = -1; // where a run of events for Python starts
    for (let scan = 0; ; ) {
      const lf = data.indexOf(LF, scan);
      if (lf === -1 || lf + 1 >= data.length) break;
      if (data[lf + 1] !== LF) {
        scan = lf + 1;
        continue;
      }
      let pad = -1;
      let choice = -1;
      if (mode === SPLICE && lf > from) {
        pad = nativePad(data, from, lf);
        if (pad === -1 && chunkOpen !== null) choice = contentChoice(data, from, lf);
      }
      if (pad !== -1 || choice !== -1) {
        // Python's run goes first: it may have ended the stream (`[DONE]`, an error event).
        if (slow !== -1) {
          toPython(data.subarray(slow, from));
          slow = -1;
          if (mode === OVER) return;
        }
        if (pad !== -1) {
          const text = from + NATIVE.length;
          if (pad > text) {
            splicedChars += pad - text;
            emit(nativeOpen);
            emitRange(data, text, pad);
            emit(nativeClose);
          }
        } else {
          splicedChars += lf - choice - CHOICE.length - CHOICE_TAIL.length;
          emit(chunkOpen);
          emitRange(data, choice, lf);
          emit(BLANK_LINE);
        }
      } else if (slow === -1 && lf > from) {
        slow = from;
      }
      from = scan = lf + 2;
    }
    if (slow !== -1) toPython(data.subarray(slow, from));
    if (from < data.length && mode !== OVER) pending = data.subarray(from);
  };

  let released = false;
  const release = () => {
    if (!released) {
      released = true;
      python.destroy();
    }
  };
  const reader = source.getReader();

  let controller; // the readable's, from `start`
  const close = () => {
    send(controller);
    controller.close();
    release();
  };
  const ended = () => {
    if (pending !== null && mode !== OVER) toPython(pending);
    pending = null;
    emit(python(END, splicedChars));
    close();
  };
  const failed = () => {
    // Python's error event and `[DONE]` still go out and the stream closes normally, so
    // clients see why instead of a cut connection.
    drop();
    emit(python(FAIL, "The upstream stream failed before it finished."));
    close();
  };
  let read;
  const onChunk = ({ done, value }) => {
    if (released) return undefined;
    try {
      if (done) return ended();
      rewrite(value);
      // A pull that enqueues nothing is not repeated: read on until there is something.
      return send(controller) ? undefined : read();
    } catch (error) {
      // A bug, not the upstream: the stream errors; Python's side is freed, the upstream stopped.
      release();
      reader.cancel(error).catch(() => {});
      throw error;
    }
  };
  const onFailure = () => (released ? undefined : failed());
  read = () => reader.read().then(onChunk, onFailure);

  // A pull source rather than a TransformStream: per chunk it costs one read, where a pipe
  // through a TransformStream costs several promises (about 1 µs against 2.4 in Node).
  return new ReadableStream({
    start(c) {
      controller = c;
      emit(encoder.encode(head));
      send(controller);
    },
    pull: read,
    cancel(reason) {
      // The client went away: stop the upstream too.
      release();
      return reader.cancel(reason);
    },
  });
}
