// @ts-check
// Whether the pupil of a chat I hold is still there (docs/chat-protocol.md, "presence"):
// "Verbinding verbroken sinds 20:14" while their page has no connection, "Sam heeft het
// gesprek verlaten (20:16)" after a quick exit. A quick exit stays shown until the pupil is
// back; a later "away" does not replace it.

import { one } from "./dom.js";
import { say, texts } from "./console-page.js";
import { clockTime, fill } from "./page-texts.js";

/** @typedef {import("./console-panel.js").Panel} Panel */

/**
 * @typedef {object} Presence
 * @property {boolean} present
 * @property {boolean} left
 * @property {string | null} since  ISO-8601
 */

/** @type {WeakMap<Panel, Presence>} */
const shown = new WeakMap();

/**
 * @param {Panel} panel
 * @param {Presence} presence
 */
export function showPresence(panel, presence) {
  const before = shown.get(panel);
  if (!presence.present && !presence.left && before && before.left) return; // sticky
  if (before && before.present === presence.present && before.left === presence.left) return;
  shown.set(panel, presence);
  const line = one(panel.el, ".panel-presence");
  const name = panel.data.nickname || texts.msg_other;
  const time = presence.since ? clockTime(presence.since) : "";
  let text = "";
  if (presence.left) {
    text = time ? fill(texts.presence_left_at, { name, time }) : fill(texts.presence_left, { name });
  } else if (!presence.present) {
    text = time ? fill(texts.presence_away_since, { time }) : texts.presence_away;
  }
  line.textContent = text;
  line.hidden = text === "";
  panel.el.classList.toggle("is-away", text !== "");
  panel.tab.button.classList.toggle("is-away", text !== "");
  panel.tab.presence.textContent = text ? ` (${presence.left ? texts.tab_left : texts.tab_away})` : "";
  if (text) panel.showTyping(false);
  if (before || text) say(text ? `${name}: ${text}` : fill(texts.presence_back, { name }));
}

/**
 * The state a chat starts in, from its summary (a quick exit before I opened it).
 * @param {Panel} panel
 */
export function initialPresence(panel) {
  const leftAt = panel.data.visitor_left_at;
  if (leftAt) showPresence(panel, { present: false, left: true, since: String(leftAt) });
}
