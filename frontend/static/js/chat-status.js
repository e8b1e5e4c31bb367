// @ts-check
// What the conversation's status means on the visitor's page: waiting in the queue (also
// when sent back to it), chatting with a counsellor, ended, left or gone.

import { byId as $, one } from "./dom.js";
import { app, baseTitle, composer, forget, save, state, textarea, texts } from "./chat-page.js";
import {
  log,
  receipts,
  scrollToEnd,
  showTyping,
  stopSocket,
  typing,
  updateCounter,
} from "./chat-messages.js";
import { setConnection, show } from "./chat-screens.js";
import { fill } from "./page-texts.js";

/**
 * @param {string} status
 * @param {string} [counsellor]
 * @param {boolean} [requeued]
 */
export function applyStatus(status, counsellor, requeued = false) {
  if (status === "waiting") {
    // From a running chat back to the queue: the visitor keeps seeing the conversation.
    if (requeued || state.screen === "chat") showRequeued(state.screen !== "chat");
    else {
      save({ phase: "waiting" });
      if (state.screen !== "queue") show("queue");
    }
  } else if (status === "active") {
    if (counsellor) setCounsellor(counsellor);
    $("chat-requeued").hidden = true;
    save({ phase: "active", counsellor: state.counsellor, requeued: false });
    if (state.screen !== "chat") showChat(true);
  } else if (status === "ended") {
    showEnded();
  } else if (status === "abandoned") {
    if (state.store.phase === "active") showEnded();
    else showLeft();
  }
}

/** @param {boolean} focus */
export function showRequeued(focus) {
  save({ phase: "waiting", requeued: true });
  setCounsellor("");
  showTyping(false);
  $("chat-requeued").hidden = false;
  if (state.screen !== "chat") show("chat", { focus });
}

/** @param {string} name */
export function setCounsellor(name) {
  state.counsellor = name || "";
  $("chat-title").textContent = state.counsellor
    ? fill(texts.chat_with, { name: state.counsellor })
    : texts.chat_with_clb;
  $("message-label").textContent = fill(texts.message_to, {
    name: state.counsellor || texts.msg_other,
  });
}

/** @param {boolean} announce */
export function showChat(announce) {
  show("chat");
  if (announce && state.counsellor) {
    $("chat-announce").textContent = fill(texts.counsellor_joined, { name: state.counsellor });
  }
  if (document.visibilityState !== "visible") {
    document.title = `${texts.your_turn_title} · ${baseTitle}`;
  }
  scrollToEnd();
  receipts.flush();
}

export function showEnded() {
  stopSocket();
  typing.stop();
  showTyping(false);
  setConnection("");
  if (state.store.conversationId) save({ phase: "ended" });
  if (state.screen === "chat" && !state.leaveWanted) {
    // The counsellor ended it: first let the visitor read the last messages.
    const hadFocus = one(app, '[data-screen="chat"]').contains(document.activeElement);
    composer.hidden = true;
    one(app, '[data-confirm="end"]').hidden = true;
    $("chat-ended").hidden = false;
    $("chat-announce").textContent = texts.ended;
    if (hadFocus) one(app, '[data-action="to-rating"]').focus();
    return;
  }
  if (state.screen !== "ended") show("ended");
}

/** A fresh conversation view: empty log, composer back, no leftover notices. */
export function resetConversationView() {
  log.clear();
  composer.hidden = false;
  one(app, '[data-confirm="end"]').hidden = false;
  $("chat-ended").hidden = true;
  $("chat-announce").textContent = "";
  receipts.reset();
  state.leaveWanted = false;
  $("queue-position").textContent = "";
  $("queue-estimate").textContent = "";
  $("requeue-position").textContent = "";
  $("requeue-estimate").textContent = "";
  $("chat-requeued").hidden = true;
  $("chat-notice").hidden = true;
  setConnection("");
  showTyping(false);
  textarea.value = "";
  updateCounter();
}

/** Forget the conversation everywhere: storage, the socket and what the page shows. */
export function wipeConversation() {
  stopSocket();
  forget();
  resetConversationView();
  setCounsellor("");
}

export function showLeft() {
  wipeConversation();
  show("left");
}

/** @param {string} [message] */
export function showGone(message) {
  wipeConversation();
  $("gone-message").textContent = message || texts.gone;
  show("gone");
}

/**
 * @param {unknown} position
 * @param {{minutes?: unknown, more_than?: boolean} | null | undefined} estimate
 */
export function updateQueue(position, estimate) {
  const n = Number(position) || 1;
  const place =
    n <= 1 ? texts.queue_next : n === 2 ? texts.queue_one : fill(texts.queue_many, { n: n - 1 });
  let wait = texts.wait_unknown;
  if (estimate && Number.isFinite(Number(estimate.minutes))) {
    wait = fill(estimate.more_than ? texts.wait_more : texts.wait_about, {
      minutes: estimate.minutes,
    });
  }
  // Only touch the live region when something changed: every change is read out.
  // The queue screen, or the box in the chat of a visitor sent back to the queue.
  for (const [positionId, estimateId] of [
    ["queue-position", "queue-estimate"],
    ["requeue-position", "requeue-estimate"],
  ]) {
    if ($(positionId).textContent !== place) $(positionId).textContent = place;
    if ($(estimateId).textContent !== wait) $(estimateId).textContent = wait;
  }
}
