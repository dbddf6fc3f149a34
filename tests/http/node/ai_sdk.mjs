// The Vercel AI SDK's default OpenAI provider (which speaks the Responses API) against the
// Worker: generateText, streamText, a tool loop over several steps, generateObject. Prints one
// JSON object of what it saw; test_responses_clients.py asserts.
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const openai = createOpenAI({ baseURL: `${process.env.BASE_URL}/v1`, apiKey: process.env.API_KEY });
const model = openai("@cf/meta/llama-3.3-70b-instruct-fp8-fast");

const text = await generateText({ model, prompt: "Say hello from the AI SDK" });

const streamed = streamText({ model, prompt: "Stream hello from the AI SDK" });
const pieces = [];
for await (const piece of streamed.textStream) pieces.push(piece);

const calls = [];
const tools = {
  get_weather: tool({
    description: "Current weather for a city",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return { city, sky: "sunny" };
    },
  }),
};
const loop = await generateText({ model, prompt: "Use get_weather for Paris", tools, stopWhen: stepCountIs(3) });
const streamedLoop = streamText({ model, prompt: "Use get_weather for Oslo", tools, stopWhen: stepCountIs(3) });
await streamedLoop.consumeStream();

const object = await generateObject({
  model,
  schema: z.object({ city: z.string(), temperature_c: z.number() }),
  prompt: "The weather in Paris, please.",
});

console.log(
  JSON.stringify({
    text: { text: text.text, finishReason: text.finishReason, usage: text.usage },
    stream: { pieces: pieces.length, text: await streamed.text, finishReason: await streamed.finishReason },
    tools: { calls, steps: loop.steps.length, text: loop.text, finishReason: loop.finishReason },
    streamedTools: { steps: (await streamedLoop.steps).length, text: await streamedLoop.text },
    object: object.object,
  }),
);
