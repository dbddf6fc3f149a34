// Chat panel: a conversation streamed from /v1/chat/completions, reasoning apart, stoppable.

import { ApiError, call, curl, sseData } from "./api.js";
import { panel } from "./ui.js";

export function initChat() {
  const root = document.getElementById("chat");
  const log = document.getElementById("chat-log");
  const input = document.getElementById("chat-input");
  const stop = document.getElementById("chat-stop");
  let history = [];
  let controller = null;

  const request = () => {
    const { model, system } = ui.form.elements;
    const messages = [...history, { role: "user", content: input.value }];
    if (system.value.trim()) messages.unshift({ role: "system", content: system.value });
    return { model: model.value, messages, stream: true, stream_options: { include_usage: true } };
  };
  const ui = panel(root, () => curl("/v1/chat/completions", { json: request() }));

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (controller) return; // Ctrl+Enter while an answer is still streaming
    const body = request();
    const question = input.value;
    const conversation = history; // "New chat" during the answer starts another one
    log.append(bubble("user", question));
    const reply = assistantBubble();
    log.append(reply.element);
    input.value = "";
    controller = new AbortController();
    stop.disabled = false;
    ui.run(async () => {
      ui.say("Waiting for the model…");
      try {
        const response = await call("/v1/chat/completions", { json: body, signal: controller.signal });
        ui.say("Answering…");
        await readStream(response, reply, ui);
      } finally {
        // What arrived stays in the conversation, also when stopped or failed.
        conversation.push({ role: "user", content: question });
        if (reply.text()) conversation.push({ role: "assistant", content: reply.text() });
        stop.disabled = true;
        controller = null;
      }
    }, curl("/v1/chat/completions", { json: body }));
  });
  stop.addEventListener("click", () => controller?.abort());
  document.getElementById("chat-new").addEventListener("click", () => {
    controller?.abort();
    history = [];
    log.replaceChildren();
    ui.say("");
    ui.refreshCurl();
  });
  // Ctrl+Enter (⌘+Enter) sends, as in most chat apps; Enter alone stays a new line.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.refreshCurl();
  return ui;
}

async function readStream(response, reply, ui) {
  for await (const data of sseData(response.body)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data);
    // After the stream has started, errors arrive as an event (the status was already 200).
    if (chunk.error) throw new ApiError(`The model failed partway through its answer (${chunk.error.message}). Try again.`);
    const delta = chunk.choices?.[0]?.delta ?? {};
    if (delta.reasoning_content) reply.think(delta.reasoning_content);
    if (delta.content) reply.say(delta.content);
    if (chunk.usage) {
      const { prompt_tokens: p, completion_tokens: c, total_tokens: t } = chunk.usage;
      ui.say(`Done. Tokens: ${p} prompt + ${c} completion = ${t}.`);
    }
  }
}

function bubble(role, text) {
  const element = document.createElement("div");
  element.className = `message ${role}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : "Assistant";
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  element.append(who, body);
  return element;
}

// An assistant message that grows as deltas arrive; reasoning in a closed <details>.
function assistantBubble() {
  const element = bubble("assistant", "");
  const content = element.querySelector(".text");
  const reasoning = document.createElement("details");
  reasoning.className = "reasoning";
  reasoning.hidden = true;
  reasoning.innerHTML = "<summary>Reasoning</summary>";
  const thought = document.createElement("div");
  reasoning.append(thought);
  content.before(reasoning);
  const answer = content.appendChild(document.createTextNode(""));
  return {
    element,
    think(text) {
      reasoning.hidden = false;
      thought.append(text);
    },
    say(text) {
      answer.appendData(text);
    },
    text: () => answer.data,
  };
}
