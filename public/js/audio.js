// Speech panel: a file or a microphone recording to /v1/audio/transcriptions, and text to
// /v1/audio/speech played in an <audio> element.

import { call, curl } from "./api.js";
import { panel } from "./ui.js";

export function initAudio() {
  return [initTranscription(), initSpeech()];
}

function initTranscription() {
  const fileInput = document.getElementById("stt-file");
  const recordButton = document.getElementById("stt-record");
  const result = document.getElementById("stt-result");
  let recording = null; // the last recording, used when no file is chosen
  let recorder = null;

  const audio = () => fileInput.files[0] ?? recording;
  const fields = () => [
    ["file", audio() ?? new File([], "audio.mp3")],
    ["model", ui.form.elements.model.value],
  ];
  const ui = panel(document.getElementById("stt"), () => curl("/v1/audio/transcriptions", { form: fields() }));

  const transcribe = () => {
    if (!audio()) {
      ui.say("Choose an audio file or record one first.");
      return;
    }
    const form = new FormData();
    for (const [name, value] of fields()) form.append(name, value);
    ui.run(async () => {
      ui.say("Transcribing…");
      result.textContent = "";
      const { text } = await (await call("/v1/audio/transcriptions", { form })).json();
      result.textContent = text;
      ui.say("Done.");
    });
  };
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    transcribe();
  });
  fileInput.addEventListener("change", () => {
    recording = null;
  });

  recordButton.addEventListener("click", async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      ui.say("The microphone is not available: allow it for this page, or choose a file instead.");
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
    recorder.addEventListener("stop", () => {
      for (const track of stream.getTracks()) track.stop();
      const type = recorder.mimeType.split(";")[0] || "audio/webm";
      recording = new File(chunks, `recording.${type.split("/")[1]}`, { type });
      recorder = null;
      fileInput.value = "";
      recordButton.textContent = "Record";
      recordButton.setAttribute("aria-pressed", "false");
      transcribe();
    });
    recorder.start();
    recordButton.textContent = "Stop recording";
    recordButton.setAttribute("aria-pressed", "true");
    ui.say("Recording… press “Stop recording” when done.");
  });
  ui.refreshCurl();
  return ui;
}

function initSpeech() {
  const player = document.getElementById("tts-audio");
  const request = () => {
    const { model, voice, input } = ui.form.elements;
    return { model: model.value, input: input.value, voice: voice.value };
  };
  const ui = panel(document.getElementById("tts"), () => `${curl("/v1/audio/speech", { json: request() })} \\\n  -o speech.mp3`);
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = request();
    ui.run(async () => {
      ui.say("Speaking…");
      const blob = await (await call("/v1/audio/speech", { json: body })).blob();
      if (player.src) URL.revokeObjectURL(player.src);
      player.src = URL.createObjectURL(blob);
      player.hidden = false;
      ui.say("Done.");
      // Autoplay may be refused (browser policy); the controls are there either way.
      player.play().catch(() => {});
    });
  });
  ui.refreshCurl();
  return ui;
}
