// `make bench`, part 1: the Worker's CPU cost on workerd, against JavaScript references, in ONE
// workerd process serving every variant on its own port. Every variant gets the same `env.AI`:
// a JS wrapped binding answering from memory (bench/workers/fake-ai.mjs: streams of 1,000
// one-event chunks in one of several upstream shapes), so no network and no emulator are involved.
//
// CPU is the workerd process's (utime + stime from /proc/<pid>/stat, all threads) over a batch
// of requests, minus the idle rate measured before; the client runs in this Node process and is
// not counted. Variants run interleaved in a new seeded order each round, so machine noise hits
// them alike; figures are medians over rounds, ratios are taken within a round.
//   streaming   µs of CPU per upstream event, for each upstream shape: bare JS pass-through, a JS
//               one-stage TransformStream doing the Worker's SSE rewrite, and this Worker's
//               streamed chat or Responses (CASES); also a Python Worker passing the stream
//               through; and how many times per stream the splice called into Python (a copy
//               of the Worker with tests/http/splice_counter.mjs, not timed);
//   per request µs of CPU for a non-streaming chat vs a Python Worker that only calls
//               env.AI.run;
//   in request  µs of CPU per step repeated inside one request (bench/workers/in_request.py):
//               an event-loop turn, a JS await, a deadline, env.AI.run, app.handle with the
//               tests' fakes, the whole pipeline;
//   first byte  ms from sending a streamed request to its first body chunk;
//   start-up    s from spawning workerd to the first answer, this Worker vs one importing only
//               the SDK, importing at start and restoring a dedicated memory snapshot
//               (`--no-startup` skips it).
// The run is compared with bench/baseline.json; `--save` rewrites that file.

import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { readWranglerConfig } from "../runtime/config.mjs";
import { workerModules } from "../runtime/modules.mjs";
import { localCompatFlags } from "../runtime/settings.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = path.join(ROOT, "bench");
const require = createRequire(import.meta.url);
const EVENTS = 1000; // per stream, fixed in fake-ai.mjs
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SEED = Number(process.env.BENCH_SEED ?? 12345);
const TICK_S = 0.01; // /proc clock ticks (USER_HZ = 100 on Linux)
const BASELINE = path.join(BENCH, "baseline.json");

const CHAT = "/v1/chat/completions";
const RESPONSES = "/v1/responses";
const QWEN3 = "@cf/qwen/qwen3-30b-a3b-fp8"; // OpenAI-shaped events, tools, reasoning
const CHAT_TOOLS = [{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }];
const RESPONSES_TOOLS = [{ type: "function", name: "f", parameters: { type: "object", properties: {} } }];

// What the Worker is measured on: [label, upstream shape (bench/workers/fake-ai.mjs), route,
// request fields]. Each is compared, within the round, with the bare pass-through and the
// JavaScript one-stage transform streaming the same upstream shape.
const CASES = {
  native: ["native text", "native", CHAT, {}],
  thought: ["native thought (inside <think>, qwq-32b)", "native", CHAT, { model: "@cf/qwen/qwq-32b" }],
  openai: ["OpenAI content, logprobs/finish_reason null", "openai", CHAT, { model: QWEN3 }],
  compact: ["OpenAI content, compact (no logprobs/finish_reason)", "compact", CHAT, { model: QWEN3 }],
  logprobs: ["OpenAI content, logprobs given", "logprobs", CHAT, { model: QWEN3 }],
  reordered: ["OpenAI content, other field order", "reordered", CHAT, { model: QWEN3 }],
  reasoning: ["OpenAI reasoning_content, compact", "reasoning", CHAT, { model: QWEN3 }],
  nativeFragments: ["tool-call argument fragments, native", "nativeFragments", CHAT, { tools: CHAT_TOOLS }],
  fragments: ["tool-call argument fragments, OpenAI-shaped", "fragments", CHAT, { model: QWEN3, tools: CHAT_TOOLS }],
  stopNever: ["native text, a stop that never starts", "native", CHAT, { stop: ["@@never@@"] }],
  stopLetter: ["native text holding a stop's first letter", "native", CHAT, { stop: ["wordless"] }],
  stopHeld: ["native text ending with a stop's start (held)", "held", CHAT, { stop: ["<|end|>"] }],
  escapes: ["native text with escapes, a stop", "escapes", CHAT, { stop: ["@@never@@"] }],
  crlf: ["native text, CRLF-framed", "crlf", CHAT, {}],
  pretty: ["native text, pretty-printed (data: per field)", "pretty", CHAT, {}],
  responsesNative: ["Responses: native text", "native", RESPONSES, {}],
  responsesCompact: ["Responses: OpenAI content, compact", "compact", RESPONSES, { model: QWEN3 }],
  responsesReasoning: ["Responses: OpenAI reasoning, compact", "reasoning", RESPONSES, { model: QWEN3 }],
  responsesFragments: [
    "Responses: OpenAI argument fragments",
    "fragments",
    RESPONSES,
    { model: QWEN3, tools: RESPONSES_TOOLS },
  ],
};
const SHAPES = [...new Set(Object.values(CASES).map(([, shape]) => shape))];

