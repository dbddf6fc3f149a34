// Images panel: a prompt to /v1/images/generations (b64_json), shown with a download link.

import { call, curl } from "./api.js";
import { panel } from "./ui.js";

// Models answer PNG or JPEG; the first base64 characters of the bytes tell which.
const TYPES = { iVBOR: ["image/png", "png"], "/9j/": ["image/jpeg", "jpg"], UklGR: ["image/webp", "webp"] };

export function initImages() {
  const figure = document.getElementById("images-result");
  const image = figure.querySelector("img");
  const link = figure.querySelector("a");
  const request = () => {
    const { model, size, prompt } = ui.form.elements;
    return { model: model.value, prompt: prompt.value, size: size.value, response_format: "b64_json" };
  };
  const ui = panel(document.getElementById("images"), () => curl("/v1/images/generations", { json: request() }));
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = request();
    ui.run(async () => {
      ui.say("Generating…");
      const { data } = await (await call("/v1/images/generations", { json: body })).json();
      const b64 = data[0].b64_json;
      const [type, ext] = Object.entries(TYPES).find(([head]) => b64.startsWith(head))?.[1] ?? TYPES.iVBOR;
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      if (link.href) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([bytes], { type }));
      link.download = `image.${ext}`;
      link.textContent = `Download (${ext.toUpperCase()}, ${Math.round(bytes.length / 1024)} KB)`;
      image.src = link.href;
      image.alt = `Generated from the prompt: ${body.prompt}`;
      figure.hidden = false;
      ui.say("Done.");
    });
  });
  ui.refreshCurl();
  return ui;
}
