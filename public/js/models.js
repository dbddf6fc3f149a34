// Models panel: GET /v1/models grouped by task, each model with the aliases that point to it.

import { apiKey, call, curl } from "./api.js";
import { fillPickers, panel } from "./ui.js";

const TASKS = {
  chat: "Chat",
  embedding: "Embeddings",
  image: "Images",
  transcription: "Speech to text",
  speech: "Text to speech",
  translation: "Translation",
  moderation: "Moderation",
};

export function initModels() {
  const list = document.getElementById("model-list");
  const ui = panel(document.getElementById("models"), () => curl("/v1/models"));
  const load = () =>
    ui.run(async () => {
      ui.say("Loading…");
      const { data } = await (await call("/v1/models")).json();
      render(list, data);
      fillPickers(data);
      ui.say(`${data.filter((m) => !m.alias_of).length} models, ${data.filter((m) => m.alias_of).length} aliases.`);
    });
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  ui.refreshCurl();
  if (apiKey()) load();
  else ui.say("Enter your API key, then load the models.");
  return { load, refreshCurl: ui.refreshCurl };
}

function render(list, models) {
  const aliases = new Map();
  for (const m of models.filter((m) => m.alias_of)) {
    aliases.set(m.alias_of, [...(aliases.get(m.alias_of) ?? []), m.id]);
  }
  // An alias may point at an id the catalog does not list (MODEL_ALIASES): show that id too.
  const targets = models.filter((m) => !m.alias_of).map((m) => [m.id, m.task]);
  for (const m of models) {
    if (m.alias_of && !targets.some(([id]) => id === m.alias_of)) targets.push([m.alias_of, m.task]);
  }
  const sections = Object.entries(TASKS).map(([task, title]) => {
    const rows = targets.filter(([, t]) => t === task);
    if (!rows.length) return null;
    const section = document.createElement("section");
    const heading = document.createElement("h3");
    heading.textContent = `${title} (${rows.length})`;
    const table = document.createElement("table");
    table.innerHTML = '<thead><tr><th scope="col">Model</th><th scope="col">Aliases</th></tr></thead>';
    const body = table.createTBody();
    for (const [id] of rows) {
      const row = body.insertRow();
      const name = document.createElement("code");
      name.textContent = id;
      row.insertCell().append(name);
      row.insertCell().textContent = (aliases.get(id) ?? []).join(", ");
    }
    section.append(heading, table);
    return section;
  });
  list.replaceChildren(...sections.filter(Boolean));
}
