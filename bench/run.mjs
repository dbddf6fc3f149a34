// `make bench`, part 1: streaming and per-request cost, measured in one process and one run so
// the ratios compare like with like. Variants run interleaved, round after round, so machine
// noise hits them alike; each figure is a median.
//   cold import ms to import the Worker (entry and every module it loads) after Pyodide boots,
//               vs a Worker that imports only the workers SDK;
//   streaming   µs per upstream SSE event (1,000 one-event chunks, Workers AI's native shape):
//               bare pass-through, two JavaScript transforms doing the same job as the Worker,
//               the Worker's transcoder (jsbridge + sse_splice.mjs + chatstream.ChatStream) on
//               each upstream shape (SHAPES), with every event through Python, and a whole
//               streaming chat (and Responses) request through the Worker; for each, how many
//               times per stream the splice called into Python;
//   per request µs for non-streaming chat vs a Worker that only calls env.AI.run.
// Workers AI is an in-memory fake behind the real local `Ai` shim: no network, no emulator.
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Ai } from "../runtime/ai.mjs";
import { compatFlagsFor } from "../runtime/settings.mjs";
import { bootPyodide, loadWorker } from "../runtime/worker.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const encoder = new TextEncoder();

const TAIL = encoder.encode(
  'data: {"response":"","usage":{"prompt_tokens":9,"completion_tokens":1000,"total_tokens":1009}}\n\ndata: [DONE]\n\n',
);
/** `EVENTS` one-event chunks, event `i` written by `make`. */
const chunksOf = (make) => Array.from({ length: EVENTS }, (_, i) => encoder.encode(make(i)));
const pad = (i) => "abcdefghijklmnopqrstuvwxyz".slice(0, 6 + (i % 20));
const EVENT_CHUNKS = chunksOf((i) => `data: {"response":" word${i}","p":"${pad(i)}"}\n\n`);

const shaped = (choice) =>
  `data: {"id":"chatcmpl-u","object":"chat.completion.chunk","created":1,"model":"@cf/qwen/qwen3-30b-a3b-fp8","choices":[${choice}]}\n\n`;
const OPENAI_CHUNKS = chunksOf((i) =>
  shaped(`{"index":0,"delta":{"content":" word${i}"},"logprobs":null,"finish_reason":null}`),
);
const COMPACT_CHUNKS = chunksOf((i) => shaped(`{"index":0,"delta":{"content":" word${i}"}}`));
const THOUGHT_CHUNKS = chunksOf((i) => shaped(`{"index":0,"delta":{"reasoning_content":" step${i}"}}`));
// The first event opens the call (Python numbers it); the rest are fragments of its arguments.
const opening = (chunks, first) => [encoder.encode(first), ...chunks.slice(1)];
const fragment = (i) => JSON.stringify(i % 2 ? `"k${i}":` : `"v${i}",`);
const FRAGMENT_CHUNKS = opening(
  chunksOf((i) => shaped(`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":${fragment(i)}}}]}}`)),
  shaped(
    '{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":""}}]}}',
  ),
);
// One upstream shape per row: [label, chunks, ChatStream options].
const SHAPES = [
  ["native text", EVENT_CHUNKS, {}],
  ["native thought (inside <think>)", EVENT_CHUNKS, { think_tags: true }],
  ["OpenAI content, logprobs and finish_reason null", OPENAI_CHUNKS, {}],
  ["OpenAI content, without them", COMPACT_CHUNKS, {}],
  [
    "OpenAI content, logprobs given",
    chunksOf((i) =>
      shaped(
        `{"index":0,"delta":{"content":" word${i}"},"logprobs":{"content":[{"token":" word${i}","logprob":-0.1}]},"finish_reason":null}`,
      ),
    ),
    {},
  ],
  ["OpenAI reasoning, compact", THOUGHT_CHUNKS, {}],
  [
    "tool-call argument fragments, native",
    opening(
      chunksOf(
        (i) => `data: {"tool_calls":[{"index":0,"function":{"arguments":${fragment(i)}}}],"p":"${pad(i)}"}\n\n`,
      ),
      'data: {"tool_calls":[{"id":"c1","type":"function","index":0,"function":{"name":"f"}}]}\n\n',
    ),
    {},
  ],
  ["tool-call argument fragments, OpenAI-shaped", FRAGMENT_CHUNKS, {}],
  ["native text, a stop sequence that never starts", EVENT_CHUNKS, { stops: ["@@never@@"] }],
  [
    "native text, escapes, a stop sequence",
    chunksOf((i) => `data: {"response":" w\\u00f6rd${i}\\n","p":"${pad(i)}"}\n\n`),
    { stops: ["@@never@@"] },
  ],
  ["native text, CRLF-framed", chunksOf((i) => `data: {"response":" word${i}","p":"${pad(i)}"}\r\n\r\n`), {}],
  [
    "native text, pretty-printed",
    chunksOf((i) => `data: {\ndata:   "response": " word${i}",\ndata:   "p": "${pad(i)}"\ndata: }\n\n`),
    {},
  ],
  // A stop whose first letter is in every event but that never starts at an event's end: before,
  // every such event went to Python; now only text that holds or ends with the start of one.
  ["native text holding a stop's first character", EVENT_CHUNKS, { stops: ["wordless"] }],
];

