// `make profile VARIANT=<name>`: where workerd's CPU goes for one bench variant (a key of
// STREAMING, PER_REQUEST or IN_REQUEST in bench/run.mjs, e.g. `chat`, `health`, `step:none`,
// `worker:native`). Serves the bench's Workers in one workerd with its inspector open, attaches
// V8's sampling profiler (the DevTools protocol's Profiler domain) to the variant's Worker,
// sends the variant's request `PROFILE_REQUESTS` times (after a warm-up), and prints the CPU
// by kind: Python (Pyodide's WebAssembly: the interpreter and the C runtime), Pyodide's
// JavaScript, the Worker's JavaScript, workerd's built-ins (by name), V8's GC, and native work
// outside JavaScript ("(program)"); then the busiest functions. `PROFILE_OUT=<file>` keeps the
// profile (.cpuprofile: Chrome DevTools opens it). WebAssembly functions are named from the
// exports of Pyodide's `pyodide.asm.wasm` where they have one (it has no name section).
import fs from "node:fs";
import { createRequire } from "node:module";

import { IN_REQUEST, PER_REQUEST, STREAMING, firstResponse, freePort, request, serve } from "./run.mjs";

const require = createRequire(import.meta.url);
const VARIANTS = { ...STREAMING, ...PER_REQUEST, ...IN_REQUEST };
const variant = process.env.VARIANT ?? "chat";
const spec = VARIANTS[variant];
if (!spec) throw new Error(`no variant ${variant}: one of ${Object.keys(VARIANTS).join(", ")}`);
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? (spec[2] ? 20 : 2000));

/** The names of a WebAssembly module's exported functions by function index, and how many
 * functions it imports (its sections read as LEB128 integers and names). */
function wasmExportNames(file) {
  const data = fs.readFileSync(file);
  let at = 8;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = data[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const name = () => {
    const length = leb();
    at += length;
    return data.toString("utf8", at - length, at);
  };
  const names = new Map();
  let imported = 0;
  while (at < data.length) {
    const section = data[at++];
    const end = leb() + at;
    if (section === 2 || section === 7) {
      for (let count = leb(); count > 0; count--) {
        if (section === 7) {
          const exported = name();
          const kind = data[at++];
          const index = leb();
          if (kind === 0 && !names.has(index)) names.set(index, exported);
          continue;
        }
        name();
        name();
        const kind = data[at++];
        if (kind === 0) {
          leb();
          imported++;
        } else if (kind === 1 || kind === 2) {
          if (kind === 1) at++; // element type
          const flags = leb();
          leb();
          if (flags & 1) leb();
        } else if (kind === 3) at += 2;
        else if (kind === 4) {
          at++;
          leb();
        }
      }
    }
    at = end;
  }
  return { names, imported };
}

/** The DevTools protocol over the inspector's WebSocket for the Worker named `service`. */
async function inspect(port, service) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.title === `workerd: worker ${service}`);
  if (!target) throw new Error(`no inspector target for ${service}: ${targets.map((t) => t.title)}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  let id = 0;
  const waiting = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

/** What kind of work a profile node is. */
function kindOf({ functionName: name, url }) {
  if (name.startsWith("wasm-function")) return "Python (Pyodide's WebAssembly)";
  if (name.startsWith("js-to-wasm") || name.startsWith("wasm-to-js")) return "crossings between JS and WebAssembly";
  if (name.startsWith("(")) return name; // (program), (garbage collector), (idle)
  if (url.includes("pyodide")) return "Pyodide's JavaScript";
  if (url.includes("bridge/")) return "the Worker's JavaScript (bridge/*.mjs)";
  if (url === "") return `workerd built-in: ${name || "(anonymous)"}`;
  return `other JavaScript: ${url.split("/").pop()}`;
}

async function main() {
  const service = spec[0];
  const ports = { [service]: await freePort() };
  const inspector = await freePort();
  const { workerd, stop } = await serve(ports, [`--inspector-addr=127.0.0.1:${inspector}`]);
  try {
    await firstResponse(ports[service], spec, workerd, performance.now());
    for (let i = 0; i < Math.ceil(REQUESTS / 10); i++) await request(ports[service], spec);
    const { send, close } = await inspect(inspector, service);
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 50 }); // µs
    await send("Profiler.start");
    for (let i = 0; i < REQUESTS; i++) await request(ports[service], spec);
    const { profile } = (await send("Profiler.stop")).result;
    close();
    if (process.env.PROFILE_OUT) fs.writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));

    const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const self = new Map();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i + 1] ?? 0;
      self.set(id, (self.get(id) ?? 0) + us);
      total += us;
    });
    const { names, imported } = wasmExportNames(require.resolve("pyodide/pyodide.asm.wasm"));
    const byKind = new Map();
    const byFunction = new Map();
    for (const [id, us] of self) {
      const frame = nodes.get(id);
      const kind = kindOf(frame);
      byKind.set(kind, (byKind.get(kind) ?? 0) + us);
      const wasm = frame.functionName.match(/^wasm-function\[(\d+)\]/);
      const label = wasm
        ? `wasm ${names.get(Number(wasm[1])) ?? `function ${wasm[1]}`}`
        : `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}`;
      byFunction.set(label, (byFunction.get(label) ?? 0) + us);
    }
    const share = (us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
    const perRequest = (us) => `${(us / REQUESTS).toFixed(0).padStart(7)} µs`;
    console.log(
      `${variant}: ${REQUESTS} requests, ${(total / 1000).toFixed(0)} ms sampled (wall time of the ` +
        `Worker's thread, idle included); ${imported} imported WebAssembly functions`,
    );
    console.log("By kind (per request, share):");
    for (const [kind, us] of [...byKind].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${perRequest(us)} ${share(us)}  ${kind}`);
    }
    console.log("Busiest functions (self time):");
    for (const [label, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 25))) {
      console.log(`  ${perRequest(us)} ${share(us)}  ${label}`);
    }
  } finally {
    stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
