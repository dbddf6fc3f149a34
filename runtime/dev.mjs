#!/usr/bin/env node
// Serves the Python Worker on the real workerd binary, offline, through miniflare's Node API:
// `node runtime/dev.mjs [--port N] [--host H] [--config wrangler.toml] [--r2 NAME]...
// [--persist-to DIR]`. See runtime/README.md.

import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";

import { buildVars, readWranglerConfig } from "./config.mjs";
import { OUTBOUND_WORKER_NAME, PLUGIN_NAME } from "./miniflare-plugin.mjs";
import { miniflareModules, moduleRoot, workerModules } from "./modules.mjs";
import { localCompatFlags, productionPyodide } from "./settings.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "..");
const require = createRequire(import.meta.url);
const BUNDLE_DIR = path.join(REPO_ROOT, ".cache", "pyodide-bundle");
const SNAPSHOT_DIR = path.join(REPO_ROOT, ".cache", "python-snapshots");
const t0 = performance.now();

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    config: { type: "string", short: "c" },
    r2: { type: "string", multiple: true, default: [] },
    kv: { type: "string", multiple: true, default: [] },
    "persist-to": { type: "string" },
  },
});

const configPath = path.resolve(args.config ?? path.join(REPO_ROOT, "wrangler.toml"));
const port = Number(args.port ?? process.env.PORT ?? 8787);
// Bindings the config does not declare, added for tests: `--r2 NAME` / LOCAL_R2_BINDINGS (image
// storage) and `--kv NAME` / LOCAL_KV_BINDINGS (stored Responses).
const extraBindings = (flag, variable) =>
  [...flag.flatMap((s) => s.split(",")), ...(process.env[variable] ?? "").split(",")]
    .map((s) => s.trim())
    .filter(Boolean);
const extraR2 = extraBindings(args.r2, "LOCAL_R2_BINDINGS");
const extraKv = extraBindings(args.kv, "LOCAL_KV_BINDINGS");

const cleanups = [];
let shuttingDown = false;

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`cleanup failed: ${e?.stack ?? e}\n`);
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));
process.on("SIGHUP", () => shutdown(0));

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
      else if (!shuttingDown) process.stderr.write(`✘ [ERROR] emulator exited (${signal ?? code})\n`);
    });
  });
}

// Where `env.AI` sends requests: {target, describe}, or starts the emulator.
async function resolveAiTarget(env = process.env) {
  const accountId = env.CLOUDFLARE_ACCOUNT_ID;
  const token = env.CLOUDFLARE_API_TOKEN;
  if (env.AI_BASE_URL) {
    return {
      // REST requires a bearer token; the emulator accepts any.
      target: { baseUrl: env.AI_BASE_URL, accountId: accountId || "local", token: token || "local" },
      describe: `Workers AI: ${env.AI_BASE_URL} (AI_BASE_URL), account ${accountId || "local"}`,
    };
  }
  if (accountId && token) {
    return {
      target: {
        baseUrl: "https://api.cloudflare.com/client/v4",
        gatewayBaseUrl: "https://gateway.ai.cloudflare.com/v1",
        accountId,
        token,
      },
      describe: `Workers AI: remote account ${accountId} (api.cloudflare.com; uses your neurons)`,
    };
  }
  const url = await startEmulator();
  return {
    target: { baseUrl: `${url}/client/v4`, accountId: accountId || "local", token: "local" },
    describe: `Workers AI: emulator at ${url}`,
  };
}

// miniflare spawns `$MINIFLARE_WORKERD_PATH serve ...`; the wrapper adds the bundle directory.
function useWorkerdWrapper() {
  const bundle = path.join(BUNDLE_DIR, "pyodide_dev.capnp.bin");
  if (!fs.existsSync(bundle)) {
    throw new Error(`${bundle} is missing: run \`make install\` (it builds the Pyodide bundle)`);
  }
  process.env.LOCAL_WORKERD_BINARY = require("workerd").default;
  process.env.LOCAL_PYODIDE_BUNDLE_DIR = BUNDLE_DIR;
  process.env.MINIFLARE_WORKERD_PATH = path.join(HERE, "workerd.sh");
  const version = fs.readFileSync(path.join(BUNDLE_DIR, "pyodide-version"), "utf8").trim();
  const workerd = require("workerd/package.json").version;
  return { pyodide: version, workerd };
}