// A request spec: [service, path, streamed, body fields].
const STREAMING = {
  ...Object.fromEntries(SHAPES.map((s) => [`bare:${s}`, ["bare", `/?shape=${s}`, true]])),
  ...Object.fromEntries(SHAPES.map((s) => [`js:${s}`, ["js", `/?shape=${s}`, true]])),
  pythonPassThrough: ["direct", "/?stream=1", true],
  "hop:its": ["bare", "/its?shape=native", true],
  "hop:pull": ["bare", "/pull?shape=native", true],
  ...Object.fromEntries(
    Object.entries(CASES).map(([name, [, shape, route, fields]]) => [`worker:${name}`, ["worker", route, true, { shape, ...fields }]]),
  ),
};
// Non-streamed, from the cheapest answer up: where a Python Worker's per-request CPU goes.
const PER_REQUEST = {
  jsHello: ["bare", "/hello", false],
  jsDirect: ["bare", "/json", false],
  onFetchHello: ["onFetch", "/hello", false],
  onFetchCross: ["onFetch", "/cross", false],
  onFetchSdk: ["onFetch", "/json", false],
  onFetchRaw: ["onFetch", "/raw", false],
  pythonHello: ["direct", "/hello", false],
  direct: ["direct", "/", false],
  health: ["worker", "/health", false],
  models: ["worker", "/v1/models", false],
  chat: ["worker", CHAT, false, {}],
  // A streamed chat of ten events (fake-ai's `short`), read to its end: a stream's set-up and end.
  chatStream: ["worker", CHAT, false, { shape: "short", stream: true }],
  pythonPassThroughShort: ["direct", "/?stream=1&shape=short", false],
};
// Steps repeated inside ONE request of bench/workers/in_request.py, with their repeat counts:
// the request's CPU less that of one running none, per repeat.
const STEPS = { turn: 200, js_await: 200, deadline: 200, ai: 50, health_fakes: 50, chat_fakes: 50, serve_chat: 20 };
const IN_REQUEST = Object.fromEntries(
  Object.entries({ none: 0, ...STEPS }).map(([step, n]) => [`step:${step}`, ["inRequest", `/?step=${step}&n=${n}`, false]]),
);
// Each sample is sized to about this much wall time (from the warm-up), so the 10 ms CPU tick
// stays about 1 % of it.
const SAMPLE_S = Number(process.env.BENCH_SAMPLE_S ?? 0.6);

