// Test-only: stands in for bridge/sse_splice.mjs in a copy of the Worker
// (test_stream_splice.py `counting`). The real transcoder, with its calls into Python counted;
// the count follows the stream as one SSE comment, `: python <count>`.
import { transcode as transcodeForReal } from "./sse_splice_real.mjs";

export function transcode(source, python, control, heads) {
  let calls = 0;
  const counted = (...args) => {
    calls++;
    return python(...args);
  };
  counted.destroy = () => python.destroy();
  const count = new TransformStream({
    flush(controller) {
      controller.enqueue(new TextEncoder().encode(`: python ${calls}\n\n`));
    },
  });
  return transcodeForReal(source, counted, control, heads).pipeThrough(count);
}