/** Workers AI's stream: one event per network chunk, as tokens arrive in production. Native
 * events by default; OpenAI-shaped ones (qwen3, glm, gemma-4...) with `chunks = OPENAI_CHUNKS`. */
function upstream(chunks = EVENT_CHUNKS) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else {
        controller.enqueue(TAIL);
        controller.close();
      }
    },
  });
}

async function drain(stream) {
  const reader = stream.getReader();
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
  }
}

const BASE = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "@cf/x" };
const FINAL = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

/** Per event: split, JSON.parse, build the OpenAI chunk, JSON.stringify. */
function rewriteEvents(text, emit) {
  const events = text.split("\n\n");
  const rest = events.pop();
  for (const event of events) {
    const data = event.slice(6);
    if (data === "[DONE]") continue;
    const parsed = JSON.parse(data);
    if (parsed.response) {
      const choices = [{ index: 0, delta: { content: parsed.response }, logprobs: null, finish_reason: null }];
      emit(`data: ${JSON.stringify({ ...BASE, choices })}\n\n`);
    }
  }
  return rest;
}

/** JavaScript, shaped like the Worker: one TransformStream, bytes in and out. */
function jsOneStage(source) {
  let buffer = "";
  const decoder = new TextDecoder();
  return source.pipeThrough(
    new TransformStream({
      transform(bytes, controller) {
        let out = "";
        buffer = rewriteEvents(buffer + decoder.decode(bytes, { stream: true }), (e) => (out += e));
        if (out) controller.enqueue(encoder.encode(out));
      },
      flush(controller) {
        controller.enqueue(encoder.encode(FINAL));
      },
    }),
  );
}

/** JavaScript, the common style: TextDecoderStream -> TransformStream -> TextEncoderStream. */
function jsThreeStage(source) {
  let buffer = "";
  return source
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(
      new TransformStream({
        transform(text, controller) {
          buffer = rewriteEvents(buffer + text, (e) => controller.enqueue(e));
        },
        flush(controller) {
          controller.enqueue(FINAL);
        },
      }),
    )
    .pipeThrough(new TextEncoderStream());
}

let streamed = EVENT_CHUNKS; // what the fake streams to a whole request

/** `app.fetch(request)` with the fake streaming `chunks`. */
async function streaming(chunks, request) {
  streamed = chunks;
  try {
    return await app.fetch(request);
  } finally {
    streamed = EVENT_CHUNKS;
  }
}

function fakeWorkersAi(answer) {
  return new Ai({
    baseUrl: "http://workers-ai.invalid/client/v4",
    accountId: "bench",
    token: "bench",
    fetchImpl: async (_url, init) =>
      JSON.parse(init.body).stream
        ? new Response(upstream(streamed), { headers: { "content-type": "text/event-stream" } })
        : new Response(JSON.stringify({ result: answer, success: true, errors: [], messages: [] }), {
            headers: { "content-type": "application/json" },
          }),
  });
}

const importMs = {};

