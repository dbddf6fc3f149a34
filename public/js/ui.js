// What every panel shares: status line, error, curl box, busy buttons; the tabs; model pickers.

import { ApiError } from "./api.js";

// One panel (or half of one): `root` holds a form, .status, .error and .curl.
export function panel(root, showCurl) {
  const form = root.querySelector("form");
  const status = root.querySelector(".status");
  const error = root.querySelector(".error");
  const code = root.querySelector(".curl code");
  const refreshCurl = () => {
    code.textContent = showCurl();
  };
  form.addEventListener("input", refreshCurl);
  form.addEventListener("change", refreshCurl);
  return {
    form,
    refreshCurl,
    say(text) {
      status.textContent = text;
    },
    // Runs one call: shows its curl (`sent`, when the form no longer holds the request),
    // clears the last error, marks the panel busy, shows a failure in words.
    async run(work, sent = showCurl()) {
      error.hidden = true;
      error.textContent = "";
      code.textContent = sent;
      const submit = form.querySelector("[type=submit]");
      submit.disabled = true;
      root.setAttribute("aria-busy", "true");
      try {
        await work();
      } catch (e) {
        if (e.name === "AbortError") {
          status.textContent = "Stopped.";
          return;
        }
        status.textContent = "";
        error.textContent = e instanceof ApiError ? e.message : `Something went wrong in this page: ${e.message}`;
        error.hidden = false;
      } finally {
        submit.disabled = false;
        root.removeAttribute("aria-busy");
      }
    },
  };
}

// ARIA tabs: arrow keys, Home and End move between tabs; the URL hash remembers the panel.
export function initTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    history.replaceState(null, "", `#${tab.getAttribute("aria-controls")}`);
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length], true);
    });
  }
  const start = tabs.find((t) => `#${t.getAttribute("aria-controls")}` === location.hash);
  if (start) select(start, false);
}

// Fills every <select data-task> with that task's aliases and models, keeping the choice.
export function fillPickers(models) {
  for (const select of document.querySelectorAll("select[data-task]")) {
    const mine = models.filter((m) => m.task === select.dataset.task);
    if (!mine.length) continue;
    const chosen = select.value;
    select.replaceChildren(
      group("OpenAI names", mine.filter((m) => m.alias_of)),
      group("Workers AI models", mine.filter((m) => !m.alias_of)),
    );
    if (mine.some((m) => m.id === chosen)) select.value = chosen;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

function group(label, models) {
  const optgroup = document.createElement("optgroup");
  optgroup.label = label;
  for (const m of models) optgroup.append(new Option(m.id, m.id));
  return optgroup;
}
