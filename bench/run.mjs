// `make bench`: everything measured in one process, in one run, so ratios are comparable.
//   1. streaming: µs per upstream SSE event for bare pass-through, an equivalent JavaScript
//      TransformStream, and the Worker's Python transcoder (jsbridge + sse.ChatStream);
//   2. a whole streaming chat request through the Worker, per event;
//   3. per-request overhead of non-streaming chat vs a Worker that only calls env.AI.run.
// Workers AI is an in-memory fake behind the real local `Ai` shim: no network, no emulator.
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Ai } from "../runtime/ai.mjs";
import { compatFlagsFor } from "../runtime/settings.mjs";
import { bootPyodide, loadWorker } from "../runtime/worker.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const encoder = new TextEncoder();

const TAIL = encoder.encode(
  'data: {"response":"","usage":{"prompt_tokens":9,"completion_tokens":1000,"total_tokens":1009}}\n\ndata: [DONE]\n\n',
);
const EVENT_CHUNKS = Array.from({ length: EVENTS }, (_, i) =>
  encoder.encode(`data: {"response":" word${i}","p":"${"abcdefghijklmnopqrstuvwxyz".slice(0, 6 + (i % 20))}"}\n\n`),
);

/** Workers AI's native stream: one event per network chunk, as it arrives in production. */
function upstream() {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < EVENT_CHUNKS.length) controller.enqueue(EVENT_CHUNKS[i++]);
      else {
        controller.enqueue(TAIL);
        controller.close();
      }
    },
  });
}

async function drain(stream) {
  const reader = stream.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

/** What a JavaScript gateway does per event, in one TransformStream like the Worker's: decode
 * (keeping split characters), split events, JSON.parse, build the OpenAI chunk, stringify, encode. */
function jsTransform() {
  let buffer = "";
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "@cf/x" };
  return new TransformStream({
    transform(bytes, controller) {
      buffer += decoder.decode(bytes, { stream: true });
      const events = buffer.split("\n\n");
      buffer = events.pop();
      let out = "";
      for (const event of events) {
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const parsed = JSON.parse(data);
        if (parsed.response) {
          const chunk = { ...base, choices: [{ index: 0, delta: { content: parsed.response }, logprobs: null, finish_reason: null }] };
          out += `data: ${JSON.stringify(chunk)}\n\n`;
        }
      }
      if (out) controller.enqueue(encoder.encode(out));
    },
    flush(controller) {
      controller.enqueue(encoder.encode('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'));
    },
  });
}

async function timed(fn, rounds = ROUNDS) {
  const samples = [];
  await fn(); // warm-up
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function fakeWorkersAi(answer) {
  return new Ai({
    baseUrl: "http://workers-ai.invalid/client/v4",
    accountId: "bench",
    token: "bench",
    fetchImpl: async (_url, init) => {
      const inputs = JSON.parse(init.body);
      return inputs.stream
        ? new Response(upstream(), { headers: { "content-type": "text/event-stream" } })
        : new Response(JSON.stringify({ result: answer, success: true, errors: [], messages: [] }), {
            headers: { "content-type": "application/json" },
          });
    },
  });
}

async function worker(srcDir) {
  const env = { API_KEYS: "sk-bench" };
  const loaded = await loadWorker({
    srcDir,
    pythonModulesDir: path.join(ROOT, "python_modules"),
    mainModule: "entry",
    compatFlags: compatFlagsFor("2026-11-01", ["python_workers"]),
    env,
    pyodidePromise: bootPyodide({ snapshotDir: path.join(ROOT, ".wrangler", "local-runtime") }),
  });
  env.AI = fakeWorkersAi({
    response: "Hello there!",
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
  });
  return loaded;
}

function chatRequest(stream) {
  return new Request("http://bench.local/v1/chat/completions", {
    method: "POST",
    headers: { authorization: "Bearer sk-bench", "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], stream }),
  });
}

const app = await worker(path.join(ROOT, "src"));
const pyTranscode = app.pyodide.runPython(`
import jsbridge
import sse

def transcode(stream):
    chat = sse.ChatStream(completion_id="chatcmpl-bench", created=0, model="@cf/x", max_tokens=10**6)
    return jsbridge._transcoded(jsbridge.JsStream(stream), chat)

transcode
`);

// Variants run interleaved, round after round, so machine noise hits them alike.
const variants = {
  bare: () => drain(new Response(upstream()).body),
  js: () => drain(upstream().pipeThrough(jsTransform())),
  python: () => drain(pyTranscode(upstream())),
  request: async () => drain((await app.fetch(chatRequest(true))).body),
};
const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const run of Object.values(variants)) await run(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(variants)) {
    const t0 = performance.now();
    await run();
    samples[name].push(performance.now() - t0);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perEvent = (name) => (median(samples[name]) * 1000) / EVENTS;
const [bare, js, python, request] = ["bare", "js", "python", "request"].map(perEvent);

const direct = await worker(path.join(ROOT, "bench", "direct"));
const perRequest = async (w, make) =>
  ((await timed(async () => {
    for (let i = 0; i < REQUESTS; i++) await (await w.fetch(make())).arrayBuffer();
  }, 3)) * 1000) / REQUESTS;
const directMs = await perRequest(direct, () => new Request("http://bench.local/"));
const chatMs = await perRequest(app, () => chatRequest(false));

const f = (x) => x.toFixed(1);
console.log(`Streaming, ${EVENTS} one-event chunks, median of ${ROUNDS} (µs per event):`);
console.log(`  bare pass-through                 ${f(bare)}`);
console.log(`  JavaScript TransformStream        ${f(js)}`);
console.log(`  Python transcoder (jsbridge+sse)  ${f(python)}`);
console.log(`  whole streaming chat request      ${f(request)}`);
console.log(`  ratio python / javascript         ${(python / js).toFixed(2)}   (target ≤ 1.00)`);
console.log(`  ratio python / pass-through       ${(python / bare).toFixed(2)}   (target ≤ 6.00)`);
console.log(`Non-streaming, ${REQUESTS} requests (µs per request):`);
console.log(`  Worker calling env.AI.run only    ${f(directMs)}`);
console.log(`  POST /v1/chat/completions         ${f(chatMs)}`);
console.log(`  overhead                          ${f(chatMs - directMs)}   (target ≤ 1000)`);
const ok = python <= js && python <= 6 * bare && chatMs - directMs <= 1000;
console.log(ok ? "All targets met." : "A target was missed.");
process.exit(0);
