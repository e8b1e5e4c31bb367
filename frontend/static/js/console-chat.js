// @ts-check
// The counsellor's chat console: the waiting list on the left, the chats I hold on the
// right (tabs on narrow screens, columns on wide ones). Protocol: docs/chat-protocol.md.
// This module owns the connection and hands each frame to the part it concerns:
// console-queue.js (waiting list), console-panels.js and console-panel.js (my chats).
// console-page.js describes the DOM events through which other modules plug in.

import { ReconnectingSocket } from "./reconnecting-socket.js";
import { send, useSocket } from "./console-connection.js";
import { app, emit, say, setConnection, texts } from "./console-page.js";
import { addPanel, panels, renderTabs } from "./console-panels.js";
import {
  claimFailed,
  disableClaims,
  enableClaim,
  enableClaims,
  isClaiming,
  queueNotice,
  removeQueueItem,
  renderQueue,
  renderWaits,
} from "./console-queue.js";
import { byId as $ } from "./dom.js";
import { showPresence } from "./console-presence.js";
import { fill } from "./page-texts.js";

/** @typedef {import("./reconnecting-socket.js").Frame} Frame */
/** @typedef {import("./console-panel.js").Panel} Panel */

const HEARTBEAT_MS = 10000;
const CLOCK_MS = 15000;
/** @type {number | undefined} */
let reconnectedTimer;

/** @param {Frame} frame */
function onWelcome(frame) {
  const held = new Set();
  for (const conversation of frame.conversations || []) {
    held.add(conversation.id);
    addPanel(conversation, false);
  }
  // Chats that ended while the connection was down.
  for (const other of panels.values()) {
    if (!held.has(other.id) && !other.ended) other.end("ended");
  }
}

/** @param {Frame} frame */
function onClaimed(frame) {
  const data = frame.conversation;
  removeQueueItem(data.id);
  addPanel(data, true);
  say(fill(texts.claimed, { name: data.nickname }));
}

/** @param {Frame} frame */
function onFrame(frame) {
  const panel = frame.conversation_id ? panels.get(frame.conversation_id) : undefined;
  switch (frame.type) {
    case "welcome":
      onWelcome(frame);
      break;
    case "queue":
      if (Array.isArray(frame.waiting)) renderQueue(frame.waiting);
      break;
    case "claimed":
      onClaimed(frame);
      break;
    case "message":
      if (panel) panel.message(frame);
      break;
    case "ack":
      if (panel) panel.log.ack(/** @type {import("./message-log.js").AckFrame} */ (frame));
      break;
    case "typing":
      if (panel && frame.sender === "visitor") panel.showTyping(Boolean(frame.active), panel.data.nickname);
      break;
    case "receipt":
      if (panel) panel.log.receipt(/** @type {import("./message-log.js").ReceiptFrame} */ (frame));
      break;
    case "status":
      if (panel && (frame.status === "ended" || frame.status === "abandoned")) panel.end(frame.status);
      break;
    case "presence":
      if (panel && !panel.ended) {
        showPresence(panel, { present: Boolean(frame.present), left: Boolean(frame.left), since: frame.since || null });
      }
      break;
    case "error":
      onError(frame, panel);
      break;
    default:
      break;
  }
  emit("console:frame", frame);
}

document.addEventListener("console:send", (event) => {
  const frame = /** @type {CustomEvent} */ (event).detail;
  if (frame && typeof frame.type === "string") send(frame);
});

/**
 * @param {Frame} frame
 * @param {Panel | undefined} panel  the chat it is about, if I hold it
 */
function onError(frame, panel) {
  switch (frame.code) {
    case "already_taken":
      claimFailed(frame.conversation_id, texts.already_taken);
      break;
    case "not_on_duty":
    case "queue_empty":
    case "over_capacity":
      queueNotice(frame.message || texts.error_generic);
      enableClaim(frame.conversation_id);
      break;
    case "conversation_closed":
      if (panel) panel.end("ended");
      break;
    case "not_allowed":
      if (panel) panel.end("ended");
      // Only a refused claim concerns the waiting list. A late receipt for a chat that was
      // just handed back to the queue is refused too, and must not hide that chat here.
      else if (isClaiming(frame.conversation_id)) claimFailed(frame.conversation_id, frame.message || "");
      break;
    case "too_long":
      if (panel) refuseLatest(panel);
      break;
    case "rate_limited":
      if (panel) {
        panel.notice(frame.message || texts.error_generic);
        setTimeout(() => panel.resend(), Math.max(1, Number(frame.retry_after) || 5) * 1000);
      }
      break;
    default:
      break;
  }
}

/** @param {Panel} panel  the server refused my latest message there as too long */
function refuseLatest(panel) {
  const last = panel.log.latestPending();
  if (last) panel.log.fail(last);
  panel.notice(texts.too_long);
}

function onUp() {
  const wasDown = app.querySelector("[data-connection]:not([hidden])");
  clearTimeout(reconnectedTimer);
  if (wasDown) {
    setConnection(texts.reconnected);
    reconnectedTimer = setTimeout(() => setConnection(""), 3000);
  }
  send({ type: "heartbeat" });
  for (const panel of panels.values()) {
    if (panel.ended) continue;
    send({ type: "open", conversation_id: panel.id, last_seq: panel.log.lastSeq });
    panel.resend();
    panel.receipts.flush();
  }
}

function onDown() {
  clearTimeout(reconnectedTimer);
  setConnection(texts.reconnecting);
  enableClaims();
}

function onFinal() {
  setConnection("");
  clearInterval(heartbeat);
  $("signed-out").hidden = false;
  for (const panel of panels.values()) {
    /** @type {HTMLElement} */ (panel.el.querySelector(".composer")).hidden = true;
  }
  disableClaims();
}

const socket = new ReconnectingSocket({
  path: "/ws/console",
  hello: () => ({ type: "hello", v: 1 }),
  onFrame,
  onUp,
  onDown,
  onFinal,
});
useSocket(socket);
socket.start();

const heartbeat = setInterval(() => socket.send({ type: "heartbeat" }), HEARTBEAT_MS);
setInterval(() => {
  renderWaits();
  for (const panel of panels.values()) panel.renderTime();
}, CLOCK_MS);
renderTabs();

export {
  askEnd,
  closePanel,
  currentChatId,
  isOpen,
  nicknameOf,
  switchChat,
} from "./console-panels.js";
export { say, queueNotice };
