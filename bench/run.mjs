// `make bench`, part 1: the Worker's CPU cost on workerd, against JavaScript references, in ONE
// workerd process serving every variant on its own port. Every variant gets the same `env.AI`:
// a JS wrapped binding answering from memory (bench/workers/fake-ai.mjs: 1,000 one-event SSE
// chunks per stream), so no network and no emulator are involved.
//
// CPU is the workerd process's (utime + stime from /proc/<pid>/stat, all threads) over a batch
// of requests, minus the idle rate measured before; the client runs in this Node process and is
// not counted. Variants run interleaved in a new seeded order each round, so machine noise hits
// them alike; figures are medians over rounds, ratios are taken within a round.
//   streaming   µs of CPU per upstream event: bare JS pass-through, a JS one-stage
//               TransformStream doing the Worker's SSE rewrite, a Python Worker passing the
//               stream through, and this Worker's streamed chat (sse_splice.mjs + sse.py);
//   per request µs of CPU for a non-streaming chat vs a Python Worker that only calls
//               env.AI.run;
//   first byte  ms from sending a streamed request to its first body chunk.
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SEED = Number(process.env.BENCH_SEED ?? 12345);
const TICK_S = 0.01; // /proc clock ticks (USER_HZ = 100 on Linux)
const BASELINE = path.join(BENCH, "baseline.json");

// name: [port service, path, requests per sample, streamed?, extra chat fields]; each sample is
// ~1-3 s of CPU, so the 10 ms clock tick is well under 1 % of it.
const STREAMING = {
  bare: ["bare", "/", 60, true],
  jsTransform: ["js", "/", 30, true],
  pythonPassThrough: ["direct", "/?stream=1", 60, true],
  worker: ["worker", "/v1/chat/completions", 40, true],
  // A stop sequence whose first letter is in every event (" wordN"): this went through Python per
  // event until the splice learnt to pass on text that holds no stop (docs/performance.md).
  workerPython: ["worker", "/v1/chat/completions", 10, true, { stop: ["wordless"] }],
  workerResponses: ["worker", "/v1/responses", 40, true],
};
const PER_REQUEST = {
  direct: ["direct", "/", 200, false],
  chat: ["worker", "/v1/chat/completions", 200, false],
};

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

