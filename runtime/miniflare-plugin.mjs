// A miniflare plugin for what miniflare's options cannot express. dev.mjs loads it through
// `unsafeBindings` entries of type `local-runtime`, each with `options.role`:
// - "ai": `env.AI` as a *wrapped binding*. workerd calls runtime/ai.mjs's default export,
//   registered as an internal extension module, with two inner bindings: `upstream`, a network
//   service that may reach loopback (the emulator), and `target` (base URL, account, token) as
//   JSON. The result is an instance of `class Ai`, the constructor name the SDK's
//   `_EnvWrapper` needs.
// - "outbound": no binding; a network service allowing public, private and loopback addresses
//   for the Worker's own `fetch`. miniflare's default ("internet") refuses loopback, and its
//   options accept only a worker name as `outboundService`, so the service gets the name a
//   worker called OUTBOUND_WORKER_NAME would have (`core:user:<name>`).
// See runtime/README.md.

import fs from "node:fs";

export const PLUGIN_NAME = "local-runtime";
export const OUTBOUND_WORKER_NAME = "local-outbound";
const BINDING_MODULE = `${PLUGIN_NAME}:ai-binding`;
const UPSTREAM_SERVICE = `${PLUGIN_NAME}:ai-upstream`;
const OUTBOUND_SERVICE = `core:user:${OUTBOUND_WORKER_NAME}`;
const NETWORK = {
  allow: ["public", "private", "local"],
  deny: [],
  tlsOptions: { trustBrowserCas: true },
};

function entries(workerOptions, role) {
  return Object.entries(workerOptions.config?.env ?? {}).filter(
    ([, b]) => b.type === `unsafe:${PLUGIN_NAME}` && b.dev?.options?.role === role,
  );
}

export const plugins = {
  [PLUGIN_NAME]: {
    bindingTypeDescription: "local runtime",
    getBindings(workerOptions) {
      return entries(workerOptions, "ai").map(([name, binding]) => {
        const { role: _role, ...target } = binding.dev.options;
        return {
          name,
          wrapped: {
            moduleName: BINDING_MODULE,
            innerBindings: [
              { name: "upstream", service: { name: UPSTREAM_SERVICE } },
              { name: "target", json: JSON.stringify(target) },
            ],
          },
        };
      });
    },
    getNodeBindings() {
      return {};
    },
    getServices({ options }) {
      const services = [];
      if (entries(options, "ai").length) services.push({ name: UPSTREAM_SERVICE, network: NETWORK });
      if (entries(options, "outbound").length) services.push({ name: OUTBOUND_SERVICE, network: NETWORK });
      return services;
    },
    getExtensions({ options }) {
      if (!options.some((o) => entries(o, "ai").length)) return [];
      const source = fs.readFileSync(new URL("./ai.mjs", import.meta.url), "utf8");
      return [{ modules: [{ name: BINDING_MODULE, esModule: source, internal: true }] }];
    },
  },
};
