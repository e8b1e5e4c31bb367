// @ts-check
// Whispers in the counsellor console: a coordinator's message that only this counsellor
// sees, shown inside that chat's panel and clearly marked — never in the message list the
// visitor shares. Arrives as a forwarded staff event {type:"whisper", conversation_id,
// from, body, at}; earlier whispers of a chat are fetched when its panel opens.

import { eventDetail } from "./dom.js";
import { clockTime, fill, readTexts } from "./page-texts.js";

/**
 * A whisper: live as a frame, or earlier ones from GET …/whispers.
 * @typedef {{conversation_id?: string, from?: string, body: string, at: string}} Whisper
 */

const texts = readTexts("console-whisper-texts");
/** @type {Map<string, HTMLElement>} conversation id -> box element */
const panels = new Map();
/** @type {Map<string, Whisper[]>} whispers for a panel that is not there yet */
const early = new Map();
/** @type {Set<string>} */
const shown = new Set();

function addStyles() {
  if (document.querySelector('link[href="/static/css/supervision.css"]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/css/supervision.css";
  document.head.append(link);
}

/** @param {string} text */
function announce(text) {
  const node = document.getElementById("console-announce");
  if (!node) return;
  node.textContent = "";
  setTimeout(() => {
    node.textContent = text;
  }, 50);
}

/**
 * @param {HTMLElement} box
 * @param {Whisper} whisper
 * @param {boolean} live  just arrived: also read it out
 */
function render(box, whisper, live) {
  const key = `${whisper.at}|${whisper.from}|${whisper.body}`;
  if (shown.has(`${whisper.conversation_id}|${key}`)) return;
  shown.add(`${whisper.conversation_id}|${key}`);
  const note = document.createElement("div");
  note.className = "whisper-note";
  const label = document.createElement("p");
  label.className = "whisper-label";
  label.textContent = `${fill(texts.only_you, { name: whisper.from || "" })} · ${clockTime(whisper.at)}`;
  const body = document.createElement("p");
  body.className = "whisper-body";
  body.textContent = whisper.body;
  note.append(label, body);
  box.append(note);
  box.hidden = false;
  if (live) announce(`${fill(texts.only_you, { name: whisper.from || "" })}: ${whisper.body}`);
}

/**
 * @param {string} id
 * @param {HTMLElement} box
 */
async function loadEarlier(id, box) {
  try {
    const response = await fetch(`/api/chat/conversations/${encodeURIComponent(id)}/whispers`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const data = await response.json();
    for (const whisper of data.whispers || []) render(box, whisper, false);
  } catch (_) {
    // Offline: live whispers still arrive over the socket.
  }
}

document.addEventListener("console:panel", (event) => {
  const { id, el } = eventDetail(event);
  if (!id || !el) return;
  const slot = el.querySelector("[data-panel-tools]") || el;
  const box = document.createElement("div");
  box.className = "whisper-box";
  box.hidden = true;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", texts.region || "");
  slot.prepend(box);
  panels.set(id, box);
  for (const whisper of early.get(id) || []) render(box, whisper, true);
  early.delete(id);
  loadEarlier(id, box);
});

document.addEventListener("console:frame", (event) => {
  const frame = /** @type {CustomEvent} */ (event).detail;
  if (!frame || frame.type !== "whisper" || !frame.conversation_id) return;
  const box = panels.get(frame.conversation_id);
  if (box) {
    render(box, frame, true);
  } else {
    const list = early.get(frame.conversation_id) || [];
    list.push(frame);
    early.set(frame.conversation_id, list);
  }
});

addStyles();