// workerd's dedicated memory snapshot: the Python heap right after the Worker's import, as
// production restores on a cold start. Keyed by everything that shapes that heap (workerd,
// bundle, flags, date, every module's bytes), so an edit to src/ takes a fresh one; the first
// start saves it (into a private directory, moved into place once serving), later starts
// restore it. LOCAL_RUNTIME_SNAPSHOT=0 turns it off. runtime/README.md has the numbers.
function snapshotPlan(modules, flags, date, versions) {
  if (process.env.LOCAL_RUNTIME_SNAPSHOT === "0") return { describe: "off (LOCAL_RUNTIME_SNAPSHOT=0)" };
  const hash = crypto.createHash("sha256");
  hash.update(JSON.stringify([versions, flags, date]));
  hash.update(fs.readFileSync(path.join(BUNDLE_DIR, "pyodide_dev.capnp.bin")));
  for (const m of modules) hash.update(`${m.name}\0${m.type}\0`).update(fs.readFileSync(m.path));
  const file = `${hash.digest("hex").slice(0, 32)}.bin`;
  fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
  if (fs.existsSync(path.join(SNAPSHOT_DIR, file))) {
    process.env.LOCAL_PYTHON_SNAPSHOT_DIR = SNAPSHOT_DIR;
    process.env.LOCAL_PYTHON_LOAD_SNAPSHOT = file;
    return { describe: `restored ${path.relative(REPO_ROOT, SNAPSHOT_DIR)}/${file}` };
  }
  const saveDir = fs.mkdtempSync(path.join(SNAPSHOT_DIR, "saving-"));
  process.env.LOCAL_PYTHON_SNAPSHOT_DIR = saveDir;
  delete process.env.LOCAL_PYTHON_LOAD_SNAPSHOT;
  const removeSaveDir = () => fs.rmSync(saveDir, { recursive: true, force: true });
  process.on("exit", removeSaveDir);
  return {
    describe: `saved for the next start as ${path.relative(REPO_ROOT, SNAPSHOT_DIR)}/${file}`,
    // workerd writes it while importing the Worker, before it serves.
    commit: () => {
      try {
        fs.renameSync(path.join(saveDir, "snapshot.bin"), path.join(SNAPSHOT_DIR, file));
        pruneSnapshots();
      } finally {
        removeSaveDir();
      }
    },
  };
}

