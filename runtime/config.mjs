// Reads the wrangler config and builds the Worker's vars: [vars] < .dev.vars < process env.

import fs from "node:fs";
import path from "node:path";

import { DOCUMENTED_SETTINGS } from "./settings.mjs";

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

/** {configPath, configDir, raw}: the config as wrangler reads it (TOML, JSON or JSONC). */
export async function readWranglerConfig(configPath) {
  if (!fs.existsSync(configPath)) throw new Error(`config file ${configPath} not found`);
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig } = experimental_readRawConfig({ config: configPath });
  if (!rawConfig.main?.endsWith(".py")) {
    throw new Error(`${configPath}: main ${rawConfig.main} is not a Python module`);
  }
  return { configPath, configDir: path.dirname(configPath), raw: rawConfig };
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
