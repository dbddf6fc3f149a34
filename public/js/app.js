// The playground: wires the key, the tabs and the panels together.

import { initKey } from "./api.js";
import { initAudio } from "./audio.js";
import { initChat } from "./chat.js";
import { initImages } from "./images.js";
import { initModels } from "./models.js";
import { initTranslate } from "./translate.js";
import { initTabs } from "./ui.js";

let panels = [];
// Every curl shows the (masked) key, so they follow it; another key may list other models.
initKey(
  () => {
    for (const p of panels) p.refreshCurl();
  },
  () => models.load(),
);
initTabs();
const models = initModels();
panels = [models, initChat(), initImages(), initTranslate(), ...initAudio()];
