// @ts-check
// The console's opt-in sound for a new waiting chat. Off unless the counsellor turned it
// on here before, and only after a click or key press: browsers block sound before that.

import { byId } from "./dom.js";

const SOUND_KEY = "clb-console-sound";
const box = /** @type {HTMLInputElement} */ (byId("sound"));
/** @type {AudioContext | null} */
let audio = null;
let mayPlay = false;

for (const kind of ["pointerdown", "keydown"]) {
  document.addEventListener(kind, () => {
    mayPlay = true;
  }, { once: true, capture: true });
}

try {
  box.checked = localStorage.getItem(SOUND_KEY) === "on";
} catch (_) {
  // Storage blocked: the box stays off.
}
box.addEventListener("change", () => {
  try {
    localStorage.setItem(SOUND_KEY, box.checked ? "on" : "off");
  } catch (_) {
    // Not remembered, but it works for this visit.
  }
});

export function beep() {
  if (!box.checked || !mayPlay) return;
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 660;
    volume.gain.setValueAtTime(0.0001, audio.currentTime);
    volume.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.4);
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.45);
  } catch (_) {
    // No sound possible (autoplay rules): the title and the list still show it.
  }
}