/** A Worker on its own Pyodide; records how long importing its entry module took. */
async function worker(srcDir) {
  const env = { API_KEYS: "sk-bench" };
  const pyodide = await bootPyodide({ snapshotDir: path.join(ROOT, ".wrangler", "local-runtime") });
  const t0 = performance.now();
  const loaded = await loadWorker({
    srcDir,
    pythonModulesDir: path.join(ROOT, "python_modules"),
    mainModule: "entry",
    compatFlags: compatFlagsFor("2026-11-01", ["python_workers"]),
    env,
    pyodidePromise: Promise.resolve(pyodide),
  });
  importMs[srcDir] = performance.now() - t0;
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

function responsesRequest() {
  return new Request("http://bench.local/v1/responses", {
    method: "POST",
    headers: { authorization: "Bearer sk-bench", "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", input: "Hi", stream: true, store: false }),
  });
}

async function interleaved(variants, rounds) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const run of Object.values(variants)) await run(); // warm-up
  const order = Object.entries(variants);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let r = 0; r < rounds; r++) {
    // A new order each round (a fixed seed, so runs compare): a variant run right after a
    // heavy allocator pays for its garbage, so none may always follow the same neighbour.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const [name, run] of order) {
      const t0 = performance.now();
      await run();
      samples[name].push(performance.now() - t0);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
}

const app = await worker(path.join(ROOT, "src"));
const direct = await worker(path.join(ROOT, "bench", "direct"));
// The Worker's transcoder exactly as a streamed reply builds it (jsbridge + sse_splice.mjs +
// chatstream.ChatStream): for content, for thought (a native reasoning model before `</think>`), with
// stop sequences, and with every event through Python.
// Every call the splice makes into Python (FEED, END, FAIL, SPLICED), counted: the module as
// the Worker imports it, with each stream's callable wrapped.
let crossings = 0;
const splicer = await app.pyodide.runPythonAsync("from bridge import adapter\nawait adapter._splicer()");
const counting = {
  transcode(source, python, control, heads) {
    const counted = (kind, value) => {
      crossings++;
      return python(kind, value);
    };
    counted.destroy = () => python.destroy();
    return splicer.transcode(source, counted, control, heads);
  },
};
const setup = await app.pyodide.runPythonAsync(`
from bridge import adapter
from core import config
from handlers.responses import response_stream
from mapping import catalog, chat, chatstream, responses
from mapping.chatreply import prompt_text_of

def setup(splicer):
    adapter._splice_module = splicer  # whole requests go through it too

    def transcode(stream, stops=(), think_tags=False):
        chat = chatstream.ChatStream(
            completion_id="chatcmpl-bench",
            created=0,
            model="@cf/x",
            max_tokens=10**6,
            stops=tuple(stops),
            think_tags=think_tags,
        )
        return adapter._transcoded(splicer, adapter.JsStream(stream), chat, 0)

    def transcode_responses(stream):
        # A streamed Response's transcoder, built as POST /v1/responses builds it.
        request = responses.parse({"model": "gpt-4o-mini", "input": "Hi", "stream": True})
        model = catalog.model_for("gpt-4o-mini", catalog.CHAT, config.load({}))
        chat_request = chat.chat_request(responses.chat_body(request, request.items), model)
        prompt = prompt_text_of(chat_request.inputs)
        numbered = response_stream(request, chat_request, prompt, "resp_bench", 0, False)
        return adapter._transcoded(splicer, adapter.JsStream(stream), numbered, 0)

    transcode.responses = transcode_responses
    return transcode

setup
`);
const transcoder = setup(counting);
const responsesTranscoder = transcoder.responses;
const through = (chunks, options) => () =>
  drain(transcoder.callKwargs(upstream(chunks), options));