const SPLICE = "bridge/sse_splice.mjs";
const q = JSON.stringify; // a capnp text string literal is a JSON string literal
let configDir; // `embed` paths are relative to the config file (absolute ones to import paths)
const embed = (file) => `embed ${q(path.relative(configDir, file))}`;

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** workerd's config (capnp text) serving the Workers named in `ports`, each on its port. */
async function workerdConfig(ports) {
  const config = await readWranglerConfig(path.join(ROOT, "wrangler.toml"));
  const date = config.raw.compatibility_date;
  const pythonFlags = localCompatFlags(config.raw.compatibility_flags ?? []).flags;
  // The bench's own Python Workers: the SDK's defaults, whatever the Worker's config adds.
  const sdkFlags = localCompatFlags(["python_workers"]).flags;
  const ai = '(name = "AI", wrapped = (moduleName = "bench:fake-ai"))';
  const keys = '(name = "API_KEYS", text = "sk-bench")';
  const module = ({ name, type, path: file }) => {
    const field = { python: "pythonModule", esm: "esModule", buffer: "data", text: "text" }[type];
    return `(name = ${q(name)}, ${field} = ${embed(file)})`;
  };
  const worker = (modules, flags, bindings) =>
    `(modules = [${modules.join(", ")}], compatibilityDate = ${q(date)}, ` +
    `compatibilityFlags = [${flags.map(q).join(", ")}], bindings = [${bindings.join(", ")}])`;
  /** A Python Worker of one bench module, with the SDK. */
  const python = (main, flags = []) =>
    worker(
      [
        module({ name: main, type: "python", path: path.join(BENCH, "workers", main) }),
        ...workerModules(config)
          .filter((m) => m.name.startsWith("python_modules/"))
          .map(module),
      ],
      [...sdkFlags, ...flags],
      [ai],
    );
  const services = {
    bare: worker([module({ name: "bare.mjs", type: "esm", path: path.join(BENCH, "workers", "bare.mjs") })], [], [ai]),
    js: worker([module({ name: "js.mjs", type: "esm", path: path.join(BENCH, "workers", "js-transform.mjs") })], [], [ai]),
    direct: python("direct.py"),
    // Module-level handlers need this flag since 2025-08 (Cloudflare changelog 2025-08-14).
    onFetch: python("on_fetch.py", ["disable_python_no_global_handlers"]),
    worker: worker(workerModules(config).map(module), pythonFlags, [ai, keys]),
    // Steps of a request, repeated inside one: the Worker's modules and the unit tests' fakes.
    inRequest: worker(
      [
        module({ name: "in_request.py", type: "python", path: path.join(BENCH, "workers", "in_request.py") }),
        module({ name: "fakes.py", type: "python", path: path.join(ROOT, "tests", "unit", "fakes.py") }),
        ...workerModules(config).map(module),
      ],
      pythonFlags,
      [ai, keys],
    ),
    // The same Worker with bridge/sse_splice.mjs wrapped to count calls into Python, as the
    // HTTP tests do.
    counted: worker(
      workerModules(config).flatMap((m) =>
        m.name === SPLICE
          ? [
              module({ ...m, path: path.join(ROOT, "tests", "http", "splice_counter.mjs") }),
              module({ ...m, name: SPLICE.replace(".mjs", "_real.mjs") }),
            ]
          : [module(m)],
      ),
      pythonFlags,
      [ai, keys],
    ),
  };
  return [
    'using Workerd = import "/workerd/workerd.capnp";',
    "const config :Workerd.Config = (",
    `  services = [${Object.keys(ports).map((n) => `(name = ${q(n)}, worker = ${services[n]})`).join(",\n    ")}],`,
    `  sockets = [${Object.entries(ports).map(([n, p]) => `(name = ${q(n)}, address = "127.0.0.1:${p}", http = (), service = ${q(n)})`).join(",\n    ")}],`,
    `  extensions = [(modules = [(name = "bench:fake-ai", esModule = ${embed(path.join(BENCH, "workers", "fake-ai.mjs"))}, internal = true)])],`,
    ");",
    "",
  ].join("\n");
}

