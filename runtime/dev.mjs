#!/usr/bin/env node
// Local runtime for the Python Worker: `node runtime/dev.mjs [--port N] [--host H]
// [--config wrangler.toml] [--r2 NAME]... [--persist-to DIR]`. See runtime/README.md.

import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Ai, resolveAiTarget } from "./ai.mjs";
import { KvNamespace, R2Bucket } from "./bindings.mjs";
import { buildVars, localBindingsConfig, readWranglerConfig } from "./config.mjs";
import { createRequestHandler } from "./http.mjs";
import { pyodideVersionFor } from "./settings.mjs";
import { PYODIDE_VERSION, bootPyodide, loadWorker, logError } from "./worker.mjs";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const t0 = performance.now();
const trace = process.env.LOCAL_RUNTIME_TRACE
  ? (what) => process.stderr.write(`[trace] ${(performance.now() - t0).toFixed(0)} ms ${what}\n`)
  : () => {};

process.on("uncaughtException", (e) => logError("Uncaught exception (still serving):\n", e));
process.on("unhandledRejection", (e) => logError("Unhandled rejection (still serving):\n", e));

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    config: { type: "string", short: "c" },
    r2: { type: "string", multiple: true, default: [] },
    kv: { type: "string", multiple: true, default: [] },
    "persist-to": { type: "string" },
    "python-modules": { type: "string" },
  },
});

const configPath = path.resolve(args.config ?? path.join(REPO_ROOT, "wrangler.toml"));
const port = Number(args.port ?? process.env.PORT ?? 8787);
const extraR2 = [
  ...args.r2.flatMap((s) => s.split(",")),
  ...(process.env.LOCAL_R2_BINDINGS ?? "").split(","),
].map((s) => s.trim()).filter(Boolean);
const extraKv = [
  ...args.kv.flatMap((s) => s.split(",")),
  ...(process.env.LOCAL_KV_BINDINGS ?? "").split(","),
].map((s) => s.trim()).filter(Boolean);

const cleanups = [];
let shuttingDown = false;

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (e) {
      logError("cleanup failed: ", e);
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

function startEmulator() {
  const python = process.env.PYTHON || path.join(REPO_ROOT, ".venv", "bin", "python");
  const env = { ...process.env };
  delete env.CLOUDFLARE_API_TOKEN; // the emulator never needs it
  const child = spawn(python, ["-m", "emulator", "--port", "0"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  cleanups.push(kill);
  process.on("exit", kill); // also on crashes, so no emulator outlives us
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("emulator did not report EMULATOR_READY within 30 s")), 30_000);
    const lines = readline.createInterface({ input: child.stdout });
    let ready = false;
    lines.on("line", (line) => {
      const m = /^EMULATOR_READY (\S+)/.exec(line);
      if (!ready && m) {
        ready = true;
        clearTimeout(timer);
        resolve(m[1].replace(/\/+$/, ""));
      } else {
        process.stdout.write(`[emulator] ${line}\n`);
      }
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the emulator with ${python}: ${e.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`emulator exited (${signal ?? code}) before it was ready`));
      else if (!shuttingDown) logError("", new Error(`emulator exited (${signal ?? code})`));
    });
  });
}

async function startPlatformProxy(bindingsConfig, configDir, wranglerModule) {
  if (!bindingsConfig) return {};
  const persistRoot = path.resolve(args["persist-to"] ?? path.join(configDir, ".wrangler", "state"));
  const genDir = path.join(persistRoot, "local-runtime");
  fs.mkdirSync(genDir, { recursive: true });
  const genConfig = path.join(genDir, "wrangler.json");
  fs.writeFileSync(genConfig, JSON.stringify(bindingsConfig, null, 2));
  const { getPlatformProxy } = await (wranglerModule ?? import("wrangler"));
  const proxy = await getPlatformProxy({
    configPath: genConfig,
    remoteBindings: false,
    persist: { path: path.join(persistRoot, "v3") },
  });
  cleanups.push(() => proxy.dispose());
  const bindings = {};
  for (const { binding } of bindingsConfig.r2_buckets) bindings[binding] = new R2Bucket(proxy.env[binding]);
  for (const { binding } of bindingsConfig.kv_namespaces) bindings[binding] = new KvNamespace(proxy.env[binding]);
  return bindings;
}

