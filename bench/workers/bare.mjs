// Pass-through: the upstream stream as the response body, no JavaScript per event.
// `?shape=<name>` picks the upstream shape (bench/workers/fake-ai.mjs). `/json` answers a
// non-streamed `env.AI.run` as JSON, `/hello` a constant: a JavaScript Worker's per-request cost.
// `/its` and `/pull` pass every chunk through JavaScript unchanged, as sse_splice.mjs hands
// chunks on (an IdentityTransformStream) and as it did before (a pull ReadableStream): what any
// per-event JavaScript costs before it does anything.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/hello") return new Response("ok");
    const model = "@cf/meta/llama-3.1-8b-instruct-fast";
    if (url.pathname === "/json") return Response.json(await env.AI.run(model, { prompt: "hi" }));
    const shape = url.searchParams.get("shape") ?? "native";
    const inputs = { stream: true, messages: [{ role: "user", content: `bench:${shape}` }] };
    const stream = await env.AI.run(model, inputs);
    const headers = { "content-type": "text/event-stream" };
    if (url.pathname === "/pull") {
      // A pull source reading the upstream (sse_splice.mjs's structure).
      const reader = stream.getReader();
      const body = new ReadableStream({
        pull(controller) {
          return reader.read().then(({ done, value }) => (done ? controller.close() : controller.enqueue(value)));
        },
      });
      return new Response(body, { headers });
    }
    if (url.pathname === "/its") {
      // The splice's structure: writes not awaited until 16 KB wait to be read.
      const { readable, writable } = new IdentityTransformStream({ highWaterMark: 16384 });
      const writer = writable.getWriter();
      const reader = stream.getReader();
      (async () => {
        let last = Promise.resolve();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return writer.close();
          last = writer.write(value);
          if (!(writer.desiredSize > 0)) await last;
        }
      })();
      return new Response(readable, { headers });
    }
    return new Response(stream, { headers });
  },
};
