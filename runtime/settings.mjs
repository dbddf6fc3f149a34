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
  "RESPONSES_TTL_SECONDS",
]);

// Compatibility flags added locally, and why (workerd-offline.md §2). workerd runs the highest
// enabled Python release; production's (python_workers_314 for dates from 2026-09-08) must be
// downloaded and matches a hash compiled into the binary, so locally the unchecked `dev` release
// runs instead, from a bundle built out of npm pyodide. In this workerd `dev` is the same
// Pyodide 314.0.6.
export const LOCAL_COMPAT_FLAGS = Object.freeze([
  ["python_workers_development", "selects the `dev` Pyodide bundle built locally (production's is downloaded and hash-checked)"],
  ["no_python_workers_20250116", "implied by the date; would outrank `dev`"],
  ["no_python_workers_314", "implied by the date; would outrank `dev`"],
  ["python_dedicated_snapshot", "implied in production by python_workers_20250116, switched off above; added back"],
]);

// Python releases by flag, newest first, and the date from which `python_workers` implies them
// (workerd compatibility-date.capnp; the correction in local-runtime.md).
const PYTHON_RELEASES = Object.freeze([
  ["python_workers_314", "2026-09-08", "314.0.6"],
  ["python_workers_20250116", "2025-09-29", "0.28.2"],
]);

/** The Pyodide production runs for a compatibility date and flags. */
export function productionPyodide(date, flags) {
  for (const [flag, since, version] of PYTHON_RELEASES) {
    if (flags.includes(`no_${flag}`)) continue;
    if (flags.includes(flag) || date >= since) return version;
  }
  return "0.26.0a2";
}

/** The flags workerd gets locally, and the ones that differ from production (with why). */
export function localCompatFlags(flags) {
  const added = LOCAL_COMPAT_FLAGS.filter(([flag]) => !flags.includes(flag));
  return { flags: [...flags, ...added.map(([flag]) => flag)], added };
}