// Snapshots are ~31 MB; keep the few newest (one per recently used module table).
function pruneSnapshots(keep = 4) {
  const files = fs
    .readdirSync(SNAPSHOT_DIR)
    .filter((f) => f.endsWith(".bin"))
    .map((f) => ({ f, mtime: fs.statSync(path.join(SNAPSHOT_DIR, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { f } of files.slice(keep)) fs.rmSync(path.join(SNAPSHOT_DIR, f), { force: true });
}

function bindingsFromConfig(raw) {
  const r2 = Object.fromEntries((raw.r2_buckets ?? []).map((b) => [b.binding, b.bucket_name ?? b.binding.toLowerCase()]));
  for (const name of extraR2) r2[name] ??= `local-${name.toLowerCase().replace(/_/g, "-")}`;
  const kv = Object.fromEntries((raw.kv_namespaces ?? []).map((b) => [b.binding, b.id ?? b.binding]));
  for (const name of extraKv) kv[name] ??= `local-${name.toLowerCase().replace(/_/g, "-")}`;
  // [[ratelimits]] (wrangler: name, namespace_id, simple = {limit, period}).
  const ratelimits = Object.fromEntries(
    (raw.ratelimits ?? []).map((b) => [b.name, { namespace_id: String(b.namespace_id), simple: b.simple }]),
  );
  return { r2, kv, ratelimits };
}

function localRuntimeBinding(name, options) {
  const plugin = { package: path.join(HERE, "miniflare-plugin.mjs"), name: PLUGIN_NAME };
  return { name, type: PLUGIN_NAME, plugin, options };
}

function writeLog({ level, message }) {
  const stream = level === "error" || level === "warn" ? process.stderr : process.stdout;
  stream.write(message.endsWith("\n") ? message : `${message}\n`);
}

async function main() {
  const versions = useWorkerdWrapper();
  const config = await readWranglerConfig(configPath);
  const { raw, configDir } = config;
  const date = raw.compatibility_date ?? "2026-11-01";
  const configFlags = raw.compatibility_flags ?? [];
  const wanted = productionPyodide(date, configFlags);
  if (wanted !== versions.pyodide) {
    process.stderr.write(
      `▲ compatibility_date ${date} runs Pyodide ${wanted} in production, ` +
        `but the local bundle is npm pyodide ${versions.pyodide}.\n`,
    );
  }
  const { flags, added } = localCompatFlags(configFlags);
  const { vars, devVarsLoaded, overridden } = buildVars(config);
  const modules = workerModules(config);
  const snapshot = snapshotPlan(modules, flags, date, versions);
  const root = moduleRoot(config);
  const { r2, kv, ratelimits } = bindingsFromConfig(raw);
  const aiBinding = raw.ai?.binding;
  const ai = aiBinding ? await resolveAiTarget() : null;

  const persistRoot = path.resolve(args["persist-to"] ?? path.join(configDir, ".wrangler", "state"));
  const options = convertV4MiniflareOptions({
    host: args.host,
    port,
    log: new Log(LogLevel.WARN),
    handleStructuredLogs: writeLog,
    logRequests: false,
    resourcePersistencePath: path.join(persistRoot, "v3"),
    telemetry: { enabled: false },
    cf: false, // no request.cf locally (it would be fetched from workers.cloudflare.com)
    workers: [
      {
        name: raw.name ?? "worker",
        modules: miniflareModules(modules, root),
        modulesRoot: root,
        compatibilityDate: date,
        compatibilityFlags: flags,
        bindings: vars,
        r2Buckets: r2,
        kvNamespaces: kv,
        ratelimits,
        // [assets]: files served by workerd's asset worker without waking Python, as in production.
        ...(raw.assets?.directory
          ? {
              assets: {
                directory: path.resolve(configDir, raw.assets.directory),
                routerConfig: { has_user_worker: true },
              },
            }
          : {}),
        // See runtime/miniflare-plugin.mjs. The Worker's own refusal of private addresses
        // does not depend on the outbound service.
        outboundService: OUTBOUND_WORKER_NAME,
        unsafeBindings: [
          localRuntimeBinding("__local_outbound", { role: "outbound" }),
          ...(ai ? [localRuntimeBinding(aiBinding, { role: "ai", ...ai.target })] : []),
        ],
      },
    ],
  });
  const mf = new Miniflare(options);
  // After a failed start, dispose rejects with the start's error, which main() reports.
  cleanups.push(() => mf.dispose().catch(() => {}));
  const url = await mf.ready;
  try {
    snapshot.commit?.();
  } catch (e) {
    snapshot.describe = `not saved (${e.message})`;
  }
  const hostPort = `${args.host}:${url.port}`;

  const names = [...Object.keys(vars), ...Object.keys(r2), ...Object.keys(kv), ...Object.keys(ratelimits)];
  if (aiBinding) names.push(aiBinding);
  const python = modules.filter((m) => m.type === "python" && !m.name.startsWith("python_modules/")).length;
  process.stdout.write(
    [
      `workerd ${versions.workerd} (miniflare), Pyodide ${versions.pyodide} (bundle "dev", built from npm pyodide)`,
      `Worker ${raw.name ?? "worker"}: ${modules[0].name} + ${modules.length - 1} modules (${python} Python in ${path.relative(process.cwd(), root) || "."}), compatibility_date ${date}`,
      `Compatibility flags: ${flags.join(", ")}`,
      ...added.map(([flag, why]) => `  local only: ${flag} (${why})`),
      `Bindings: ${names.length ? names.join(", ") : "(none)"}` +
        (devVarsLoaded ? " (with .dev.vars)" : "") +
        (overridden.length ? `; from the process environment: ${overridden.join(", ")}` : ""),
      ai ? ai.describe : "Workers AI: no [ai] binding in the config",
      `Memory snapshot: ${snapshot.describe}`,
      `Started in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      `Ready on http://${hostPort}`,
      "",
    ].join("\n"),
  );
}

// workerd's startup failure (e.g. the Worker raising at import) arrives as miniflare's error
// holding workerd's JSON log lines; their messages carry the Python traceback.
function describeStartError(e) {
  if (e?.code !== "ERR_RUNTIME_FAILURE") return e?.stack ?? String(e);
  return String(e.message)
    .split("\n")
    .map((line) => {
      try {
        return JSON.parse(line).message ?? line;
      } catch {
        return line;
      }
    })
    .join("\n");
}

main().catch((e) => {
  process.stderr.write(`✘ [ERROR] the local runtime could not start: ${describeStartError(e)}\n`);
  shutdown(1);
});
