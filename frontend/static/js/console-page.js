// @ts-check
// The counsellor's chat console (console-chat.js and the modules it uses): its texts and
// elements, the spoken announcements, the DOM events other console modules plug into,
// and how a waiting chat is described.

import { all, byId } from "./dom.js";
import { fill, readTexts } from "./page-texts.js";

/**
 * A chat as the console socket describes it: a waiting-list row, or a chat I hold.
 * @typedef {object} Conversation
 * @property {string} id
 * @property {string} nickname
 * @property {string} [who]
 * @property {string | null} [age_band]
 * @property {string} [topic]
 * @property {string | null} [subject]
 * @property {string} [language]  the language the visitor chats in (a code)
 * @property {string} [status]
 * @property {string} [created_at]
 * @property {string | null} [claimed_at]
 * @property {string | null} [talk_started_at]
 * @property {number | null} [time_limit_minutes]
 * @property {boolean} [priority]
 * @property {boolean} [flagged]
 * @property {boolean} [connected]
 * @property {string | null} [visitor_left_at]  when the visitor used the quick exit
 * @property {{from: string, note?: string | null}} [handover]
 */

export const texts = readTexts("console-texts");
export const app = byId("console-app");
export const baseTitle = document.title;
// From this width every chat I hold is shown at once, in columns; below it, as tabs.
export const wide = window.matchMedia("(min-width: 80rem)");

// Other console modules (notes, canned replies, outcome, triage, transfer …) plug in through
// DOM events on `document`, so the console does not have to know them:
//   "console:frame"      detail = every frame received from the server (after handling here)
//   "console:panel"      detail = {id, el, data}  a chat panel was created
//   "console:ended"      detail = {id, el, status} a chat in a panel ended
//   "console:queue-item" detail = {li, item}     a waiting-list row was (re)rendered
//   "console:attention"  detail = {kind, text, ids} a new or newly flagged waiting chat
// and they send frames by dispatching "console:send" with the frame as detail.
/**
 * @param {string} name
 * @param {unknown} detail
 */
export function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, { detail }));
}

/** @param {string} text */
export function say(text) {
  const node = byId("console-announce");
  node.textContent = "";
  // A fresh text node each time, so the same words are read again.
  setTimeout(() => {
    node.textContent = text;
  }, 50);
}

/** @param {string} text */
export function setConnection(text) {
  for (const node of all(app, "[data-connection]")) {
    node.textContent = text;
    node.hidden = !text;
  }
}

/** @param {Partial<Conversation>} item */
export function describe(item) {
  const who = texts.who[/** @type {string} */ (item.who)] || item.who || "";
  const age = item.age_band ? texts.age_bands[item.age_band] || item.age_band : "";
  const topic = texts.topics[/** @type {string} */ (item.topic)] || item.topic || "";
  const code = item.language || "nl";
  const language = fill(texts.language_is, { language: texts.languages[code] || code });
  return [who, age, topic, language].filter(Boolean).join(" · ");
}

/** @param {string | null | undefined} iso */
export function minutesSince(iso) {
  const start = new Date(/** @type {string} */ (iso)).getTime();
  if (Number.isNaN(start)) return 0;
  return Math.max(0, Math.floor((Date.now() - start) / 60000));
}

/** @param {string | undefined} iso */
export function waitText(iso) {
  const minutes = minutesSince(iso);
  if (minutes < 1) return texts.waiting_now;
  if (minutes < 60) return fill(texts.waiting_min, { n: minutes });
  return fill(texts.waiting_hours, { h: Math.floor(minutes / 60), n: minutes % 60 });
}