const variants = {
  bare: () => drain(new Response(upstream()).body),
  jsOne: () => drain(jsOneStage(upstream())),
  jsThree: () => drain(jsThreeStage(upstream())),
  request: async () => drain((await app.fetch(chatRequest(true))).body),
  responses: async () => drain((await app.fetch(responsesRequest())).body),
  responsesOpenai: async () => drain((await streaming(COMPACT_CHUNKS, responsesRequest())).body),
  responsesThought: async () => drain((await streaming(THOUGHT_CHUNKS, responsesRequest())).body),
  responsesCall: async () => drain((await streaming(FRAGMENT_CHUNKS, responsesRequest())).body),
};
for (const [label, chunks, options] of SHAPES) variants[label] = through(chunks, options);
// The Responses transcoder alone, per item kind its text or fragments open.
const RESPONSES_SHAPES = [
  ["Responses: native text (a message)", EVENT_CHUNKS],
  ["Responses: OpenAI content, compact", COMPACT_CHUNKS],
  ["Responses: OpenAI reasoning, compact (reasoning item)", THOUGHT_CHUNKS],
  ["Responses: OpenAI argument fragments (function_call)", FRAGMENT_CHUNKS],
];
for (const [label, chunks] of RESPONSES_SHAPES) variants[label] = () => drain(responsesTranscoder(upstream(chunks)));
const calls = {};
for (const [name, run] of Object.entries(variants)) {
  crossings = 0;
  await run();
  calls[name] = crossings;
}
const stream = await interleaved(variants, ROUNDS);
const us = Object.fromEntries(Object.entries(stream).map(([k, ms]) => [k, (ms * 1000) / EVENTS]));

const batch = (w, make) => async () => {
  for (let i = 0; i < REQUESTS; i++) await (await w.fetch(make())).arrayBuffer();
};
const perRequest = await interleaved(
  { direct: batch(direct, () => new Request("http://bench.local/")), chat: batch(app, () => chatRequest(false)) },
  ROUNDS,
);
const directUs = (perRequest.direct * 1000) / REQUESTS;
const chatUs = (perRequest.chat * 1000) / REQUESTS;

const row = (label, x) => console.log(`  ${label.padEnd(54)}${x.toFixed(1).padStart(8)}`);
const ratio = (label, x, target) =>
  console.log(`  ${label.padEnd(34)}${x.toFixed(2)}  target ≤ ${target.toFixed(2)}: ${x <= target ? "met" : "MISSED"}`);
console.log("Cold import after Pyodide boots (ms, one sample each)");
row("Worker importing only the workers SDK", importMs[path.join(ROOT, "bench", "direct")]);
row("this Worker (entry, routes, every handler)", importMs[path.join(ROOT, "src")]);
console.log(`Streaming: ${EVENTS} one-event chunks, median of ${ROUNDS} interleaved rounds, µs per event`);
row("bare pass-through (Response of the upstream)", us.bare);
row("JavaScript, one TransformStream (bytes in/out)", us.jsOne);
row("JavaScript, TextDecoder/Transform/TextEncoder streams", us.jsThree);
console.log(
  `The Worker's transcoder (sse_splice.mjs + chatstream.ChatStream) per upstream shape: µs per event, ` +
    `× one-stage JavaScript (target ≤ 1.00), calls into Python per stream of ${EVENTS + 2} events`,
);
const shape = (label, name = label) =>
  console.log(
    `  ${label.padEnd(54)}${us[name].toFixed(1).padStart(8)}${(us[name] / us.jsOne).toFixed(2).padStart(8)}` +
      `${String(calls[name]).padStart(8)}`,
  );
for (const [label] of [...SHAPES, ...RESPONSES_SHAPES]) shape(label);
shape("whole streaming chat request through the Worker", "request");
shape("whole streaming Responses request through the Worker", "responses");
shape("the same, OpenAI content without logprobs/finish_reason", "responsesOpenai");
shape("the same, OpenAI reasoning_content (reasoning item)", "responsesThought");
shape("the same, OpenAI argument fragments (function_call)", "responsesCall");
const native = us["native text"];
ratio("worker / JavaScript one-stage", native / us.jsOne, 1);
ratio("worker / JavaScript three-stage", native / us.jsThree, 1);
ratio("worker / bare pass-through", native / us.bare, 6);
console.log(`Non-streaming: ${REQUESTS} requests × ${ROUNDS} interleaved rounds, µs per request`);
row("Worker that only calls env.AI.run", directUs);
row("POST /v1/chat/completions", chatUs);
ratio("overhead, ms", (chatUs - directUs) / 1000, 1);
process.exit(0);
