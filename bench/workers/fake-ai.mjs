// `env.AI` for `make bench`: a wrapped binding answering from memory, no network. A stream is
// 1,000 one-event chunks (as tokens arrive in production) of one upstream shape, then a usage
// event and `[DONE]`; the shape is named by the last message, `bench:<shape>` (native text
// otherwise). Other calls answer a short chat result. The class is named `Ai` so the SDK wraps it
// like the real binding.
const encoder = new TextEncoder();
const EVENTS = 1000;
const pad = (i) => "abcdefghijklmnopqrstuvwxyz".slice(0, 6 + (i % 20));
const shaped = (choice) =>
  `data: {"id":"chatcmpl-u","object":"chat.completion.chunk","created":1,"model":"@cf/qwen/qwen3-30b-a3b-fp8","choices":[${choice}]}\n\n`;
const fragment = (i) => JSON.stringify(i % 2 ? `"k${i}":` : `"v${i}",`);

// Event `i` of each shape; `first` replaces event 0 where the stream opens something (a tool
// call, which Python numbers).
const SHAPES = {
  native: { event: (i) => `data: {"response":" word${i}","p":"${pad(i)}"}\n\n` },
  openai: {
    event: (i) => shaped(`{"index":0,"delta":{"content":" word${i}"},"logprobs":null,"finish_reason":null}`),
  },
  // vLLM's compact chunks: no `logprobs`, no `finish_reason`.
  compact: { event: (i) => shaped(`{"index":0,"delta":{"content":" word${i}"}}`) },
  logprobs: {
    event: (i) =>
      shaped(
        `{"index":0,"delta":{"content":" word${i}"},"logprobs":{"content":[{"token":" word${i}","logprob":-0.1}]},"finish_reason":null}`,
      ),
  },
  // Other field orders, as some servers write them.
  reordered: {
    event: (i) => shaped(`{"delta":{"content":" word${i}","role":null},"finish_reason":null,"index":0}`),
  },
  reasoning: { event: (i) => shaped(`{"index":0,"delta":{"reasoning_content":" step${i}"}}`) },
  nativeFragments: {
    first: 'data: {"tool_calls":[{"id":"c1","type":"function","index":0,"function":{"name":"f"}}]}\n\n',
    event: (i) => `data: {"tool_calls":[{"index":0,"function":{"arguments":${fragment(i)}}}],"p":"${pad(i)}"}\n\n`,
  },
  fragments: {
    first: shaped(
      '{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":""}}]}}',
    ),
    event: (i) => shaped(`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":${fragment(i)}}}]}}`),
  },
  escapes: { event: (i) => `data: {"response":" w\\u00f6rd${i}\\n","p":"${pad(i)}"}\n\n` },
  // Every event ends with the first character of a stop sequence (`<` of `<|end|>`), so the
  // transcoder holds it back until the next event shows the stop does not follow.
  held: { event: (i) => `data: {"response":" word${i} <","p":"${pad(i)}"}\n\n` },
  crlf: { event: (i) => `data: {"response":" word${i}","p":"${pad(i)}"}\r\n\r\n` },
  pretty: { event: (i) => `data: {\ndata:   "response": " word${i}",\ndata:   "p": "${pad(i)}"\ndata: }\n\n` },
  // Ten native events: what a streamed request costs besides its events.
  short: { event: (i) => `data: {"response":" word${i}","p":"${pad(i)}"}\n\n`, events: 10 },
};
const CHUNKS = Object.fromEntries(
  Object.entries(SHAPES).map(([name, { event, first, events = EVENTS }]) => [
    name,
    Array.from({ length: events }, (_, i) => encoder.encode(i === 0 && first ? first : event(i))),
  ]),
);
const TAIL = encoder.encode(
  'data: {"response":"","usage":{"prompt_tokens":9,"completion_tokens":1000,"total_tokens":1009}}\n\ndata: [DONE]\n\n',
);

/** The shape the last message names, `bench:<shape>`. */
function shapeOf(inputs) {
  const content = inputs.messages?.at(-1)?.content;
  const named = typeof content === "string" && content.startsWith("bench:") ? content.slice(6) : "native";
  if (!(named in CHUNKS)) throw new Error(`no bench shape ${named}`);
  return named;
}

class Ai {
  async run(_model, inputs) {
    if (!inputs?.stream) {
      return { response: "Hello there!", usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } };
    }
    const chunks = CHUNKS[shapeOf(inputs)];
    let i = 0;
    return new ReadableStream({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]);
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
