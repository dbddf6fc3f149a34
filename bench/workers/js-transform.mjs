// The Worker's job in plain JavaScript: one TransformStream, bytes in and out; per event split,
// JSON.parse, build the OpenAI chunk (content, reasoning, tool-call fragments, from Workers AI's
// native or OpenAI-shaped events), JSON.stringify. `?shape=<name>` picks the upstream shape
// (bench/workers/fake-ai.mjs).
const encoder = new TextEncoder();
const BASE = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "@cf/x" };
const FINAL = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

/** The data of one event: its `data:` lines, joined. */
function dataOf(event) {
  if (!event.includes("\n")) return event.slice(6);
  return event
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
}

function rewriteEvents(text, emit) {
  const events = (text.includes("\r") ? text.replaceAll("\r\n", "\n") : text).split("\n\n");
  const rest = events.pop();
  for (const event of events) {
    const data = dataOf(event);
    if (data === "[DONE]") continue;
    const parsed = JSON.parse(data);
    const said = parsed.choices ? (parsed.choices[0]?.delta ?? {}) : parsed;
    const delta = {};
    const content = said.content ?? said.response;
    if (content) delta.content = content;
    if (said.reasoning_content) delta.reasoning_content = said.reasoning_content;
    if (said.tool_calls) delta.tool_calls = said.tool_calls;
    if (Object.keys(delta).length) {
      const choices = [{ index: 0, delta, logprobs: null, finish_reason: null }];
      emit(`data: ${JSON.stringify({ ...BASE, choices })}\n\n`);
    }
  }
  return rest;
}

export default {
  async fetch(request, env) {
    const shape = new URL(request.url).searchParams.get("shape") ?? "native";
    const inputs = { stream: true, messages: [{ role: "user", content: `bench:${shape}` }] };
    const source = await env.AI.run("@cf/meta/llama-3.1-8b-instruct-fast", inputs);
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
