// Configuration names the Worker documents. The process environment overrides [vars] and
// .dev.vars for these (and for every name that [vars] or .dev.vars defines), so
// `API_KEYS=k make dev` works without editing files. Keep this list in sync with README.md.
export const DOCUMENTED_SETTINGS = Object.freeze([
  "API_KEYS",
  "ALLOW_ANONYMOUS",
  "CORS_ORIGINS",
  "MODEL_ALIASES",
  "DEFAULT_CHAT_MODEL",
  "DEFAULT_COMPLETION_MODEL",
  "DEFAULT_EMBEDDING_MODEL",
  "DEFAULT_IMAGE_MODEL",
  "DEFAULT_TRANSCRIPTION_MODEL",
  "DEFAULT_SPEECH_MODEL",
  "DEFAULT_TRANSLATION_MODEL",
  "DEFAULT_MODERATION_MODEL",
  "IMAGE_UPLOAD_URL",
  "AI_GATEWAY_ID",
  "PUBLIC_BASE_URL",
  "UPSTREAM_TIMEOUT_S",
  "FETCH_TIMEOUT_S",
  "STREAM_IDLE_TIMEOUT_S",
  "IMAGE_URL_HOSTS",
  "MAX_IMAGE_URLS",
  "KEY_POLICIES",
]);

// Python-related compatibility flags and the date from which `python_workers` implies them
// (workerd compatibility-date.capnp; python-workers.md §1.3). `_cloudflare_compat_flags` is
// built from this so the SDK sees the same flags as production for the configured date.
export const PYTHON_FLAG_DATES = Object.freeze([
  ["python_workers_force_new_vendor_path", "2025-08-11"],
  ["python_workflows", "2025-09-20"],
  ["python_workers_20250116", "2025-09-29"],
  ["python_dedicated_snapshot", "2025-10-16"],
  ["python_check_rng_state", "2025-12-16"],
  ["python_request_headers_preserve_commas", "2026-02-17"],
  ["python_workflows_implicit_dependencies", "2026-02-25"],
  ["enable_python_external_sdk", "2026-04-21"],
  ["python_process_pth_files", "2026-05-26"],
  ["python_workers_314", "2026-09-08"],
]);

// Which Pyodide production runs for a set of flags (python-workers.md §1.3/§1.4 and the
// correction in local-runtime.md): checked newest first.
export const PYODIDE_BY_FLAG = Object.freeze([
  ["python_workers_314", "314.0.6"],
  ["python_workers_20250116", "0.28.2"],
  ["python_workers", "0.26.0a2"],
]);

export function compatFlagsFor(date, explicitFlags = []) {
  const flags = { python_workers: explicitFlags.includes("python_workers") };
  for (const [flag, since] of PYTHON_FLAG_DATES) {
    flags[flag] =
      !explicitFlags.includes(`no_${flag}`) &&
      (explicitFlags.includes(flag) || (flags.python_workers && date >= since));
  }
  for (const flag of explicitFlags) {
    if (!flag.startsWith("no_")) flags[flag] = true;
  }
  return flags;
}

export function pyodideVersionFor(flags) {
  for (const [flag, version] of PYODIDE_BY_FLAG) if (flags[flag]) return version;
  return null;
}