// Workers static assets, the smallest part of them: a GET/HEAD whose path names a file in the
// `[assets] directory` (`/` and `…/` mean index.html) is answered from disk without waking the
// Worker; anything else goes to `handler`. workerd serves [assets] natively (ETags, redirects,
// html_handling), so this goes when the runtime does.
function withStaticAssets(config, handler) {
  const directory = config.raw.assets?.directory;
  if (!directory) return handler;
  const root = path.resolve(config.configDir, directory);
  const types = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
  };
  return async (req, res) => {
    if (req.method === "GET" || req.method === "HEAD") {
      let file;
      try {
        const { pathname } = new URL(req.url, "http://assets");
        file = path.join(root, decodeURIComponent(pathname.endsWith("/") ? `${pathname}index.html` : pathname));
      } catch {
        file = root; // undecodable: not an asset
      }
      const stat = file.startsWith(root + path.sep) ? await fs.promises.stat(file).catch(() => null) : null;
      if (stat?.isFile()) {
        res.writeHead(200, {
          "content-type": types[path.extname(file)] ?? "application/octet-stream",
          "content-length": stat.size,
          "cache-control": "public, max-age=0, must-revalidate",
        });
        if (req.method === "HEAD") res.end();
        else fs.createReadStream(file).pipe(res);
        return;
      }
    }
    return handler(req, res);
  };
}

async function main() {
  // Pyodide's boot is the long pole; everything else overlaps with it.
  // Everything overlaps with Pyodide's boot. wrangler (~1 s of CPU to import) is parsed on
  // a worker thread unless this process needs it anyway for R2/KV (getPlatformProxy).
  const pyodidePromise = bootPyodide({ snapshotDir: path.join(REPO_ROOT, ".wrangler", "local-runtime") })
    .then((p) => (trace("pyodide booted"), p));
  const wranglerModule = extraR2.length || extraKv.length ? import("wrangler") : undefined;
  const config = await readWranglerConfig(configPath, wranglerModule);
  trace("config read");

  const wanted = pyodideVersionFor(config.compatFlags);
  if (wanted && wanted !== PYODIDE_VERSION) {
    process.stderr.write(
      `▲ compatibility_date ${config.compatibilityDate} runs Pyodide ${wanted} in production, ` +
        `but npm pyodide ${PYODIDE_VERSION} is installed.\n`,
    );
  }

  const { vars, devVarsLoaded, overridden } = buildVars(config);
  const aiTarget = resolveAiTarget();
  const aiBinding = config.raw.ai?.binding;
  const aiPromise = aiBinding
    ? aiTarget.mode === "emulator"
      ? startEmulator().then((url) => ({ ...aiTarget, baseUrl: `${url}/client/v4`, describe: `Workers AI: emulator at ${url}` }))
      : Promise.resolve(aiTarget)
    : Promise.resolve(null);
  const bindingsPromise = startPlatformProxy(localBindingsConfig(config, extraR2, extraKv), config.configDir, wranglerModule);
  // Bindings are added to this same object before the first request; importing the Worker
  // does not wait for them (module-level code must not use bindings anyway).
  const env = { ...vars };
  const pythonModulesDir = [
    args["python-modules"],
    path.join(config.configDir, "python_modules"),
    path.join(REPO_ROOT, "python_modules"),
  ].find((d) => d && fs.existsSync(path.join(d, "workers")));
  if (!pythonModulesDir) throw new Error("python_modules/ with the workers SDK not found; run `make vendor`");

  const worker = await loadWorker({
    srcDir: config.srcDir,
    pythonModulesDir,
    mainModule: config.mainModule,
    compatFlags: config.compatFlags,
    env,
    pyodidePromise,
  });
  trace("worker imported");
  const [bindings, ai] = await Promise.all([
    bindingsPromise.then((b) => (trace("platform proxy ready"), b)),
    aiPromise.then((a) => (trace("AI target ready"), a)),
  ]);
  Object.assign(env, bindings);
  if (ai) env[aiBinding] = new Ai(ai);

  const server = http.createServer(
    withStaticAssets(config, createRequestHandler(() => worker, () => `${args.host}:${actualPort}`)),
  );
  server.keepAliveTimeout = 65_000;
  let actualPort = port;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, args.host, resolve);
  });
  actualPort = server.address().port;
  cleanups.unshift(() => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));

  const names = Object.keys(env);
  process.stdout.write(
    [
      `Python Worker ${config.mainModule}.py from ${path.relative(process.cwd(), config.srcDir) || "."} ` +
        `(Pyodide ${PYODIDE_VERSION}, compatibility_date ${config.compatibilityDate})`,
      `Bindings: ${names.length ? names.join(", ") : "(none)"}` +
        (devVarsLoaded ? " (with .dev.vars)" : "") +
        (overridden.length ? `; from the process environment: ${overridden.join(", ")}` : ""),
      ai ? ai.describe : "Workers AI: no [ai] binding in the config",
      `Started in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      `Ready on http://${args.host}:${actualPort}`,
      "",
    ].join("\n"),
  );
}

main().catch((e) => {
  logError("✘ [ERROR] the local runtime could not start: ", e);
  shutdown(1);
});
