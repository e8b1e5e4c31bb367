// @ts-check
// The chats I hold in the console: which panels exist, which one is shown on narrow
// screens (tabs, with arrow keys), and the small API the other console modules use.

import { initialPresence } from "./console-presence.js";
import { byId as $ } from "./dom.js";
import { emit, wide } from "./console-page.js";
import { Panel } from "./console-panel.js";

/** @typedef {import("./console-page.js").Conversation} Conversation */

const tabs = $("chat-tabs");
const panelsBox = $("chat-panels");
/** @type {Map<string, Panel>} conversation id -> panel */
export const panels = new Map();
/** @type {string | null} the conversation shown on narrow screens */
let current = null;

/** @type {import("./console-panel.js").PanelHost} */
const host = {
  isCurrent: (id) => current === id,
  select: (id, focus) => select(id, focus),
  remove: (id) => removePanel(id),
};

/**
 * Show a chat I hold (a new one gets a panel); an ended chat's panel shows that it ended.
 * @param {Conversation} data
 * @param {boolean} focus
 */
export function addPanel(data, focus) {
  let panel = panels.get(data.id);
  if (panel) {
    panel.update(data);
  } else {
    panel = new Panel(data, host);
    panels.set(data.id, panel);
    tabs.append(panel.tab.button);
    panelsBox.append(panel.el);
    emit("console:panel", { id: data.id, el: panel.el, data });
  }
  if (data.status && data.status !== "active" && data.status !== "waiting") panel.end(data.status);
  else initialPresence(panel);
  $("chats-empty").hidden = true;
  if (focus || !current || !panels.has(current)) select(data.id, focus);
  else renderTabs();
  return panel;
}

/** @param {string} id */
function removePanel(id) {
  const panel = panels.get(id);
  if (!panel) return;
  panel.typing.stop();
  panel.el.remove();
  panel.tab.button.remove();
  panels.delete(id);
  if (current === id) {
    const next = panels.keys().next();
    current = null;
    if (!next.done) select(next.value, true);
  }
  $("chats-empty").hidden = panels.size > 0;
  if (!panels.size) $("chats-title").focus();
  renderTabs();
}

export function renderTabs() {
  for (const panel of panels.values()) {
    const selected = panel.id === current;
    panel.tab.button.setAttribute("aria-selected", selected ? "true" : "false");
    panel.tab.button.tabIndex = selected ? 0 : -1;
    panel.el.classList.toggle("is-current", selected);
  }
  tabs.hidden = panels.size === 0;
}

/**
 * @param {string} id
 * @param {boolean} focus
 */
function select(id, focus) {
  current = id;
  renderTabs();
  const panel = panels.get(id);
  if (!panel) return;
  panel.markSeen();
  if (focus) {
    if (panel.ended) /** @type {HTMLElement} */ (panel.el.querySelector(".panel-title")).focus();
    else panel.textarea.focus();
  }
}

tabs.addEventListener("keydown", (event) => {
  const ids = Array.from(panels.keys());
  const index = ids.indexOf(/** @type {string} */ (current));
  /** @type {string | null | undefined} */
  let next = null;
  if (event.key === "ArrowRight") next = ids[(index + 1) % ids.length];
  else if (event.key === "ArrowLeft") next = ids[(index - 1 + ids.length) % ids.length];
  else if (event.key === "Home") next = ids[0];
  else if (event.key === "End") next = ids[ids.length - 1];
  if (next === null || next === undefined) return;
  event.preventDefault();
  select(next, false);
  /** @type {Panel} */ (panels.get(next)).tab.button.focus();
});

wide.addEventListener("change", () => {
  for (const panel of panels.values()) panel.markSeen();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  for (const panel of panels.values()) panel.markSeen();
});

// --- For the other console modules (console-core.js: keys, transfer, duty) -------------

export function currentChatId() {
  return current;
}

/**
 * Show the next (offset 1) or previous (-1) of my chats and put the focus in it.
 * @param {number} offset
 */
export function switchChat(offset) {
  const ids = Array.from(panels.keys());
  if (!ids.length) return;
  const index = ids.indexOf(/** @type {string} */ (current));
  const next = ids[(index + offset + ids.length) % ids.length];
  select(next, true);
}

/**
 * Ask to end the current chat (the counsellor still confirms).
 * @param {string} id
 */
export function askEnd(id) {
  const panel = panels.get(id);
  if (panel && !panel.ended) panel.action("ask-end");
}

/** @param {string} id */
export function closePanel(id) {
  removePanel(id);
}

/** @param {string} id */
export function isOpen(id) {
  const panel = panels.get(id);
  return Boolean(panel && !panel.ended);
}

/** @param {string} id */
export function nicknameOf(id) {
  const panel = panels.get(id);
  return panel ? panel.data.nickname : "";
}
