// The OpenAI Node SDK against /v1/responses: create, stream, parse (zod), a tool round trip
// over previous_response_id. Prints one JSON object of what it saw; test_responses_clients.py asserts.
import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import { z } from "zod";

const client = new OpenAI({ baseURL: `${process.env.BASE_URL}/v1`, apiKey: process.env.API_KEY, maxRetries: 0 });
const MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast";
const weather = {
  type: "function",
  name: "get_weather",
  description: "Current weather for a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "City name" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};

const created = await client.responses.create({ model: "gpt-4o-mini", input: "Say hello from Node" });

const stream = client.responses.stream({ model: "gpt-4o-mini", input: "Stream hello from Node" });
const types = [];
let deltas = "";
for await (const event of stream) {
  types.push(event.type);
  if (event.type === "response.output_text.delta") deltas += event.delta;
}
const streamed = await stream.finalResponse();

const Weather = z.object({ city: z.string(), temperature_c: z.number() });
const parsed = await client.responses.parse({
  model: "gpt-4o-mini",
  input: "The weather in Paris, please.",
  text: { format: zodTextFormat(Weather, "weather") },
});

const first = await client.responses.create({ model: MODEL, input: "Use get_weather for Paris", tools: [weather] });
const call = first.output.find((item) => item.type === "function_call");
const second = await client.responses.create({
  model: MODEL,
  previous_response_id: first.id,
  input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }],
  tools: [weather],
});

console.log(
  JSON.stringify({
    created: { id: created.id, status: created.status, text: created.output_text },
    stream: { types, deltas, text: streamed.output_text },
    parsed: parsed.output_parsed,
    tools: { name: call.name, arguments: JSON.parse(call.arguments), answer: second.output_text },
  }),
);
