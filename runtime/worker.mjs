// Loads a Python Worker into npm Pyodide the way workerd does (python-entrypoint-helper.ts):
// the workerd-only JS modules the SDK imports, production's sys.path, the .pth processing,
// the import-time entropy ban, and per request a new `Default(ctx, env)` whose `fetch` is
// called through `wrapper_func` (python_from_rpc -> relaxed call -> python_to_rpc).

import { AsyncLocalStorage } from "node:async_hooks";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { loadPyodide } from "pyodide";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const PYODIDE_DIR = path.dirname(require.resolve("pyodide/package.json"));
export const PYODIDE_VERSION = JSON.parse(
  fs.readFileSync(path.join(PYODIDE_DIR, "package.json"), "utf8"),
).version;

const WORKER_DIR = "/session/metadata";
const WORKER_MOUNT = "/session/.worker-src";
const RUNTIME_PY = "/session/local-runtime/_local_runtime.py";

const requestScope = new AsyncLocalStorage();

export function logError(prefix, error) {
  // A PythonError's message is the whole traceback; its stack is a 1 MB minified line.
  const text = error?.type !== undefined || error?.name === "PythonError"
    ? error.message
    : (error?.stack ?? String(error));
  process.stderr.write(`${prefix}${text.endsWith("\n") ? text : `${text}\n`}`);
}

// Python awaitables reach JS as *borrowed* proxies destroyed when the call returns, so take
// an owned copy synchronously (workerd getPatchedWaitUntil does the same).
function retain(value) {
  const owned = value && typeof value.copy === "function" ? value.copy() : value;
  return (async () => {
    try {
      return await owned;
    } finally {
      if (owned && owned !== value && typeof owned.destroy === "function") owned.destroy();
    }
  })();
}

class ExecutionContext {
  #pending = [];

  get [Symbol.toStringTag]() {
    // workerd's patchWaitUntil only patches objects reporting this tag.
    return "ExecutionContext";
  }

  waitUntil(promise) {
    // Every promise gets a handler: an unhandled rejection would otherwise end Node.
    const tracked = Promise.resolve(promise).catch((e) => logError("waitUntil task failed:\n", e));
    this.#pending.push(tracked);
  }

  passThroughOnException() {}

  get props() {
    return {};
  }

  settled() {
    return Promise.allSettled(this.#pending);
  }
}

function currentWaitUntil(promise) {
  const ctx = requestScope.getStore();
  if (ctx) ctx.waitUntil(promise);
  else Promise.resolve(promise).catch((e) => logError("waitUntil task failed:\n", e));
}

function makeEntrypointHelper({ env, pythonModulesDir, srcDir }) {
  const cloudflareWorkersModule = {
    env,
    waitUntil: (p) => currentWaitUntil(retain(p)),
  };
  const cloudflareSocketsModule = {
    connect() {
      throw new Error("cloudflare:sockets is not available in the local runtime");
    },
  };
  return {
    cloudflareWorkersModule,
    cloudflareSocketsModule,
    patchWaitUntil(ctx) {
      if (Object.prototype.toString.call(ctx) !== "[object ExecutionContext]") return;
      if (ctx.__localRuntimePatched) return;
      const original = ctx.waitUntil.bind(ctx);
      ctx.waitUntil = (p) => original(retain(p));
      Object.defineProperty(ctx, "__localRuntimePatched", { value: true });
    },
    async doAnImport(name) {
      if (name === "cloudflare:workers") return cloudflareWorkersModule;
      if (name === "cloudflare:sockets") return cloudflareSocketsModule;
      // wrangler uploads python_modules/workers/*.js as ES modules under this name.
      if (name.startsWith("python_modules/")) {
        const file = path.join(pythonModulesDir, name.slice("python_modules/".length));
        return import(pathToFileURL(file).href);
      }
      // Other ES modules of the bundle: wrangler uploads the Worker's *.mjs (wrangler.toml
      // `rules`) under their path in src/.
      const bundled = path.join(srcDir, name);
      if (name.endsWith(".mjs") && !path.relative(srcDir, bundled).startsWith("..") && fs.existsSync(bundled)) {
        return import(pathToFileURL(bundled).href);
      }
      return import(name);
    },
    patch_env_helper() {
      throw new Error("workers.patch_env is not supported by the local runtime");
    },
  };
}

function copyTree(FS, hostDir, target) {
  FS.mkdirTree(target);
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const src = path.join(hostDir, entry.name);
    const dst = `${target}/${entry.name}`;
    if (entry.isDirectory()) copyTree(FS, src, dst);
    else FS.writeFile(dst, fs.readFileSync(src));
  }
}

/**
 * Boots Pyodide and imports the Worker. Returns {fetch(request), pyodide}.
 * Throws (after logging the traceback) when the Worker fails to import.
 */
