// multipart/form-data bodies read once into one buffer and split there, so an upload is held
// once in the isolate. workerd's `request.formData()` holds the body and then a copy of every
// file part (and, growing its buffer as the body arrives, more while it reads): for a 25 MB
// upload the isolate grew by ~65 MB, past issue 17's "no more than 2× the file"
// (docs/performance.md, "Uploads"). File parts here are views of that buffer; a part sent to
// Workers AI as a stream is read from it in place.
//
// The split follows workerd's parser (src/workerd/api/form-data.c++): parts are delimited by
// `--boundary` after a line feed (a CR before it is dropped), a delimiter is followed by CRLF,
// LF or `--` (the end), headers end at an empty line (CRLF or LF), `Content-Disposition` must be
// `form-data` with a quoted `name` (`\c` in quotes is `c`), and a part with a `filename` is a
// file, its type the part's `Content-Type` or "". Text parts are decoded as UTF-8.

const CHUNK = 64 * 1024; // what a part's stream hands on per read

/** A file part: a view of the body, File-like enough for the adapter (`name`, `type`). */
export class Part {
  constructor(data, name, type) {
    this.data = data;
    this.name = name;
    this.type = type;
  }

  /** The part as a stream of views of the body (no copy; a fresh stream per call). */
  stream() {
    const data = this.data;
    let at = 0;
    return new ReadableStream({
      pull(controller) {
        if (at >= data.length) {
          controller.close();
          return;
        }
        controller.enqueue(data.subarray(at, Math.min(at + CHUNK, data.length)));
        at += CHUNK;
      },
    });
  }
}

/** The error the adapter turns into a 400: `name` says which. */
export class FormError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

const incomplete = () => new FormError("IncompleteBody", "The body ended before its declared length.");

/** The boundary of a multipart/form-data content type, or null for any other type. */
export function boundaryOf(contentType) {
  const [essence, ...params] = String(contentType ?? "").split(";");
  if (essence.trim().toLowerCase() !== "multipart/form-data") return null;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue;
    let value = param.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (value) return value;
  }
  throw new FormError("InvalidForm", "No boundary in the multipart/form-data content type.");
}

/**
 * The body as one Uint8Array, or null once more than `limit` bytes came (the stream cancelled).
 * With a declared length the buffer is allocated once and the body is read into it (`byob`:
 * workerd's request bodies are byte streams, so no chunk is allocated on the way; other streams
 * copy theirs in); without one the chunks are kept and joined at the end (twice the body for a
 * moment, as a Blob would be).
 */
export async function readBody(stream, declared, limit) {
  if (!stream) return new Uint8Array(0);
  if (declared > 0 && declared <= limit) return readDeclared(stream, declared);
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > limit) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    throw incomplete();
  }
  const joined = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.byteLength;
  }
  return joined;
}

/** A body of `declared` bytes (HTTP framing holds it to that), read into one buffer. */
async function readDeclared(stream, declared) {
  let byob = null;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    // not a byte stream: read its chunks
  }
  let buffer = new Uint8Array(declared);
  let total = 0;
  try {
    if (byob) {
      while (total < declared) {
        // The view's buffer is transferred to the read and comes back as `value.buffer`.
        const { done, value } = await byob.read(new Uint8Array(buffer.buffer, total, declared - total));
        if (done) break;
        buffer = new Uint8Array(value.buffer);
        total += value.byteLength;
      }
      // Nothing may follow the declared length (HTTP framing): anything more is an error.
      if (total === declared && !(await byob.read(new Uint8Array(1))).done) throw incomplete();
    } else {
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (total + value.byteLength > declared) throw incomplete();
        buffer.set(value, total);
        total += value.byteLength;
      }
    }
  } catch {
    throw incomplete();
  }
  if (total !== declared) throw incomplete();
  return buffer;
}

