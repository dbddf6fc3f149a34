// `make bench` only: bridge/sse_splice.mjs for the Worker that counts calls into Python. It
// wraps the real module's `transcode` and, once the stream has ended, appends the count of
// `python(kind, value)` calls of that stream as an SSE comment, `: python-calls <n>`.
import { transcode as real } from "./sse_splice_real.mjs";

const encoder = new TextEncoder();

export function transcode(source, python, control, heads) {
  let calls = 0;
  const counted = (kind, value) => {
    calls++;
    return python(kind, value);
  };
  counted.destroy = () => python.destroy();
  return real(source, counted, control, heads).pipeThrough(
    new TransformStream({
      flush(controller) {
        controller.enqueue(encoder.encode(`: python-calls ${calls}\n\n`));
      },
    }),
  );
}
