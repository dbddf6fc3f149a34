// The Worker's modules exactly as `wrangler deploy` uploads a Python Worker (wrangler 4.164.0,
// deployment-bundle/find-additional-modules.ts), so the local runtime loads the same table:
// - every file under the main module's directory, matched in order against the config's
//   [[rules]], then `PythonModule **/*.py` (added when no rule has that type), then wrangler's
//   defaults (Text, Data, CompiledWasm); a rule type matched once is not matched again unless
//   `fallthrough = true`; files matching no rule are not uploaded; the main module comes first;
// - every file under <config dir>/python_modules as `python_modules/<path>`, a Data module,
//   except `workers/*.js|.mjs` (the SDK's JS, imported at runtime) which are ES modules, minus
//   `**/*.pyc` (wrangler's default `python_modules.exclude`, or the config's).
//
// `node runtime/modules.mjs [--config wrangler.toml]` prints the table as JSON lines
// ({name, type, sha256}) for the test that compares it with `wrangler deploy --dry-run`.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const DEFAULT_RULES = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", globs: ["**/*.bin"] },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"] },
];
// wrangler's names for rule types, as its dry run prints them.
export const TYPE_NAMES = {
  ESModule: "esm",
  CommonJS: "commonjs",
  CompiledWasm: "compiled-wasm",
  Data: "buffer",
  Text: "text",
  PythonModule: "python",
  PythonRequirement: "python-requirement",
};
const DEFAULT_PYTHON_MODULES_EXCLUDE = ["**/*.pyc"];

// npm glob-to-regexp with {globstar: true} (what wrangler matches rule globs with).
export function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      const prev = glob[i - 1];
      let stars = 1;
      while (glob[i + 1] === "*") {
        stars++;
        i++;
      }
      const next = glob[i + 1];
      if (stars > 1 && (prev === "/" || prev === undefined) && (next === "/" || next === undefined)) {
        re += "((?:[^/]*(?:\\/|$))*)";
        i++;
      } else {
        re += "([^/]*)";
      }
    } else if ("/$^+.()=!|?[]{},".includes(c)) {
      re += `\\${c}`;
    } else {
      re += c;
    }
  }
  return new RegExp(`^${re}$`);
}

function* walk(dir, root, skip) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    if (skip.has(abs)) continue;
    if (entry.isDirectory() || (entry.isSymbolicLink() && fs.statSync(abs).isDirectory())) {
      yield* walk(abs, root, skip);
    }
    else yield path.relative(root, abs).split(path.sep).join("/");
  }
}

// wrangler's parseRules: rules after one of the same type (without fallthrough) are dropped.
function effectiveRules(userRules) {
  const seen = new Set();
  const rules = [];
  for (const rule of [...userRules, ...DEFAULT_RULES]) {
    if (seen.has(rule.type)) continue;
    rules.push(rule);
    if (rule.fallthrough !== true) seen.add(rule.type);
  }
  return rules;
}

/** The directory module names are relative to: `base_dir`, else the main module's. */
export function moduleRoot({ configPath, raw }) {
  const configDir = path.dirname(configPath);
  return raw.base_dir ? path.resolve(configDir, raw.base_dir) : path.dirname(path.resolve(configDir, raw.main));
}

/** [{name, type (wrangler's name), path}] in upload order, the main module first. */
export function workerModules(config) {
  const { configPath, raw } = config;
  const configDir = path.dirname(configPath);
  const main = path.resolve(configDir, raw.main);
  const root = moduleRoot(config);
  const userRules = (raw.rules ?? []).map((r) => ({ ...r, globs: r.globs ?? [] }));
  if (!userRules.some((r) => r.type === "PythonModule")) {
    userRules.push({ type: "PythonModule", globs: ["**/*.py"] });
  }
  const rules = effectiveRules(userRules).map((r) => ({ ...r, regexps: r.globs.map(globToRegExp) }));
  const mainName = path.relative(root, main).split(path.sep).join("/");
  const modules = [{ name: mainName, type: "python", path: main }];
  const skip = new Set([configPath, path.join(configDir, ".wrangler")]);
  for (const name of [...walk(root, root, skip)].sort()) {
    if (name === mainName) continue;
    const rule = rules.find((r) => r.regexps.some((re) => re.test(name)));
    if (rule) modules.push({ name, type: TYPE_NAMES[rule.type], path: path.join(root, name) });
  }
  const vendorDir = path.join(configDir, "python_modules");
  if (fs.existsSync(vendorDir)) {
    const excludes = (raw.python_modules?.exclude ?? DEFAULT_PYTHON_MODULES_EXCLUDE).map(globToRegExp);
    for (const name of [...walk(vendorDir, vendorDir, skip)].sort()) {
      if (excludes.some((re) => re.test(name))) continue;
      const esm = name.startsWith("workers/") && [".js", ".mjs"].includes(path.extname(name));
      modules.push({ name: `python_modules/${name}`, type: esm ? "esm" : "buffer", path: path.join(vendorDir, name) });
    }
  }
  return modules;
}

// Miniflare's module types for wrangler's.
const MINIFLARE_TYPES = {
  python: "PythonModule",
  esm: "ESModule",
  commonjs: "CommonJS",
  buffer: "Data",
  text: "Text",
  "compiled-wasm": "CompiledWasm",
};

/** The table as miniflare `modules` (paths are virtual, under `root`, so names come out right). */
export function miniflareModules(modules, root) {
  return modules.map((m) => {
    const type = MINIFLARE_TYPES[m.type];
    if (!type) throw new Error(`module ${m.name}: type ${m.type} is not supported locally`);
    return { type, path: path.join(root, m.name), contents: fs.readFileSync(m.path) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readWranglerConfig } = await import("./config.mjs");
  const i = process.argv.indexOf("--config");
  const config = await readWranglerConfig(path.resolve(i > 0 ? process.argv[i + 1] : "wrangler.toml"));
  for (const m of workerModules(config)) {
    const sha256 = crypto.createHash("sha256").update(fs.readFileSync(m.path)).digest("hex");
    process.stdout.write(`${JSON.stringify({ name: m.name, type: m.type, sha256 })}\n`);
  }
}
