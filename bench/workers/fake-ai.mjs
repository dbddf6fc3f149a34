// `env.AI` for `make bench`: a wrapped binding answering from memory, no network. Streams are
// 1,000 one-event chunks (Workers AI's native shape, as tokens arrive in production) and a
// usage tail; other calls answer a short chat result. The class is named `Ai` so the SDK wraps
// it like the real binding.
const encoder = new TextEncoder();
const EVENTS = 1000;
const CHUNKS = Array.from({ length: EVENTS }, (_, i) =>
  encoder.encode(`data: {"response":" word${i}","p":"${"abcdefghijklmnopqrstuvwxyz".slice(0, 6 + (i % 20))}"}\n\n`),
);
const TAIL = encoder.encode(
  'data: {"response":"","usage":{"prompt_tokens":9,"completion_tokens":1000,"total_tokens":1009}}\n\ndata: [DONE]\n\n',
);

class Ai {
  async run(_model, inputs) {
    if (!inputs?.stream) {
      return { response: "Hello there!", usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } };
    }
    let i = 0;
    return new ReadableStream({
      pull(controller) {
        if (i < CHUNKS.length) controller.enqueue(CHUNKS[i++]);
        else {
          controller.enqueue(TAIL);
          controller.close();
        }
      },
    });
  }
}

export default function makeBinding() {
  return new Ai();
}
