// @ts-check
// The console's waiting list: one row per waiting chat (rows are kept, not rebuilt, so
// focus stays put), the page title with the count, a claim button per row, and attention
// (sound, a spoken line, an event) for a new or newly flagged chat.

import { byId as $, closestTarget, one } from "./dom.js";
import { send } from "./console-connection.js";
import { baseTitle, describe, emit, say, texts, waitText } from "./console-page.js";
import { beep } from "./console-sound.js";
import { fill } from "./page-texts.js";

/** @typedef {import("./console-page.js").Conversation} Conversation */

const queueList = $("queue-list");
/** @type {Conversation[]} */
let waiting = [];
/** @type {Set<string> | null} ids seen in the previous queue frame (null before the first) */
let knownWaiting = null;
/** @type {Set<string>} flagged ids seen in the previous queue frame */
let knownFlagged = new Set();
/** @type {number | undefined} */
let noticeTimer;

/** The rows, in order (a live collection). */
function rows() {
  return /** @type {HTMLCollectionOf<HTMLElement>} */ (queueList.children);
}

function updateTitle() {
  const flagged = waiting.filter((item) => item.flagged).length;
  if (!waiting.length) document.title = baseTitle;
  else if (flagged) document.title = `${fill(texts.title_flagged, { n: waiting.length, f: flagged })} ${baseTitle}`;
  else document.title = `${fill(texts.title_waiting, { n: waiting.length })} ${baseTitle}`;
}

/**
 * A sound (opt-in), a spoken line, and a "console:attention" event (console-core.js
 * shows a browser notification, also opt-in).
 * @param {"flagged" | "waiting"} kind
 * @param {Conversation[]} items
 */
function attention(kind, items) {
  if (!items.length) return;
  const names = items.map((item) => item.nickname).join(", ");
  const text = fill(kind === "flagged" ? texts.new_flagged : texts.new_waiting, { name: names });
  beep();
  say(text);
  emit("console:attention", { kind, text, ids: items.map((item) => item.id) });
}

/**
 * @param {HTMLElement | undefined} existing  the row this chat already has
 * @param {Conversation} item
 */
function renderRow(existing, item) {
  let li = existing;
  if (!li) {
    const template = /** @type {HTMLTemplateElement} */ ($("queue-item-template"));
    li = /** @type {HTMLElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true));
    li.dataset.id = item.id;
  }
  one(li, ".queue-nick").textContent = item.nickname;
  one(li, ".queue-badge").hidden = !item.priority;
  one(li, ".queue-meta").textContent = describe(item);
  const subject = one(li, ".queue-subject");
  subject.textContent = item.subject ? `“${item.subject}”` : "";
  subject.hidden = !item.subject;
  li.dataset.since = item.created_at;
  li.dataset.connected = item.connected === false ? "no" : "yes";
  one(li, ".queue-claim-who").textContent = ` (${fill(texts.claim_for, { name: item.nickname })})`;
  renderWait(li);
  emit("console:queue-item", { li, item });
  return li;
}

/** @param {Conversation[]} items */
export function renderQueue(items) {
  const previous = knownWaiting;
  waiting = items;
  const current = new Set(items.map((item) => item.id));
  knownWaiting = current;
  const existing = new Map(Array.from(rows(), (li) => [li.dataset.id, li]));
  const rendered = items.map((item) => renderRow(existing.get(item.id), item));
  // Keep the element that has focus in place; only move what changed.
  rendered.forEach((li, index) => {
    if (queueList.children[index] !== li) queueList.insertBefore(li, queueList.children[index] || null);
  });
  for (const li of Array.from(rows())) {
    if (!current.has(/** @type {string} */ (li.dataset.id))) {
      const hadFocus = li.contains(document.activeElement);
      li.remove();
      if (hadFocus) focusQueue();
    }
  }
  $("queue-empty").hidden = items.length > 0;
  $("queue-count").textContent = String(items.length);
  updateTitle();
  announceChanges(items, previous);
}

/**
 * @param {Conversation[]} items
 * @param {Set<string> | null} previous  null on the first queue frame: no news yet
 */
function announceChanges(items, previous) {
  const flaggedBefore = knownFlagged;
  knownFlagged = new Set(items.filter((item) => item.flagged).map((item) => item.id));
  if (previous) {
    const flagged = items.filter((item) => item.flagged && !flaggedBefore.has(item.id));
    const fresh = items.filter((item) => !previous.has(item.id) && !item.flagged);
    attention("flagged", flagged);
    attention("waiting", fresh);
  } else if (items.length) {
    beep();
  }
}

/** @param {HTMLElement} li */
function renderWait(li) {
  const parts = [waitText(li.dataset.since)];
  if (li.dataset.connected === "no") parts.push(texts.not_connected);
  one(li, ".queue-wait").textContent = parts.join(" · ");
}

/** The waiting times move on by themselves. */
export function renderWaits() {
  for (const li of rows()) renderWait(li);
}

function focusQueue() {
  const next = /** @type {HTMLElement | null} */ (queueList.querySelector(".queue-claim:not([disabled])"));
  (next || $("queue-title")).focus();
}

/** @param {string} text */
export function queueNotice(text) {
  const notice = $("queue-notice");
  notice.textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.textContent = "";
  }, 10000);
}

queueList.addEventListener("click", (event) => {
  const button = /** @type {HTMLButtonElement | null} */ (closestTarget(event, ".queue-claim"));
  if (!button) return;
  const li = /** @type {HTMLElement} */ (button.closest(".queue-item"));
  if (!send({ type: "claim", conversation_id: li.dataset.id })) {
    queueNotice(texts.reconnecting);
    return;
  }
  button.disabled = true;
  li.dataset.claiming = "yes";
});

/** @param {string | undefined} conversationId */
function rowOf(conversationId) {
  return /** @type {HTMLElement | null} */ (
    queueList.querySelector(`[data-id="${CSS.escape(conversationId || "")}"]`)
  );
}

/**
 * @param {string} conversationId
 * @param {string} message
 */
export function claimFailed(conversationId, message) {
  queueNotice(message);
  removeQueueItem(conversationId);
}

/** @param {string} conversationId */
export function removeQueueItem(conversationId) {
  const li = rowOf(conversationId);
  if (!li) return;
  const hadFocus = li.contains(document.activeElement);
  li.remove();
  waiting = waiting.filter((item) => item.id !== conversationId);
  $("queue-empty").hidden = waiting.length > 0;
  $("queue-count").textContent = String(waiting.length);
  updateTitle();
  if (hadFocus) focusQueue();
}

/**
 * The server refused a claim for a reason that may pass: the button works again.
 * @param {string | undefined} conversationId
 */
export function enableClaim(conversationId) {
  const li = rowOf(conversationId);
  if (li) /** @type {HTMLButtonElement} */ (one(li, ".queue-claim")).disabled = false;
}

/**
 * Whether I asked for this chat and am waiting for the answer.
 * @param {string | undefined} conversationId
 */
export function isClaiming(conversationId) {
  const li = rowOf(conversationId);
  return Boolean(li && li.dataset.claiming === "yes");
}

/** Connection lost: claims sent before are void, so the buttons work again. */
export function enableClaims() {
  for (const button of queueList.querySelectorAll(".queue-claim[disabled]")) {
    /** @type {HTMLButtonElement} */ (button).disabled = false;
  }
}

/** Signed out: nothing can be claimed any more. */
export function disableClaims() {
  for (const button of queueList.querySelectorAll(".queue-claim")) {
    /** @type {HTMLButtonElement} */ (button).disabled = true;
  }
}
