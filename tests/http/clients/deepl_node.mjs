// Drives the official deepl-node client against a server and prints what it understood as
// JSON, for tests/http/test_clients_deepl.py to compare. Usage: node deepl_node.mjs URL KEY
import * as deepl from "deepl-node";

const [serverUrl, authKey] = process.argv.slice(2);
const translator = new deepl.Translator(authKey, { serverUrl, maxRetries: 0 });

const result = (r) => ({
  text: r.text,
  detectedSourceLang: r.detectedSourceLang,
  billedCharacters: r.billedCharacters,
});
const language = (l) => ({ code: l.code, name: l.name, supportsFormality: l.supportsFormality });

const single = await translator.translateText("Hallo Welt", null, "en-US");
const batch = await translator.translateText(["Hallo Welt", "Guten Morgen"], null, "en-US");
const usage = await translator.getUsage();
const sources = await translator.getSourceLanguages();
const targets = await translator.getTargetLanguages();

console.log(
  JSON.stringify({
    single: result(single),
    batch: batch.map(result),
    usage: {
      count: usage.character.count,
      limit: usage.character.limit,
      anyLimitReached: usage.anyLimitReached(),
    },
    sources: sources.map(language),
    targets: targets.map(language),
  }),
);
