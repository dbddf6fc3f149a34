// Pass-through: the upstream stream as the response body, no JavaScript per event.
export default {
  async fetch(_request, env) {
    const stream = await env.AI.run("@cf/meta/llama-3.1-8b-instruct-fast", { stream: true });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  },
};
