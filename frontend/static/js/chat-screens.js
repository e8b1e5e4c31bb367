// @ts-check
// The visitor's page shows one screen at a time (opening hours, form, queue, chat, rating,
// done …); this switches between them and keeps the one "Verbinding herstellen…" line and
// the "are you sure?" boxes in step with the screen that is shown.

import { all, one } from "./dom.js";
import { app, state } from "./chat-page.js";

/**
 * @param {string} name
 * @param {{focus?: boolean}} [options]
 */
export function show(name, { focus = true } = {}) {
  for (const screen of all(app, ".chat-screen")) {
    screen.hidden = screen.dataset.screen !== name;
  }
  state.screen = name;
  for (const box of all(app, ".confirm-box")) closeConfirm(box, false);
  setConnection(state.connection);
  if (focus) {
    const heading = /** @type {HTMLElement | null} */ (app.querySelector(`[data-screen="${name}"] h1`));
    if (heading) heading.focus();
  }
  // The chat room is as tall as the screen under the help bar: show all of it, so the box to
  // write in is in view however tall the page header is.
  if (name === "chat") app.querySelector(".chat-room")?.scrollIntoView({ block: "start", behavior: "instant" });
}

/**
 * One "Verbinding herstellen…" line, in whichever screen is shown.
 * @param {string} text
 */
export function setConnection(text) {
  state.connection = text;
  for (const node of all(app, "[data-connection]")) {
    const screen = /** @type {HTMLElement} */ (node.closest(".chat-screen"));
    const here = !screen.hidden;
    node.textContent = here ? text : "";
    node.hidden = !(here && text);
  }
}

/** @param {HTMLElement} box */
export function openConfirm(box) {
  one(box, '[data-action^="ask-"]').hidden = true;
  const panel = one(box, "[data-confirm-panel]");
  panel.hidden = false;
  one(panel, '[data-action="cancel-confirm"]').focus();
}

/**
 * @param {HTMLElement} box
 * @param {boolean} [focus]
 */
export function closeConfirm(box, focus = true) {
  const ask = /** @type {HTMLButtonElement} */ (one(box, '[data-action^="ask-"]'));
  ask.hidden = false;
  ask.disabled = false;
  one(box, "[data-confirm-panel]").hidden = true;
  if (focus) ask.focus();
}

/**
 * "Yes, leave": tell the server; the status frame that follows moves the page on.
 * @param {HTMLElement} box
 */
export function leaveConversation(box) {
  state.leaveWanted = true;
  const ask = /** @type {HTMLButtonElement} */ (one(box, '[data-action^="ask-"]'));
  one(box, "[data-confirm-panel]").hidden = true;
  ask.hidden = false;
  ask.disabled = true;
  ask.focus();
  if (state.socket) state.socket.send({ type: "leave" });
}
