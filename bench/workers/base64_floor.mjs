// Bench-only (bench/uploads.py, the "floor" cases): what a 4 MB image edit costs the isolate
// with no Python on its path, so the Worker's figure can be read against the platform's. The
// request body is the PNG itself; `step` says how far to go: "read" reads it into one buffer,
// "base64" also encodes it (as the Worker does, bridge/multipart.mjs), "run" also sends
// `{prompt, image_b64}` to env.AI.run and reads the picture it answers.
import { base64 } from "./bridge/multipart.mjs";

const IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img";

export async function floor(request, env, step) {
  const data = new Uint8Array(await request.arrayBuffer());
  const facts = { bytes: data.length, toBase64: typeof data.toBase64 === "function" };
  if (step === "read") return Response.json(facts);
  const image_b64 = base64(data);
  if (step === "base64") return Response.json({ ...facts, base64: image_b64.length });
  const picture = await new Response(await env.AI.run(IMG2IMG, { prompt: "p", image_b64 })).arrayBuffer();
  return Response.json({ ...facts, base64: image_b64.length, picture: picture.byteLength });
}
