// Calls to this Worker's API: the key, errors in plain words, the equivalent curl, SSE.

const STORAGE_KEY = "playground.apiKey";
const keyInput = document.getElementById("api-key");
const remember = document.getElementById("remember");

// The key lives in the input; localStorage holds it only while "remember" is ticked.
// `onInput` runs on every keystroke, `onCommit` once the key is entered (Enter or leaving).
export function initKey(onInput, onCommit) {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved) {
    keyInput.value = saved;
    remember.checked = true;
  }
  const store = () => {
    if (remember.checked && keyInput.value) localStorage.setItem(STORAGE_KEY, keyInput.value);
    else localStorage.removeItem(STORAGE_KEY);
  };
  remember.addEventListener("change", store);
  keyInput.addEventListener("input", () => {
    store();
    onInput();
  });
  // Enter both submits the form and fires `change`: commit each key once.
  let committed = keyInput.value;
  const commit = () => {
    if (keyInput.value !== committed) {
      committed = keyInput.value;
      onCommit();
    }
  };
  keyInput.addEventListener("change", commit);
  keyInput.form.addEventListener("submit", (event) => {
    event.preventDefault();
    commit();
  });
}

export const apiKey = () => keyInput.value.trim();

export class ApiError extends Error {}

// What a person can act on, by status; the server's own message where it says what to fix.
function explain(status, message, code) {
  if (status === 401 || status === 403) {
    return apiKey()
      ? "The API key was not accepted. Check the key at the top of the page: it must be one of the Worker's API_KEYS."
      : "This Worker needs an API key. Enter it at the top of the page.";
  }
  if (status === 429) {
    return code === "insufficient_quota"
      ? "The Workers AI allocation for today is used up. Try again tomorrow."
      : "Workers AI is busy (too many requests). Wait a few seconds and try again.";
  }
  if (status === 404) return `Not found: ${message}`;
  if (status === 413) return `Too large: ${message}`;
  if (status === 504) return "Workers AI took too long to answer. Try again, perhaps with a shorter input.";
  if (status >= 500) {
    return `The model or the Worker failed (HTTP ${status}). This is usually temporary: try again in a moment.`;
  }
  return `The request was refused: ${message}`;
}

// OpenAI's {error: {message, code}}, DeepLX's {code, message}, or whatever text came back.
async function failure(response) {
  const text = await response.text().catch(() => "");
  let message = text.trim() || response.statusText;
  let code = null;
  try {
    const body = JSON.parse(text);
    const error = body.error ?? body;
    message = error.message ?? message;
    code = typeof error.code === "string" ? error.code : null;
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(explain(response.status, message, code));
}

// fetch() with the key; throws ApiError with a readable message on any failure but an abort.
export async function call(path, { json, form, signal } = {}) {
  const headers = {};
  if (apiKey()) headers.authorization = `Bearer ${apiKey()}`;
  if (json) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method: json || form ? "POST" : "GET",
      headers,
      body: json ? JSON.stringify(json) : form,
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("Could not reach the Worker. Check your connection, or whether the Worker is running.");
  }
  if (!response.ok) throw await failure(response);
  return response;
}

const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

// The key shown in curl: enough to tell keys apart, not enough to use one.
function maskedKey() {
  const key = apiKey();
  return key ? `${key.slice(0, 4)}…` : "$API_KEY";
}

// The same request as a curl command; `form` is [name, value] pairs, a File shown as @name.
export function curl(path, { json, form } = {}) {
  const lines = [`curl ${quote(location.origin + path)}`, `-H "Authorization: Bearer ${maskedKey()}"`];
  if (json) lines.push('-H "content-type: application/json"', `-d ${quote(JSON.stringify(json))}`);
  for (const [name, value] of form ?? []) {
    lines.push(value instanceof File ? `-F ${quote(`${name}=@${value.name}`)}` : `-F ${quote(`${name}=${value}`)}`);
  }
  return lines.join(" \\\n  ");
}

// The `data:` payloads of a server-sent event stream, as they arrive.
// Aborting the fetch's signal ends the stream with an AbortError.
export async function* sseData(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      else if (!line && data.length) {
        yield data.join("\n");
        data = [];
      }
    }
  }
  if (data.length) yield data.join("\n");
}