function cpuTicks(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The request `spec` (see `streamingVariants`) to `port`; resolves with the body's text if
 * `keep`. Pushes the time to the first body chunk onto `firstByte`. */
async function request(port, [, urlPath, streamed, fields], firstByte = null, keep = false) {
  // With body fields: a POST of an API request; without: a GET.
  let body;
  if (fields) {
    const { shape = "native", ...rest } = fields;
    const said = `bench:${shape}`;
    body = JSON.stringify({
      model: "gpt-4o-mini",
      ...(urlPath === RESPONSES ? { input: said, store: false } : { messages: [{ role: "user", content: said }] }),
      stream: streamed,
      ...rest,
    });
  }
  const t0 = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: body ? "POST" : "GET",
    headers: { authorization: "Bearer sk-bench", ...(body ? { "content-type": "application/json" } : {}) },
    body,
  });
  if (response.status !== 200) throw new Error(`${urlPath}: ${response.status} ${await response.text()}`);
  if (keep) return response.text();
  const reader = response.body.getReader();
  let first = true;
  for (;;) {
    const { done } = await reader.read();
    if (first) {
      firstByte?.push(performance.now() - t0);
      first = false;
    }
    if (done) return null;
  }
}

/** The median, or null for no samples (a variant BENCH_ONLY left out). */
const median = (xs = []) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : null);
const round2 = (x, digits) => (x === null || Number.isNaN(x) ? null : Number(x.toFixed(digits)));

/** workerd serving the Workers named in `ports`, and a way to stop it. */
async function serve(ports, extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-workerd-"));
  configDir = dir;
  const configPath = path.join(dir, "config.capnp");
  fs.writeFileSync(configPath, await workerdConfig(ports));
  const workerd = spawn(
    require("workerd").default,
    [
      "serve",
      "--experimental",
      `--pyodide-bundle-disk-cache-dir=${path.join(ROOT, ".cache", "pyodide-bundle")}`,
      ...extraArgs,
      configPath,
    ],
    { stdio: ["ignore", "ignore", "inherit"] }, // stdout: the Worker's request log lines
  );
  const stop = () => {
    process.off("exit", stop);
    if (workerd.exitCode === null) workerd.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  return { workerd, stop, exited: new Promise((resolve) => workerd.on("exit", resolve)) };
}

/** Waits until `spec` on `port` answers 200; the seconds since `t0`. */
async function firstResponse(port, spec, workerd, t0) {
  for (;;) {
    try {
      await request(port, spec);
      return (performance.now() - t0) / 1000;
    } catch (e) {
      if (workerd.exitCode !== null) throw new Error(`workerd exited (${e.message})`);
      await sleep(50);
    }
  }
}

// The Worker's streamed requests, counting calls into Python (tests/http/splice_counter.mjs).
async function pythonCalls(port) {
  const calls = {};
  for (const [name, [, shape, route, fields]] of Object.entries(CASES)) {
    const text = await request(port, ["counted", route, true, { shape, ...fields }], null, true);
    const match = /^: python (\d+)$/m.exec(text);
    if (!match) throw new Error(`${name}: no call count in the stream`);
    calls[name] = Number(match[1]);
  }
  return calls;
}

/** Start-up, each in a fresh workerd serving one Python Worker: seconds from spawning workerd to
 * the first 200, for a Worker importing only the SDK and for this Worker, importing at start and
 * restoring a dedicated memory snapshot (what production does on a cold start). */
async function startup(repeat) {
  const runs = { sdkImport: [], workerImport: [], sdkSnapshot: [], workerSnapshot: [] };
  const snapshots = fs.mkdtempSync(path.join(os.tmpdir(), "bench-snapshots-"));
  const once = async (service, spec, snapshotArgs) => {
    const port = await freePort();
    const t0 = performance.now();
    const { workerd, stop, exited } = await serve({ [service]: port }, snapshotArgs);
    try {
      return await firstResponse(port, spec, workerd, t0);
    } finally {
      stop();
      await exited;
    }
  };
  try {
    for (const [sdk, service, spec] of [
      [true, "direct", PER_REQUEST.direct],
      [false, "worker", PER_REQUEST.chat],
    ]) {
      const dir = path.join(snapshots, service);
      fs.mkdirSync(dir);
      await once(service, spec, [`--python-snapshot-dir=${dir}`, "--python-save-snapshot"]);
      if (!fs.existsSync(path.join(dir, "snapshot.bin"))) throw new Error(`${service}: no snapshot saved`);
      for (let i = 0; i < repeat; i++) {
        runs[sdk ? "sdkImport" : "workerImport"].push(await once(service, spec, []));
        runs[sdk ? "sdkSnapshot" : "workerSnapshot"].push(
          await once(service, spec, [`--python-snapshot-dir=${dir}`, "--python-load-snapshot=snapshot.bin"]),
        );
      }
    }
  } finally {
    fs.rmSync(snapshots, { recursive: true, force: true });
  }
  const figures = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Number(median(v).toFixed(2))]));
  figures.importOverSdk = Number((figures.workerImport / figures.sdkImport).toFixed(2));
  figures.snapshotOverSdk = Number((figures.workerSnapshot / figures.sdkSnapshot).toFixed(2));
  return figures;
}

