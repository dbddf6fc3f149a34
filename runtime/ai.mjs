// `env.AI` for the local runtime: the Workers AI binding's JS surface (workerd ai-api.ts,
// docs/workers-ai.md §1.1-1.3) implemented over Cloudflare's REST API, so one code path serves
// both the local emulator and a real account.
//
// The class must be literally named `Ai`: the SDK's _EnvWrapper recognises bindings by
// constructor name and only then converts dict arguments to plain JS objects and JSON
// results to JsDict (local-runtime.md §4).

const secrets = new WeakMap(); // keeps the API token off the instance, so logging it is safe

export class InferenceUpstreamError extends Error {
  constructor(message, name = "InferenceUpstreamError") {
    super(message);
    this.name = name;
  }
}

export class AiInternalError extends Error {
  constructor(message) {
    super(message);
    this.name = "AiInternalError";
  }
}

const BINDING_ONLY_OPTIONS = new Set([
  "signal",
  "extraHeaders",
  "prefix",
  "sessionOptions",
  "returnRawResponse",
  "websocket",
  // AI Gateway routing is not emulated; the option is accepted and ignored (README).
  "gateway",
]);

function queryValue(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isStreamLike(value) {
  return value instanceof ReadableStream || value instanceof FormData;
}

export class Ai {
  constructor({ baseUrl, accountId, token, fetchImpl = globalThis.fetch }) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.accountId = accountId;
    secrets.set(this, { token, fetchImpl });
    this.lastRequestId = null;
    this.aiGatewayLogId = null;
    this.lastRequestHttpStatusCode = null;
    this.lastRequestInternalStatusCode = null;
  }

  toJSON() {
    return { binding: "Ai", baseUrl: this.baseUrl, accountId: this.accountId };
  }

  #url(path) {
    return `${this.baseUrl}/accounts/${encodeURIComponent(this.accountId)}${path}`;
  }

  #headers(extra) {
    const headers = new Headers(extra ?? {});
    const { token } = secrets.get(this);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return headers;
  }

  async run(model, inputs, options) {
    options = options ?? {};
    inputs = inputs ?? {};
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) {
      if (!BINDING_ONLY_OPTIONS.has(key) && value !== undefined && value !== null) {
        query.set(key, queryValue(value));
      }
    }

    const streamKeys = [];
    let streamBody;
    let contentType;
    if (typeof inputs === "object" && !Array.isArray(inputs)) {
      for (const [key, value] of Object.entries(inputs)) {
        if (isStreamLike(value)) {
          streamKeys.push(key);
          streamBody = value;
          contentType = undefined;
        } else if (value && typeof value === "object" && isStreamLike(value.body)) {
          streamKeys.push(key);
          streamBody = value.body;
          contentType = value.contentType;
        }
      }
    }

    const headers = this.#headers({ ...options.sessionOptions?.extraHeaders, ...options.extraHeaders });
    const init = { method: "POST", headers, signal: options.signal ?? undefined };
    if (streamKeys.length > 1) {
      throw new AiInternalError(
        `Multiple ReadableStreams are not supported. Found streams in keys: [${streamKeys.join(", ")}]`,
      );
    }
    if (streamKeys.length === 1) {
      if (options.gateway?.id) {
        throw new AiInternalError("AI Gateway does not support ReadableStreams yet.");
      }
      if (streamBody instanceof FormData) {
        // A FormData needs its generated boundary in the content type; a caller-supplied
        // bare "multipart/form-data" would make the body unparseable.
        const encoded = new Response(streamBody);
        streamBody = encoded.body;
        contentType = encoded.headers.get("content-type");
      }
      if (!contentType) {
        throw new AiInternalError("Content-Type is required with ReadableStream inputs");
      }
      for (const [key, value] of Object.entries(inputs)) {
        if (key !== streamKeys[0] && value !== undefined && value !== null) {
          query.set(key, queryValue(value));
        }
      }
      headers.set("content-type", contentType);
      init.body = streamBody;
      init.duplex = "half";
    } else {
      headers.set("content-type", "application/json");
      init.body = JSON.stringify(inputs);
    }

    const qs = query.size ? `?${query}` : "";
    const { fetchImpl } = secrets.get(this);
    const res = await fetchImpl(this.#url(`/ai/run/${model}${qs}`), init);
    this.lastRequestId = res.headers.get("cf-ai-req-id");
    this.aiGatewayLogId = res.headers.get("cf-aig-log-id");
    this.lastRequestHttpStatusCode = res.status;

    if (options.returnRawResponse || options.websocket) return res;
    if (!res.ok || !res.body) throw await this.#parseError(res);
    // Exact comparison on purpose: the real binding returns a stream for anything else.
    if (res.headers.get("content-type") === "application/json") {
      const data = await res.json();
      return isEnvelope(data) ? data.result : data;
    }
    return res.body;
  }

  async models(params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value !== undefined && value !== null) query.set(key, String(value));
    }
    const { fetchImpl } = secrets.get(this);
    const res = await fetchImpl(this.#url(`/ai/models/search?${query}`), {
      headers: this.#headers(),
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      throw new AiInternalError(data?.errors?.[0]?.message || "Internal Error");
    }
    return isEnvelope(data) ? data.result : data;
  }

  async #parseError(res) {
    const text = await res.text().catch(() => "");
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (data && data.internalCode !== undefined) {
      // The binding's own upstream format (what workers-binding.ai answers).
      this.lastRequestInternalStatusCode = data.internalCode;
      return new InferenceUpstreamError(
        `${data.internalCode}: ${data.description}`,
        data.name || "InferenceUpstreamError",
      );
    }
    const first = Array.isArray(data?.errors) ? data.errors[0] : undefined;
    if (first) {
      // REST repeats the error class in the text ("AiError: AiError: ..."); the binding
      // reports it once, as the error's name.
      let message = String(first.message ?? "");
      let name = "InferenceUpstreamError";
      while (message.startsWith("AiError: ")) {
        message = message.slice("AiError: ".length);
        name = "AiError";
      }
      if (first.code !== undefined) this.lastRequestInternalStatusCode = first.code;
      return new InferenceUpstreamError(
        first.code !== undefined ? `${first.code}: ${message}` : message,
        name,
      );
    }
    return new InferenceUpstreamError(text || `${res.status} ${res.statusText}`);
  }
}

function isEnvelope(data) {
  return (
    data !== null &&
    typeof data === "object" &&
    !Array.isArray(data) &&
    "result" in data &&
    ("success" in data || "errors" in data)
  );
}

// Chooses where `env.AI` sends requests. Returns {mode, baseUrl, accountId, token, describe}.
export function resolveAiTarget(env = process.env) {
  const accountId = env.CLOUDFLARE_ACCOUNT_ID;
  const token = env.CLOUDFLARE_API_TOKEN;
  if (env.AI_BASE_URL) {
    return {
      mode: "explicit",
      baseUrl: env.AI_BASE_URL,
      accountId: accountId || "local",
      // REST requires a bearer token; the emulator accepts any.
      token: token || "local",
      describe: `Workers AI: ${env.AI_BASE_URL} (AI_BASE_URL), account ${accountId || "local"}`,
    };
  }
  if (accountId && token) {
    return {
      mode: "remote",
      baseUrl: "https://api.cloudflare.com/client/v4",
      accountId,
      token,
      describe: `Workers AI: remote account ${accountId} (api.cloudflare.com; uses your neurons)`,
    };
  }
  return { mode: "emulator", accountId: accountId || "local", token: "local" };
}
