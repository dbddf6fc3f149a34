// Translate panel: DeepLX's POST /translate, as Immersive Translate calls it.

import { call, curl } from "./api.js";
import { panel } from "./ui.js";

// A short list of common languages (DeepL-style codes); the API takes many more.
const LANGUAGES = {
  AR: "Arabic", DE: "German", EN: "English", ES: "Spanish", FR: "French", HI: "Hindi",
  ID: "Indonesian", IT: "Italian", JA: "Japanese", KO: "Korean", NL: "Dutch", PL: "Polish",
  PT: "Portuguese", RU: "Russian", SV: "Swedish", TR: "Turkish", UK: "Ukrainian",
  VI: "Vietnamese", ZH: "Chinese",
};

export function initTranslate() {
  const source = document.getElementById("translate-source");
  const target = document.getElementById("translate-target");
  source.append(new Option("Detect automatically", "auto"));
  for (const [code, name] of Object.entries(LANGUAGES)) {
    source.append(new Option(name, code));
    target.append(new Option(name, code));
  }
  target.value = "DE";
  const result = document.getElementById("translate-result");
  const request = () => ({ text: ui.form.elements.text.value, source_lang: source.value, target_lang: target.value });
  const ui = panel(document.getElementById("translate"), () => curl("/translate", { json: request() }));
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = request();
    ui.run(async () => {
      ui.say("Translating…");
      result.textContent = "";
      const answer = await (await call("/translate", { json: body })).json();
      result.textContent = answer.data;
      const from = LANGUAGES[answer.source_lang] ?? answer.source_lang;
      ui.say(body.source_lang === "auto" ? `Done. Detected language: ${from}.` : "Done.");
    });
  });
  ui.refreshCurl();
  return ui;
}