async function main() {
  const names = ["bare", "js", "direct", "onFetch", "worker", "counted", "inRequest"];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()])));
  const t0 = performance.now();
  const { workerd, stop } = await serve(ports);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

  // Python Workers import their modules on the first request.
  await firstResponse(ports.worker, PER_REQUEST.chat, workerd, t0);
  await firstResponse(ports.counted, PER_REQUEST.chat, workerd, t0);
  const startS = (performance.now() - t0) / 1000;
  const only = new RegExp(process.env.BENCH_ONLY ?? "");
  const variants = Object.fromEntries(Object.entries({ ...STREAMING, ...PER_REQUEST, ...IN_REQUEST }).filter(([k]) => only.test(k)));
  const counts = {};
  for (const [name, spec] of Object.entries(variants)) {
    await request(ports[spec[0]], spec);
    const w0 = performance.now();
    for (let i = 0; i < 3; i++) await request(ports[spec[0]], spec);
    counts[name] = Math.max(3, Math.round(SAMPLE_S / ((performance.now() - w0) / 3000)));
  }
  const calls = await pythonCalls(ports.counted);

  await sleep(500);
  const idle0 = cpuTicks(workerd.pid);
  const idleT0 = performance.now();
  await sleep(3000);
  const idlePerS = (cpuTicks(workerd.pid) - idle0) / ((performance.now() - idleT0) / 1000);

  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const firstByte = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const rounds = [];
  const order = Object.keys(variants);
  let seed = SEED;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const round = {};
    for (const name of order) {
      const spec = variants[name];
      const streamed = spec[2];
      const c0 = cpuTicks(workerd.pid);
      const w0 = performance.now();
      for (let i = 0; i < counts[name]; i++) await request(ports[spec[0]], spec, streamed ? firstByte[name] : null);
      const wallS = (performance.now() - w0) / 1000;
      const cpuS = Math.max(0, (cpuTicks(workerd.pid) - c0 - idlePerS * wallS) * TICK_S);
      round[name] = (cpuS * 1e6) / (counts[name] * (streamed ? EVENTS : 1)); // µs per event / request
      samples[name].push(round[name]);
    }
    rounds.push(round);
    process.stderr.write(`round ${r + 1}/${ROUNDS}\n`);
  }
  stop();

  const ratio = (of, to) => round2(median(rounds.filter((r) => of in r && to in r).map((r) => r[of] / r[to])), 2);
  const perCase = (name, [, shape]) => ({
    us: round2(median(samples[`worker:${name}`]), 1),
    overJs: ratio(`worker:${name}`, `js:${shape}`),
    overBare: ratio(`worker:${name}`, `bare:${shape}`),
    pythonCalls: calls[name],
  });
  const result = {
    workerd: require("workerd/package.json").version,
    pyodide: require("pyodide/package.json").version,
    cpus: os.cpus().length,
    rounds: ROUNDS,
    startupS: Number(startS.toFixed(2)),
    idleTicksPerS: Number(idlePerS.toFixed(3)),
    shapes: Object.fromEntries(Object.entries(CASES).map(([name, c]) => [name, perCase(name, c)])),
    usPerEvent: Object.fromEntries(
      ["bare:native", "js:native", "hop:its", "hop:pull", "pythonPassThrough"].map((k) => [k, round2(median(samples[k]), 1)]),
    ),
    usPerRequest: Object.fromEntries(Object.keys(PER_REQUEST).map((k) => [k, round2(median(samples[k]), 1)])),
    usPerStep: Object.fromEntries(
      Object.entries(STEPS).map(([step, n]) => [
        step,
        round2(median(rounds.filter((r) => `step:${step}` in r).map((r) => (r[`step:${step}`] - r["step:none"]) / n)), 1),
      ]),
    ),
    ratios: {
      workerOverPythonPassThrough: ratio("worker:native", "pythonPassThrough"),
      chatOverDirect: ratio("chat", "direct"),
    },
    firstByteMs: Object.fromEntries(
      ["bare:native", "js:native", "pythonPassThrough", "worker:native", "worker:responsesNative"].map((k) => [
        k,
        round2(median(firstByte[k]), 2),
      ]),
    ),
  };
  if (!process.argv.includes("--no-startup")) result.startup = await startup(Number(process.env.BENCH_STARTUPS ?? 2));
  report(result);
  if (process.argv.includes("--save")) {
    fs.writeFileSync(BASELINE, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`saved ${path.relative(process.cwd(), BASELINE)}`);
  }
}

