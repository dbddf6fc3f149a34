// The Worker's job in plain JavaScript: one TransformStream, bytes in and out, per event split,
// JSON.parse, build the OpenAI chunk, JSON.stringify.
const encoder = new TextEncoder();
const BASE = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "@cf/x" };
const FINAL = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

function rewriteEvents(text, emit) {
  const events = text.split("\n\n");
  const rest = events.pop();
  for (const event of events) {
    const data = event.slice(6);
    if (data === "[DONE]") continue;
    const parsed = JSON.parse(data);
    if (parsed.response) {
      const choices = [{ index: 0, delta: { content: parsed.response }, logprobs: null, finish_reason: null }];
      emit(`data: ${JSON.stringify({ ...BASE, choices })}\n\n`);
    }
  }
  return rest;
}

export default {
  async fetch(_request, env) {
    const source = await env.AI.run("@cf/meta/llama-3.1-8b-instruct-fast", { stream: true });
    let buffer = "";
    const decoder = new TextDecoder();
    const body = source.pipeThrough(
      new TransformStream({
        transform(bytes, controller) {
          let out = "";
          buffer = rewriteEvents(buffer + decoder.decode(bytes, { stream: true }), (e) => (out += e));
          if (out) controller.enqueue(encoder.encode(out));
        },
        flush(controller) {
          controller.enqueue(encoder.encode(FINAL));
        },
      }),
    );
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  },
};