async function workerdConfig(ports) {
  const config = await readWranglerConfig(path.join(ROOT, "wrangler.toml"));
  const date = config.raw.compatibility_date;
  const pythonFlags = localCompatFlags(config.raw.compatibility_flags ?? []).flags;
  const ai = '(name = "AI", wrapped = (moduleName = "bench:fake-ai"))';
  const module = ({ name, type, path: file }) => {
    const field = { python: "pythonModule", esm: "esModule", buffer: "data", text: "text" }[type];
    return `(name = ${q(name)}, ${field} = ${embed(file)})`;
  };
  const worker = (modules, flags, bindings) =>
    `(modules = [${modules.join(", ")}], compatibilityDate = ${q(date)}, ` +
    `compatibilityFlags = [${flags.map(q).join(", ")}], bindings = [${bindings.join(", ")}])`;
  const services = {
    bare: worker([module({ name: "bare.mjs", type: "esm", path: path.join(BENCH, "workers", "bare.mjs") })], [], [ai]),
    js: worker([module({ name: "js.mjs", type: "esm", path: path.join(BENCH, "workers", "js-transform.mjs") })], [], [ai]),
    direct: worker(
      workerModules(config)
        .filter((m) => m.name.startsWith("python_modules/"))
        .map(module)
        .toSpliced(0, 0, module({ name: "direct.py", type: "python", path: path.join(BENCH, "workers", "direct.py") })),
      pythonFlags,
      [ai],
    ),
    worker: worker(workerModules(config).map(module), pythonFlags, [ai, '(name = "API_KEYS", text = "sk-bench")']),
  };
  return [
    'using Workerd = import "/workerd/workerd.capnp";',
    "const config :Workerd.Config = (",
    `  services = [${Object.entries(services).map(([n, w]) => `(name = ${q(n)}, worker = ${w})`).join(",\n    ")}],`,
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

async function request(port, [, urlPath, , streamed, extra], firstByte) {
  const chat = urlPath.startsWith("/v1/");
  const t0 = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: chat ? "POST" : "GET",
    headers: chat ? { authorization: "Bearer sk-bench", "content-type": "application/json" } : {},
    body: chat
      ? JSON.stringify({
          model: "gpt-4o-mini",
          ...(urlPath === "/v1/responses" ? { input: "Hi" } : { messages: [{ role: "user", content: "Hi" }] }),
          stream: streamed,
          ...extra,
        })
      : undefined,
  });
  if (response.status !== 200) throw new Error(`${urlPath}: ${response.status} ${await response.text()}`);
  const reader = response.body.getReader();
  let first = true;
  for (;;) {
    const { done } = await reader.read();
    if (first) {
      firstByte?.push(performance.now() - t0);
      first = false;
    }
    if (done) return;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const names = ["bare", "js", "direct", "worker"];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()])));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-workerd-"));
  configDir = dir;
  const configPath = path.join(dir, "config.capnp");
  fs.writeFileSync(configPath, await workerdConfig(ports));
  const t0 = performance.now();
  const workerd = spawn(
    require("workerd").default,
    ["serve", "--experimental", `--pyodide-bundle-disk-cache-dir=${path.join(ROOT, ".cache", "pyodide-bundle")}`, configPath],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const stop = () => workerd.exitCode === null && workerd.kill("SIGTERM");
  process.on("exit", stop);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

  // Python Workers import their modules on the first request; warm every variant up.
  for (;;) {
    try {
      await request(ports.worker, PER_REQUEST.chat);
      break;
    } catch {
      if (workerd.exitCode !== null) throw new Error("workerd exited");
      await sleep(200);
    }
  }
  const startS = (performance.now() - t0) / 1000;
  const variants = { ...STREAMING, ...PER_REQUEST };
  for (const spec of Object.values(variants)) for (let i = 0; i < 5; i++) await request(ports[spec[0]], spec);

  await sleep(500);
  const idle0 = cpuTicks(workerd.pid);
  const idleT0 = performance.now();
  await sleep(3000);
  const idlePerS = (cpuTicks(workerd.pid) - idle0) / ((performance.now() - idleT0) / 1000);

  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const firstByte = Object.fromEntries(Object.keys(STREAMING).map((k) => [k, []]));
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
      const [service, , count, streamed] = spec;
      const c0 = cpuTicks(workerd.pid);
      const w0 = performance.now();
      for (let i = 0; i < count; i++) await request(ports[service], spec, streamed ? firstByte[name] : null);
      const wallS = (performance.now() - w0) / 1000;
      const cpuS = Math.max(0, (cpuTicks(workerd.pid) - c0 - idlePerS * wallS) * TICK_S);
      round[name] = (cpuS * 1e6) / (count * (streamed ? EVENTS : 1)); // µs per event / request
      samples[name].push(round[name]);
    }
    rounds.push(round);
  }
  stop();

  const result = {
    workerd: require("workerd/package.json").version,
    pyodide: require("pyodide/package.json").version,
    cpus: os.cpus().length,
    rounds: ROUNDS,
    startupS: Number(startS.toFixed(2)),
    idleTicksPerS: Number(idlePerS.toFixed(3)),
    usPerEvent: Object.fromEntries(Object.keys(STREAMING).map((k) => [k, Number(median(samples[k]).toFixed(3))])),
    usPerRequest: Object.fromEntries(Object.keys(PER_REQUEST).map((k) => [k, Number(median(samples[k]).toFixed(1))])),
    ratios: {
      workerOverJsTransform: Number(median(rounds.map((r) => r.worker / r.jsTransform)).toFixed(2)),
      workerOverBare: Number(median(rounds.map((r) => r.worker / r.bare)).toFixed(2)),
      workerOverPythonPassThrough: Number(median(rounds.map((r) => r.worker / r.pythonPassThrough)).toFixed(2)),
      pythonPathOverWorker: Number(median(rounds.map((r) => r.workerPython / r.worker)).toFixed(2)),
      responsesOverJsTransform: Number(median(rounds.map((r) => r.workerResponses / r.jsTransform)).toFixed(2)),
      chatOverDirect: Number(median(rounds.map((r) => r.chat / r.direct)).toFixed(2)),
    },
    firstByteMs: Object.fromEntries(Object.keys(STREAMING).map((k) => [k, Number(median(firstByte[k]).toFixed(2))])),
  };
  report(result);
  if (process.argv.includes("--save")) {
    fs.writeFileSync(BASELINE, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`saved ${path.relative(process.cwd(), BASELINE)}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

// Issue 17's targets, by figure: the largest value that meets each (docs/performance.md).
const TARGETS = {
  ratios: { workerOverJsTransform: 1.0, responsesOverJsTransform: 1.0, workerOverBare: 1.5 },
  usPerRequest: { chat: 1500 },
  firstByteMs: { worker: 2.0 },
};

function report(result) {
  const baseline = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, "utf8")) : null;
  const row = (label, value, old, target) => {
    const delta = old ? `  (baseline ${old}, ${value >= old ? "+" : ""}${(((value - old) / old) * 100).toFixed(0)}%)` : "";
    const goal = target === undefined ? "" : `  target <= ${target}: ${value <= target ? "met" : "missed"}`;
    console.log(`  ${label.padEnd(52)}${String(value).padStart(9)}${delta}${goal}`);
  };
  const labels = {
    bare: "bare JS pass-through",
    jsTransform: "JS one-stage TransformStream (same SSE rewrite)",
    pythonPassThrough: "Python Worker passing the stream through",
    worker: "this Worker, streamed chat",
    workerPython: "this Worker, a stop starting in every event",
    workerResponses: "this Worker, streamed /v1/responses",
    direct: "Python Worker that only calls env.AI.run",
    chat: "this Worker, POST /v1/chat/completions",
    workerOverJsTransform: "this Worker / JS TransformStream",
    workerOverBare: "this Worker / bare pass-through",
    workerOverPythonPassThrough: "this Worker / Python pass-through",
    pythonPathOverWorker: "with a stop / without (this Worker)",
    responsesOverJsTransform: "streamed /v1/responses / JS TransformStream",
    chatOverDirect: "chat / env.AI.run-only Python Worker",
  };
  console.log(
    `workerd ${result.workerd}, Pyodide ${result.pyodide}, ${result.cpus} CPUs, ${result.rounds} rounds; ` +
      `all four Workers served in ${result.startupS} s; idle ${result.idleTicksPerS} ticks/s subtracted`,
  );
  for (const [title, key] of [
    [`Streaming: workerd CPU µs per upstream event (${EVENTS}-event streams), medians`, "usPerEvent"],
    ["Non-streaming: workerd CPU µs per request, medians", "usPerRequest"],
    ["Within-round ratios, medians", "ratios"],
    ["Time to first byte, ms, medians", "firstByteMs"],
  ]) {
    console.log(title);
    for (const [k, v] of Object.entries(result[key])) {
      row(labels[k] ?? k, v, baseline?.[key]?.[k], TARGETS[key]?.[k]);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
