// `env.AI` for the local runtime: the Workers AI binding's JS surface (workerd ai-api.ts,
// workers-ai.md §1.1-1.3) implemented over Cloudflare's REST API, so one code path serves
// both the local emulator and a real account. workerd loads this file as the internal module
// of a *wrapped binding* (runtime/miniflare-plugin.mjs): the default export receives the inner
// bindings (`upstream`, a network service; `target`, where to send requests) and returns the
// binding object. It is plain JS with no Node imports, so Node tests can import it too.
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
  "gateway", // routing, not a model option: see #gatewayUrl
]);

function queryValue(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isStreamLike(value) {
  return value instanceof ReadableStream || value instanceof FormData;
}

export class Ai {
  // `gatewayBaseUrl` (a real account) sends calls with `options.gateway` through AI Gateway's
  // Workers AI endpoint, as the binding does; without it (the emulator) the gateway options
  // travel as the `gateway` query parameter, which the emulator records as a run option.
  constructor({ baseUrl, accountId, token, gatewayBaseUrl = null, fetchImpl = globalThis.fetch }) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.accountId = accountId;
    this.gatewayBaseUrl = gatewayBaseUrl;
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

    const gatewayId = options.gateway?.id;
    if (gatewayId && !this.gatewayBaseUrl) query.set("gateway", queryValue(options.gateway));
    const qs = query.size ? `?${query}` : "";
    const url =
      gatewayId && this.gatewayBaseUrl
        ? `${this.gatewayBaseUrl}/${encodeURIComponent(this.accountId)}/${encodeURIComponent(gatewayId)}/workers-ai/${model}${qs}`
        : this.#url(`/ai/run/${model}${qs}`);
    const { fetchImpl } = secrets.get(this);
    const res = await fetchImpl(url, init);
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

// The wrapped binding's entry point (workerd calls it with the inner bindings).
export default function makeBinding({ upstream, target }) {
  return new Ai({ ...target, fetchImpl: (url, init) => upstream.fetch(url, init) });
}
