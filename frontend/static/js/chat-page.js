// @ts-check
// The visitor's chat page (chat.js and the chat-*.js modules it uses): its texts, its
// elements and the one state object they share. Only sessionStorage holds anything (the
// visitor token, the conversation id, how far the page got), and nothing once the
// visitor is leaving.

import { byId } from "./dom.js";
import { pageLanguage, readTexts } from "./page-texts.js";

/** @typedef {import("./reconnecting-socket.js").ReconnectingSocket} ReconnectingSocket */
/** @typedef {import("./chat-opening.js").OpeningHours} OpeningHours */

/**
 * What sessionStorage keeps (chat-handoff.js writes the same shape).
 * @typedef {object} Store
 * @property {string | null} [token]
 * @property {string} [conversationId]
 * @property {string} [phase]  "waiting", "active" or "ended"
 * @property {string} [counsellor]
 * @property {boolean} [requeued]
 * @property {number} [lastSeq]
 */

const STORE_KEY = "clb-chat";
export const texts = readTexts("chat-texts");
export const app = byId("chat-app");
const lang = pageLanguage();
export const intlLang = lang.startsWith("en") ? "en-GB" : lang;
export const dutch = lang.startsWith("nl");
export const maxBody = Number(app.dataset.maxBody) || 4000;
export const baseTitle = document.title;

export const form = /** @type {HTMLFormElement} */ (byId("start-form"));
export const messages = byId("messages");
export const scroller = byId("messages-box");
export const composer = /** @type {HTMLFormElement} */ (byId("composer"));
export const textarea = /** @type {HTMLTextAreaElement} */ (byId("message"));
export const ratingForm = /** @type {HTMLFormElement} */ (byId("rating-form"));

export const state = {
  /** @type {Store} */
  store: {},
  screen: "loading",
  /** @type {OpeningHours | null} */
  hours: null,
  /** @type {ReconnectingSocket | null} */
  socket: null,
  counsellor: "",
  starting: false,
  leaveWanted: false,
  exiting: false,
  /** @type {number | undefined} */
  reconnectNoticeTimer: undefined,
  connection: "",
  // Why the server refuses the socket for now (too many windows, a busy network), if it does.
  refusal: "",
};

/** @returns {Store} */
export function readStore() {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    return value && typeof value === "object" ? value : {};
  } catch (_) {
    return {};
  }
}

/** @param {Store} patch */
export function save(patch) {
  state.store = { ...state.store, ...patch };
  if (state.exiting || document.body.hidden) return;
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(state.store));
  } catch (_) {
    // Storage off (private mode on some phones): the chat still works until a refresh.
  }
}

export function forget() {
  state.store = {};
  try {
    sessionStorage.removeItem(STORE_KEY);
  } catch (_) {
    // Nothing was stored.
  }
}
