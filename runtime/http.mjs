// Node http <-> web Request/Response, streaming both ways (local-runtime.md §2).

import { Readable } from "node:stream";

import { logError } from "./worker.mjs";

function toWebRequest(req, defaultHost, signal) {
  const url = new URL(req.url, `http://${req.headers.host ?? defaultHost}`);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const bodiless = req.method === "GET" || req.method === "HEAD";
  // workerd gives a GET/HEAD request the body it declares (Content-Length or Transfer-Encoding);
  // DeepL's Python library sends `GET /v2/languages` with a form body. The web Request refuses
  // a GET body, so such a request is built as a POST and relabelled.
  const declared = req.headers["content-length"] !== undefined || "transfer-encoding" in req.headers;
  const hasBody = !bodiless || declared;
  if (!hasBody) req.resume();
  const request = new Request(url, {
    method: bodiless && hasBody ? "POST" : req.method,
    headers,
    // Chunks reach the Worker as they arrive; `duplex` is mandatory for a stream body.
    body: hasBody ? Readable.toWeb(req) : undefined,
    duplex: "half",
    signal,
  });
  if (bodiless && hasBody) Object.defineProperty(request, "method", { value: req.method });
  return request;
}

function rawHeaders(response) {
  const raw = [];
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") raw.push(name, value);
  }
  // Joined with commas, cookies would be unparseable; each must be its own header line.
  for (const cookie of response.headers.getSetCookie()) raw.push("set-cookie", cookie);
  return raw;
}

function drainOrClose(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

async function writeResponse(req, res, response) {
  res.writeHead(response.status, response.statusText || undefined, rawHeaders(response));
  if (!response.body || req.method === "HEAD") {
    response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = response.body.getReader();
  let disconnected = false;
  res.once("close", () => {
    if (!res.writableFinished) {
      disconnected = true;
      // Propagates into the Worker: a Python writer.write() then raises.
      reader.cancel(new Error("client disconnected")).catch(() => {});
    }
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (disconnected) return;
      if (!res.write(value)) await drainOrClose(res);
    }
    res.end();
  } catch (e) {
    if (disconnected) return;
    logError("Error while streaming the response body:\n", e);
    // Headers are gone; the only honest signal left is an aborted connection.
    res.destroy(e instanceof Error ? e : new Error(String(e)));
  }
}

// After the response, nobody will read the rest of the request body. Without this the body
// stays paused (backpressure) and a client that sends the whole body before reading the
// response waits forever; Node's own default (req._dump) is to discard it, so do the same.
function discardUnreadBody(req) {
  if (req.complete || req.destroyed) return;
  req.removeAllListeners("data"); // Readable.toWeb's listener, which re-pauses on a full queue
  req.on("data", () => {});
  req.resume();
}

export function createRequestHandler(getWorker, defaultHost) {
  return async (req, res) => {
    res.once("finish", () => discardUnreadBody(req));
    const controller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new Error("client disconnected"));
    });
    let response;
    try {
      const request = toWebRequest(req, defaultHost(), controller.signal);
      response = await getWorker().fetch(request);
    } catch (e) {
      logError(`✘ [ERROR] ${req.method} ${req.url}: uncaught exception in the Worker\n`, e);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("Internal Server Error: the Worker threw an exception (see the runtime log).\n");
      } else {
        res.destroy();
      }
      return;
    }
    try {
      await writeResponse(req, res, response);
    } catch (e) {
      logError("Error while sending the response:\n", e);
      res.destroy();
    }
  };
}
