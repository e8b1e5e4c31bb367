// @ts-check
// How one chat message looks: a list item with author, body, time and, for my own
// messages, a delivery mark. Message text is only ever set with textContent.

import { setChildren } from "./dom.js";
import { clockTime } from "./page-texts.js";

/** @typedef {import("./page-texts.js").Texts} Texts */

/**
 * What a message item shows.
 * @typedef {object} MessageContent
 * @property {string} sender  "visitor", "counsellor" or "system"
 * @property {string} [author]
 * @property {string} body
 * @property {string | null} [ts]
 * @property {boolean} own
 */

/** @typedef {"pending" | "sent" | "delivered" | "read" | "failed"} Mark */

// Only these relative paths of our own site become links, and only in system notices (the
// handover code): text people typed is never turned into a link. Built with DOM nodes and
// textContent, so nothing in a message can become HTML.
const OWN_LINK = /(^|[\s(])(\/(?:liever-iemand-zien|afspraak)\?code=[0-9A-Za-z]{4}-[0-9A-Za-z]{4})(?=$|[\s.,;:!?)])/g;

/**
 * @param {HTMLElement} parent
 * @param {unknown} body
 */
export function appendWithOwnLinks(parent, body) {
  const value = String(body);
  let last = 0;
  for (const match of value.matchAll(OWN_LINK)) {
    const start = /** @type {number} */ (match.index) + match[1].length;
    parent.append(document.createTextNode(value.slice(last, start)));
    const link = document.createElement("a");
    link.href = match[2];
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = match[2];
    parent.append(link);
    last = start + match[2].length;
  }
  parent.append(document.createTextNode(value.slice(last)));
}

/**
 * @param {string} className
 * @param {string} [text]
 */
function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * @param {string} kind  "system", "own" or "other"
 * @param {string | undefined} author
 * @param {Texts} texts
 */
function authorLine(kind, author, texts) {
  const who = document.createElement("p");
  who.className = "msg-author";
  if (kind === "system") {
    who.classList.add("visually-hidden");
    who.textContent = texts.msg_system || "Melding:";
  } else if (kind === "own") {
    who.classList.add("visually-hidden");
    who.textContent = texts.msg_you || "Jij:";
  } else {
    who.textContent = author || texts.msg_other || "";
    who.append(span("visually-hidden", ":"));
  }
  return who;
}

/**
 * @param {string} kind
 * @param {string | null | undefined} ts
 */
function footLine(kind, ts) {
  const foot = document.createElement("p");
  foot.className = "msg-foot";
  const time = document.createElement("time");
  time.className = "msg-time";
  time.textContent = ts ? clockTime(ts) : clockTime(null);
  if (ts) time.dateTime = ts;
  foot.append(time);
  if (kind === "own") foot.append(span("msg-mark"));
  return foot;
}

/**
 * A new message item. Links are only made in system notices on the visitor's page.
 * @param {MessageContent} content
 * @param {Texts} texts
 * @param {string} self  whose page this is: "visitor", "counsellor" or "reader"
 */
export function renderMessage({ sender, author, body, ts, own }, texts, self) {
  const li = document.createElement("li");
  const kind = sender === "system" ? "system" : own ? "own" : "other";
  li.className = `msg msg-${kind}`;
  const text = document.createElement("p");
  text.className = "msg-body";
  if (kind === "system" && self === "visitor") appendWithOwnLinks(text, body);
  else {
    text.textContent = body;
    // A message reads in its own direction: Arabic in a Dutch chat, or Dutch in an Arabic one.
    text.dir = "auto";
  }
  li.append(authorLine(kind, author, texts), text);
  if (kind !== "system") li.append(footLine(kind, ts));
  return li;
}

/**
 * Show the time the server stored the message at.
 * @param {HTMLElement} el
 * @param {string | null | undefined} ts
 */
export function showStoredTime(el, ts) {
  const time = /** @type {HTMLTimeElement | null} */ (el.querySelector(".msg-time"));
  if (time && ts) {
    time.textContent = clockTime(ts);
    time.dateTime = ts;
  }
}

/**
 * Ticks and a spoken state on my own message.
 * @param {HTMLElement} el
 * @param {Mark} state
 * @param {Texts} texts
 */
export function showMark(el, state, texts) {
  const mark = el.querySelector(".msg-mark");
  if (!mark) return;
  el.dataset.mark = state;
  const ticks = { pending: "", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" }[state];
  const label = {
    pending: texts.mark_pending,
    sent: texts.mark_sent,
    delivered: texts.mark_delivered,
    read: texts.mark_read,
    failed: texts.mark_failed,
  }[state];
  const parts = [];
  if (ticks) {
    const tick = span("msg-ticks", ticks);
    tick.setAttribute("aria-hidden", "true");
    parts.push(tick);
  }
  parts.push(span("msg-state", label || state));
  setChildren(mark, parts);
}