function indexOf(data, needle, from) {
  const first = needle[0];
  for (let i = data.indexOf(first, from); i >= 0; i = data.indexOf(first, i + 1)) {
    if (i + needle.length > data.length) return -1;
    let j = 1;
    while (j < needle.length && data[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

const LF = 10;
const CR = 13;
const DASH = 45;
const invalid = (message) => new FormError("InvalidForm", message);
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();
// Headers are split as latin1 text (one char per byte); their values are UTF-8, as workerd reads them.
const utf8FromLatin1 = (text) => utf8.decode(Uint8Array.from(text, (c) => c.charCodeAt(0)));

/** The end of the part headers starting at `from` (`\r?\n\r?\n`): [end of headers, body start]. */
function headersEnd(data, from) {
  for (let i = data.indexOf(LF, from); i >= 0; i = data.indexOf(LF, i + 1)) {
    let next = i + 1;
    if (data[next] === CR) next++;
    if (data[next] === LF) return [i, next + 1];
  }
  throw invalid("No multipart message header termination found.");
}

const TOKEN = /^[A-Za-z0-9_!#$%&'*+.^`|~-]+/;

/** `form-data; name="a"; filename="b"` as {name, filename}; throws unless it is form-data. */
function disposition(value) {
  let rest = value.trimStart();
  const kind = TOKEN.exec(rest)?.[0];
  if (kind !== "form-data") throw invalid('Content-Disposition of a part must be "form-data".');
  rest = rest.slice(kind.length).trimStart();
  const params = {};
  // Quoted parameters only, as workerd reads them; parsing stops at the first other one.
  for (;;) {
    const m = /^;\s*([A-Za-z0-9_!#$%&'*+.^`|~-]+)\s*=\s*"((?:[^"\\\n]|\\[^\n])+)"\s*/.exec(rest);
    if (!m) break;
    params[m[1]] = utf8FromLatin1(m[2].replace(/\\(.)/g, "$1"));
    rest = rest.slice(m[0].length);
  }
  if (params.name === undefined) throw invalid("Content-Disposition of a part is missing a name.");
  return params;
}

/** Header lines as {lower-case name: value}; throws on a line without a colon. */
function headers(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    const colon = line.indexOf(":");
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) throw invalid("A part has invalid headers.");
    out[line.slice(0, colon).toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return out;
}

/** [[name, string | Part], ...] in body order; `data` is held by the file parts' views. */
export function parse(data, boundary) {
  const delimiter = new TextEncoder().encode(`\n--${boundary}`);
  let at = indexOf(data, delimiter.subarray(1), 0);
  if (at < 0) throw invalid("No initial boundary string (or a truncated message).");
  at += delimiter.length - 1;
  const entries = [];
  for (;;) {
    if (data[at] === LF) at += 1;
    else if (data[at] === CR && data[at + 1] === LF) at += 2;
    else if (data[at] === DASH && data[at + 1] === DASH) return entries;
    else throw invalid("A boundary was not followed by CRLF, LF or '--'.");
    const [headEnd, bodyStart] = headersEnd(data, at);
    const head = headers(latin1.decode(data.subarray(at, headEnd)));
    if (head["content-disposition"] === undefined) throw invalid("A part has no Content-Disposition.");
    const { name, filename } = disposition(head["content-disposition"]);
    const next = indexOf(data, delimiter, bodyStart);
    if (next < 0) throw invalid("No boundary after a part (a truncated message).");
    const end = next > bodyStart && data[next - 1] === CR ? next - 1 : next;
    const body = data.subarray(bodyStart, end);
    const type = utf8FromLatin1(head["content-type"] ?? "");
    entries.push([name, filename === undefined ? utf8.decode(body) : new Part(body, filename, type)]);
    at = next + delimiter.length;
  }
}

/**
 * A request's multipart form: [[name, string | Part], ...], or null when the body passed
 * `limit`. `declared` says the request has a Content-Length (checked against the limit before).
 */
export async function readForm(request, declared, limit) {
  const boundary = boundaryOf(request.headers.get("content-type"));
  if (boundary === null) throw invalid("The body is not multipart/form-data.");
  const length = declared ? Number(request.headers.get("content-length")) : 0;
  const data = await readBody(request.body, length, limit);
  return data === null ? null : parse(data, boundary);
}

const BASE64_PIECE = 3 * 8192; // bytes per btoa call: a multiple of 3, so pieces join unpadded

/** `data` (a Uint8Array) as base64 text, built here so it never passes through Python. */
export function base64(data) {
  if (typeof data.toBase64 === "function") return data.toBase64();
  const pieces = [];
  for (let at = 0; at < data.length; at += BASE64_PIECE) {
    pieces.push(btoa(String.fromCharCode.apply(null, data.subarray(at, at + BASE64_PIECE))));
  }
  return pieces.join("");
}

/**
 * Sets `target[key]` to the base64 of `data` (an upload's view): a model input such as
 * img2img's `image_b64`. The text stays in JavaScript; returning it would copy it into Python.
 */
export function setBase64(target, key, data) {
  target[key] = base64(data);
}