export async function loadWorker({
  srcDir,
  pythonModulesDir,
  mainModule,
  compatFlags,
  env,
  pyodidePromise,
}) {
  const pyodide = await (pyodidePromise ?? bootPyodide());
  const { FS } = pyodide;
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");

  copyTree(FS, path.join(HERE, "py", "_cloudflare"), `${sitePackages}/_cloudflare`);

  // Production's layout: the Worker's modules at /session/metadata and the vendored packages
  // at /session/metadata/python_modules. Emscripten cannot mount inside a NODEFS mount, so
  // /session/metadata is an in-memory directory of symlinks into the mounted src/.
  FS.mkdirTree(WORKER_MOUNT);
  FS.mount(FS.filesystems.NODEFS, { root: srcDir }, WORKER_MOUNT);
  FS.mkdirTree(WORKER_DIR);
  for (const name of fs.readdirSync(srcDir)) {
    if (name === "python_modules" || name === "__pycache__") continue;
    FS.symlink(`${WORKER_MOUNT}/${name}`, `${WORKER_DIR}/${name}`);
  }
  if (pythonModulesDir) {
    FS.mkdirTree(`${WORKER_DIR}/python_modules`);
    FS.mount(FS.filesystems.NODEFS, { root: pythonModulesDir }, `${WORKER_DIR}/python_modules`);
  }

  pyodide.registerJsModule("_pyodide_entrypoint_helper", makeEntrypointHelper({ env, pythonModulesDir, srcDir }));
  pyodide.registerJsModule("_cloudflare_compat_flags", compatFlags);

  // Kept off the Worker's sys.path; written to the FS only so tracebacks can show its lines.
  FS.mkdirTree("/session/local-runtime");
  FS.writeFile(RUNTIME_PY, fs.readFileSync(path.join(HERE, "py", "_local_runtime.py")));
  const runtime = pyodide.runPython(`
import sys, types
# Bytecode would be written into the developer's src/ through the NODEFS mount.
sys.dont_write_bytecode = True
_mod = types.ModuleType("_local_runtime")
_mod.__file__ = "${RUNTIME_PY}"
with open(_mod.__file__) as _f:
    exec(compile(_f.read(), _mod.__file__, "exec"), _mod.__dict__)
sys.modules["_local_runtime"] = _mod
_mod
`);
  runtime.setup_search_path(Boolean(compatFlags.python_process_pth_files));

  let module;
  try {
    module = runtime.import_main_module(mainModule);
  } catch (e) {
    logError(`Uncaught exception while importing the Worker (${mainModule}.py):\n`, e);
    throw new Error(`failed to import ${mainModule}.py`);
  }
  const Default = runtime.find_entrypoint(module);
  if (!Default) {
    throw new Error(`${mainModule}.py does not define \`class Default(WorkerEntrypoint)\``);
  }
  const wrapperFunc = runtime.wrapper_func;

  async function fetch(request) {
    const ctx = new ExecutionContext();
    return requestScope.run(ctx, async () => {
      const instance = Default(ctx, env);
      try {
        const result = await wrapperFunc(true, instance, "fetch", request);
        const response = result?.js_object ?? result;
        if (!(response instanceof Response)) {
          throw new TypeError(
            `Default.fetch returned ${response === null || response === undefined ? "None" : typeof response}, not a Response`,
          );
        }
        return response;
      } finally {
        instance.destroy();
      }
    });
  }

  return { fetch, pyodide };
}

function pyodideOptions(extra) {
  const line = (stream) => (text) => stream.write(`${text}\n`);
  return {
    indexURL: PYODIDE_DIR,
    stdout: line(process.stdout),
    stderr: line(process.stderr),
    // Production Workers have an empty os.environ; don't leak the developer's shell.
    env: { HOME: "/session" },
    ...extra,
  };
}

/**
 * Boots Pyodide, from a memory snapshot of a freshly booted interpreter when one is cached
 * (0.2-0.3 s instead of ~2 s; local-runtime.md §6). The snapshot holds nothing of the Worker:
 * mounts, JS modules and imports all happen after the restore, exactly as without it.
 * `LOCAL_RUNTIME_SNAPSHOT=0` disables it; any problem with it falls back to a normal boot.
 */
export async function bootPyodide({ snapshotDir } = {}) {
  if (!snapshotDir || process.env.LOCAL_RUNTIME_SNAPSHOT === "0") {
    return loadPyodide(pyodideOptions());
  }
  const file = path.join(
    snapshotDir,
    `pyodide-${PYODIDE_VERSION}-node${process.versions.node}-${process.arch}.snapshot`,
  );
  if (fs.existsSync(file)) {
    try {
      return await loadPyodide(pyodideOptions({ _loadSnapshot: fs.readFileSync(file) }));
    } catch (e) {
      process.stderr.write(`▲ ignoring unusable Pyodide snapshot ${file}: ${e?.message ?? e}\n`);
      fs.rmSync(file, { force: true });
      return loadPyodide(pyodideOptions());
    }
  }
  const fresh = await loadPyodide(pyodideOptions({ _makeSnapshot: true }));
  try {
    const snapshot = fresh.makeMemorySnapshot();
    fs.mkdirSync(snapshotDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, snapshot);
    fs.renameSync(tmp, file); // atomic: parallel starts never read a partial file
    // Run from the restored image, so the first start behaves exactly like later ones.
    return await loadPyodide(pyodideOptions({ _loadSnapshot: snapshot }));
  } catch (e) {
    process.stderr.write(`▲ could not use a Pyodide snapshot: ${e?.message ?? e}\n`);
    return loadPyodide(pyodideOptions());
  }
}
