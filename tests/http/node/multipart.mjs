// Runs src/bridge/multipart.mjs on cases from stdin (JSON lines) and prints one JSON line each:
// {body (base64), contentType, declared, limit, chunks: [sizes], byob} ->
// {entries: [[name, text | {filename, type, data (base64), streamed (base64, twice)}]]}
// | {error: name} | {tooLarge: true}. The body arrives as a stream cut at `chunks`; with `byob`,
// as a byte stream (as workerd's request bodies are) that fills only the reader's own buffers
// and fails a read that would make it allocate a chunk.
import { readForm } from "../../../src/bridge/multipart.mjs";

const b64 = (bytes) => Buffer.from(bytes).toString("base64");

function streamOf(body, chunks, byob) {
  const pieces = [];
  let at = 0;
  for (const size of chunks) {
    pieces.push(body.subarray(at, at + size));
    at += size;
  }
  if (at < body.length) pieces.push(body.subarray(at));
  if (byob) {
    const left = pieces.filter((piece) => piece.length); // a byte stream answers no read with 0 bytes
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest;
        if (!request) throw new Error("a chunk was asked for, not a read into the caller's buffer");
        const next = left.shift();
        if (next === undefined) {
          controller.close();
          request.respond(0);
          return;
        }
        const size = Math.min(next.length, request.view.byteLength);
        request.view.set(next.subarray(0, size));
        if (size < next.length) left.unshift(next.subarray(size));
        request.respond(size);
      },
    });
  }
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next.slice());
    },
  });
}

async function collect(stream) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function run({ body, contentType, declared, limit, chunks, byob = false }) {
  const bytes = Buffer.from(body, "base64");
  const headers = new Headers({ "content-type": contentType });
  if (declared !== null) headers.set("content-length", String(declared));
  const request = { headers, body: streamOf(new Uint8Array(bytes), chunks, byob) };
  let entries;
  try {
    entries = await readForm(request, declared !== null, limit);
  } catch (e) {
    return { error: e.name };
  }
  if (entries === null) return { tooLarge: true };
  const out = [];
  for (const [name, value] of entries) {
    if (typeof value === "string") {
      out.push([name, value]);
      continue;
    }
    const first = await collect(value.stream());
    const second = await collect(value.stream());
    out.push([name, { filename: value.name, type: value.type, data: b64(value.data), streamed: [b64(first), b64(second)] }]);
  }
  return { entries: out };
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
for (const line of input.split("\n").filter(Boolean)) {
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(line)))}\n`);
}
