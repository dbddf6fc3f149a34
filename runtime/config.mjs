// Reads the wrangler config and builds the Worker's `env`: [vars] < .dev.vars < process env.

import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";

import { DOCUMENTED_SETTINGS, compatFlagsFor } from "./settings.mjs";

export function parseDotenv(text) {
  const out = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && value.indexOf(quote, 1) > 0) {
      value = value.slice(1, value.indexOf(quote, 1));
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    out[m[1]] = value;
  }
  return out;
}

export async function readWranglerConfig(configPath, wranglerModule) {
  if (!fs.existsSync(configPath)) throw new Error(`config file ${configPath} not found`);
  const rawConfig = wranglerModule
    ? (await wranglerModule).experimental_readRawConfig({ config: configPath }).rawConfig
    : await new Promise((resolve, reject) => {
    const thread = new Worker(new URL("./config-thread.mjs", import.meta.url), { workerData: { configPath } });
    thread.once("message", (m) => (m.error ? reject(new Error(m.error)) : resolve(m.rawConfig)));
    thread.once("error", reject);
  });
  const configDir = path.dirname(configPath);
  if (!rawConfig.main) throw new Error(`${configPath} has no \`main\``);
  const main = path.resolve(configDir, rawConfig.main);
  if (!main.endsWith(".py")) throw new Error(`main ${rawConfig.main} is not a Python module`);
  const date = rawConfig.compatibility_date ?? "2026-11-01";
  return {
    raw: rawConfig,
    configDir,
    srcDir: path.dirname(main),
    mainModule: path.basename(main, ".py"),
    compatFlags: compatFlagsFor(date, rawConfig.compatibility_flags ?? []),
    compatibilityDate: date,
  };
}

function coerceOverride(original, value) {
  // A JSON [vars] entry stays structured (the SDK hands Python a JsProxy) when overridden.
  if (original !== undefined && typeof original !== "string") {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

export function buildVars({ raw, configDir }, processEnv = process.env) {
  const vars = { ...(raw.vars ?? {}) };
  const devVarsPath = path.join(configDir, ".dev.vars");
  const devVars = fs.existsSync(devVarsPath) ? parseDotenv(fs.readFileSync(devVarsPath, "utf8")) : {};
  Object.assign(vars, devVars);
  const names = new Set([...Object.keys(raw.vars ?? {}), ...Object.keys(devVars), ...DOCUMENTED_SETTINGS]);
  const overridden = [];
  for (const name of names) {
    if (processEnv[name] !== undefined) {
      vars[name] = coerceOverride(raw.vars?.[name], processEnv[name]);
      overridden.push(name);
    }
  }
  return { vars, devVarsLoaded: Object.keys(devVars).length > 0, overridden };
}

// R2/KV bindings for getPlatformProxy. Returns a wrangler JSON config holding only those, so
// the proxy never sees `ai` (which would open a remote session) or [vars] (which we own).
export function localBindingsConfig({ raw }, extraR2 = [], extraKv = []) {
  const r2 = [...(raw.r2_buckets ?? [])];
  for (const name of extraR2) {
    if (!r2.some((b) => b.binding === name)) {
      r2.push({ binding: name, bucket_name: `local-${name.toLowerCase().replace(/_/g, "-")}` });
    }
  }
  const kv = [...(raw.kv_namespaces ?? [])].map((b) => ({ ...b, id: b.id ?? `local-${b.binding}` }));
  for (const name of extraKv) {
    if (!kv.some((b) => b.binding === name)) kv.push({ binding: name, id: `local-${name}` });
  }
  if (!r2.length && !kv.length) return null;
  return {
    name: raw.name ?? "worker",
    compatibility_date: raw.compatibility_date,
    r2_buckets: r2.map(({ binding, bucket_name }) => ({ binding, bucket_name: bucket_name ?? binding.toLowerCase() })),
    kv_namespaces: kv.map(({ binding, id }) => ({ binding, id })),
  };
}
