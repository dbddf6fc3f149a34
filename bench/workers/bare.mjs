// Pass-through: the upstream stream as the response body, no JavaScript per event.
// `?shape=<name>` picks the upstream shape (bench/workers/fake-ai.mjs). `/json` answers a
// non-streamed `env.AI.run` as JSON, `/hello` a constant: a JavaScript Worker's per-request cost.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/hello") return new Response("ok");
    const model = "@cf/meta/llama-3.1-8b-instruct-fast";
    if (url.pathname === "/json") return Response.json(await env.AI.run(model, { prompt: "hi" }));
    const shape = url.searchParams.get("shape") ?? "native";
    const inputs = { stream: true, messages: [{ role: "user", content: `bench:${shape}` }] };
    const stream = await env.AI.run(model, inputs);
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  },
};
