// @ts-check
// The visitor's connection to a conversation: (re)joining it over /ws/chat, and what each
// frame from the server does on the page. Protocol: docs/chat-protocol.md.

import { ReconnectingSocket } from "./reconnecting-socket.js";
import { save, state, texts } from "./chat-page.js";
import {
  log,
  nearBottom,
  receipts,
  resendPending,
  scrollToEnd,
  showNotice,
  showTyping,
} from "./chat-messages.js";
import { setConnection, show } from "./chat-screens.js";
import {
  applyStatus,
  resetConversationView,
  setCounsellor,
  showChat,
  showEnded,
  showGone,
  showLeft,
  showRequeued,
  updateQueue,
} from "./chat-status.js";

/** @typedef {import("./reconnecting-socket.js").Frame} Frame */

/**
 * The form was accepted: show the queue (or the chat at once) and connect.
 * @param {string} phase
 */
export function enterConversation(phase) {
  resetConversationView();
  if (phase === "active") showChat(true);
  else show("queue");
  startSocket();
}

/** Back on the page (a refresh, another page and back): show where it was, reconnect. */
export function resume() {
  const { phase } = state.store;
  if (phase === "ended") {
    show("ended", { focus: false });
    return;
  }
  resetConversationView();
  if (phase === "active") {
    setCounsellor(state.store.counsellor || "");
    show("chat", { focus: false });
  } else if (state.store.requeued) {
    showRequeued(false);
  } else {
    show("queue", { focus: false });
  }
  startSocket();
}

function startSocket() {
  if (state.socket) state.socket.stop();
  state.socket = new ReconnectingSocket({
    path: "/ws/chat",
    hello: () => ({
      type: "hello",
      v: 1,
      token: state.store.token,
      conversation_id: state.store.conversationId,
      last_seq: log.lastSeq,
    }),
    onFrame,
    onUp,
    onDown,
    onFinal,
    pingEveryMs: 20000,
    staleAfterMs: 50000,
  });
  state.socket.start();
}

function onUp() {
  const wasDown = state.connection !== "" && state.connection !== texts.reconnected;
  state.refusal = "";
  clearTimeout(state.reconnectNoticeTimer);
  if (wasDown) {
    setConnection(texts.reconnected);
    state.reconnectNoticeTimer = setTimeout(() => setConnection(""), 3000);
  } else {
    setConnection("");
  }
  resendPending();
  if (state.leaveWanted && state.socket) state.socket.send({ type: "leave" });
  receipts.flush();
}

function onDown() {
  clearTimeout(state.reconnectNoticeTimer);
  // Refused for now (another window, a busy network): say why while it tries again.
  setConnection(state.refusal || texts.reconnecting);
  showTyping(false);
}

/** @param {number} code */
function onFinal(code) {
  state.socket = null;
  setConnection("");
  if (code === 1000) {
    if (state.store.phase === "active" || state.store.phase === "ended") showEnded();
    else if (state.store.conversationId) showLeft();
    return;
  }
  showGone();
}

/** @param {Frame} frame */
function onWelcome(frame) {
  const conversation = frame.conversation || {};
  const read = conversation.read_seq && Number(conversation.read_seq.counsellor);
  if (read) log.receipt({ type: "receipt", by: "counsellor", kind: "read", seq: read });
  // Waiting after a first claim: sent back to the queue by a counsellor.
  const requeued = conversation.status === "waiting" && Boolean(conversation.claimed_at);
  if (conversation.status) applyStatus(conversation.status, conversation.counsellor, requeued);
}

/** @param {Frame} frame */
function onMessage(frame) {
  const atBottom = nearBottom();
  const result = log.message(/** @type {import("./message-log.js").MessageFrame} */ (frame));
  if (result !== "dup") {
    if (frame.sender === "counsellor") showTyping(false);
    if (atBottom || frame.sender === "visitor") scrollToEnd();
    save({ lastSeq: log.lastSeq });
  }
}

/** @param {Frame} frame */
function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
      onWelcome(frame);
      break;
    case "queue":
      updateQueue(frame.position, frame.estimate);
      break;
    case "status":
      applyStatus(frame.status, frame.counsellor);
      break;
    case "message":
      onMessage(frame);
      break;
    case "ack":
      log.ack(/** @type {import("./message-log.js").AckFrame} */ (frame));
      save({ lastSeq: log.lastSeq });
      break;
    case "typing":
      if (frame.sender !== "visitor") showTyping(Boolean(frame.active), state.counsellor);
      break;
    case "receipt":
      log.receipt(/** @type {import("./message-log.js").ReceiptFrame} */ (frame));
      break;
    case "error":
      handleFrameError(frame);
      break;
    default:
      break;
  }
}

/** @param {Frame} frame */
function handleFrameError(frame) {
  switch (frame.code) {
    case "too_long": {
      const last = log.latestPending();
      if (last) log.fail(last);
      showNotice(texts.too_long);
      break;
    }
    case "rate_limited":
    case "temporarily_unavailable": {
      showNotice(frame.code === "rate_limited" ? texts.rate_limited : frame.message || texts.reconnecting);
      const wait = Math.max(1, Number(frame.retry_after) || 5) * 1000;
      setTimeout(resendPending, wait);
      break;
    }
    case "too_many_windows":
    case "busy_network":
      state.refusal = frame.message || texts.reconnecting;
      setConnection(state.refusal);
      break;
    case "conversation_closed":
      if (state.store.phase === "active") showEnded();
      else showLeft();
      break;
    case "not_allowed":
      showGone();
      break;
    default:
      break;
  }
}