// Issue 17's targets, by figure: the largest value that meets each (docs/performance.md).
const TARGETS = {
  shapes: { overJs: 1.0, overBare: 1.5 },
  usPerRequest: { chat: 1500 },
  firstByteMs: { "worker:native": 2.0 },
  startup: { importOverSdk: 1.3 },
};

/** ` (baseline x, +d%)` against the saved figure, if there is one. */
function delta(value, old) {
  if (old === undefined || old === null) return "";
  const change = old && value !== null ? ` ${value >= old ? "+" : ""}${(((value - old) / old) * 100).toFixed(0)}%` : "";
  return `  (baseline ${old}${change})`;
}

/** ` <= target: met` or MISSED; a variant BENCH_ONLY left out is not measured, not met. */
function goal(value, target) {
  if (target === undefined) return "";
  return `  <= ${target}: ${value === null ? "not measured" : value <= target ? "met" : "MISSED"}`;
}

function report(result) {
  const baseline = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, "utf8")) : null;
  const row = (label, value, old, target) =>
    console.log(`  ${label.padEnd(56)}${String(value).padStart(9)}${delta(value, old)}${goal(value, target)}`);
  const labels = {
    "bare:native": "bare JS pass-through, native text",
    "hop:its": "JS identity hop: IdentityTransformStream (the splice's)",
    "hop:pull": "JS identity hop: pull ReadableStream",
    "js:native": "JS one-stage TransformStream, native text",
    pythonPassThrough: "Python Worker passing the stream through",
    jsHello: "JS Worker answering a constant",
    jsDirect: "JS Worker answering env.AI.run's JSON",
    onFetchHello: "Python on_fetch function answering a constant",
    onFetchCross: "Python on_fetch, a constant after 100 JS property reads",
    onFetchSdk: "Python on_fetch, env.AI.run's JSON, SDK wrappers",
    onFetchRaw: "Python on_fetch, env.AI.run's JSON, JS binding",
    pythonHello: "Python WorkerEntrypoint answering a constant",
    direct: "Python WorkerEntrypoint answering env.AI.run's JSON",
    health: "this Worker, GET /health (no auth, no binding)",
    models: "this Worker, GET /v1/models (auth, the catalog)",
    chat: "this Worker, POST /v1/chat/completions",
    chatStream: "this Worker, the same streamed, 10 events",
    pythonPassThroughShort: "Python Worker passing a 10-event stream through",
    turn: "one turn of Pyodide's event loop (asyncio.sleep(0))",
    js_await: "awaiting a settled JS promise",
    deadline: "entering and leaving asyncio.timeout",
    ai: "env.AI.run through bridge.adapter",
    health_fakes: "app.handle, GET /health, the tests' fakes (no JS)",
    chat_fakes: "app.handle, chat, the tests' fakes (no JS)",
    serve_chat: "adapter.serve, chat, on a JS Request (the whole pipeline)",
    workerOverPythonPassThrough: "this Worker / Python pass-through, native text",
    chatOverDirect: "chat / env.AI.run-only Python Worker",
    "worker:native": "this Worker, streamed chat",
    "worker:responsesNative": "this Worker, streamed /v1/responses",
    sdkImport: "SDK-only Python Worker, importing at start",
    workerImport: "this Worker, importing at start",
    sdkSnapshot: "SDK-only Python Worker, restoring its snapshot",
    workerSnapshot: "this Worker, restoring its snapshot (as production)",
    importOverSdk: "this Worker / SDK-only, importing",
    snapshotOverSdk: "this Worker / SDK-only, restoring",
  };
  console.log(
    `workerd ${result.workerd}, Pyodide ${result.pyodide}, ${result.cpus} CPUs, ${result.rounds} rounds; ` +
      `all Workers served in ${result.startupS} s; idle ${result.idleTicksPerS} ticks/s subtracted`,
  );
  console.log(
    `Streaming, per upstream shape (${EVENTS}-event streams): workerd CPU µs per event; within-round ratios to ` +
      "the JS one-stage transform and to the bare pass-through of the same upstream; calls into Python per stream",
  );
  console.log(`  ${"".padEnd(56)}${"µs".padStart(7)}${"× JS".padStart(7)}${"× bare".padStart(8)}${"calls".padStart(7)}`);
  for (const [name, [label]] of Object.entries(CASES)) {
    const { us, overJs, overBare, pythonCalls } = result.shapes[name];
    const old = baseline?.shapes?.[name];
    const met = (value, target) => (value === null || value <= target ? " " : "!");
    console.log(
      `  ${label.padEnd(56)}${String(us).padStart(7)}${String(overJs).padStart(6)}${met(overJs, TARGETS.shapes.overJs)}` +
        `${String(overBare).padStart(7)}${met(overBare, TARGETS.shapes.overBare)}${String(pythonCalls).padStart(7)}` +
        (old ? `  (baseline ${old.us} µs, ×JS ${old.overJs}, ×bare ${old.overBare}, ${old.pythonCalls} calls)` : ""),
    );
  }
  for (const key of ["overJs", "overBare"]) {
    const measured = Object.values(result.shapes).map((s) => s[key]).filter((v) => v !== null);
    const worst = measured.length ? Math.max(...measured) : null;
    row(`worst shape, ${key === "overJs" ? "× JS one-stage transform" : "whole request × bare pass-through"}`, worst, undefined, TARGETS.shapes[key]);
  }
  for (const [title, key] of [
    ["References: workerd CPU µs per upstream event, medians", "usPerEvent"],
    ["Non-streaming: workerd CPU µs per request, medians", "usPerRequest"],
    ["Inside one request (bench/workers/in_request.py): workerd CPU µs per step, medians", "usPerStep"],
    ["Within-round ratios, medians", "ratios"],
    ["Time to first byte, ms, medians", "firstByteMs"],
    ["Start-up: s from spawning workerd to the first 200 (one Python Worker per process), medians", "startup"],
  ]) {
    if (!result[key]) continue;
    console.log(title);
    for (const [k, v] of Object.entries(result[key])) {
      row(labels[k] ?? k, v, baseline?.[key]?.[k], TARGETS[key]?.[k]);
    }
  }
}

// bench/profile.mjs reuses the variants and the workerd set-up.
export { freePort, serve, firstResponse, request, STREAMING, PER_REQUEST, IN_REQUEST };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
