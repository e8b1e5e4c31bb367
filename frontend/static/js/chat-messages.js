// @ts-check
// The conversation on the visitor's page: the message log, writing and sending, the
// typing indicator, the characters-left counter and the receipts the visitor sends.

import { bindCounter, typingDisplay, typingNotifier } from "./composer.js";
import { byId as $ } from "./dom.js";
import { MessageLog } from "./message-log.js";
import { ReceiptSender } from "./read-receipts.js";
import {
  baseTitle,
  composer,
  maxBody,
  messages,
  scroller,
  state,
  textarea,
  texts,
} from "./chat-page.js";

export const log = new MessageLog({
  list: messages,
  self: "visitor",
  texts,
  onGap: () => state.socket && state.socket.reconnectNow(),
  onIncoming: () => receipts.schedule(),
});

// Read while the chat screen is on a page the visitor looks at; delivered otherwise.
export const receipts = new ReceiptSender({
  socket: () => state.socket,
  highestIncoming: () => log.highestIncoming,
  isSeen: () => document.visibilityState === "visible" && state.screen === "chat",
});

export const showTyping = typingDisplay($("typing"), texts);
export const typing = typingNotifier((active) => {
  if (state.socket) state.socket.send({ type: "typing", active });
});
export const updateCounter = bindCounter(
  textarea,
  $("message-counter"),
  $("message-counter-live"),
  texts,
  maxBody,
);

/** @type {number | undefined} */
let noticeTimer;

/** @param {string} text */
export function showNotice(text) {
  const notice = $("chat-notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, 8000);
}

export function nearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

export function scrollToEnd() {
  scroller.scrollTop = scroller.scrollHeight;
}

export function resendPending() {
  if (!state.socket) return;
  for (const item of log.unacked()) state.socket.send({ type: "send", ...item });
}

export function stopSocket() {
  if (state.socket) {
    state.socket.stop();
    state.socket = null;
  }
  receipts.cancel();
}

function sendMessage() {
  const body = textarea.value.trim();
  if (!body) return;
  if (body.length > maxBody) {
    showNotice(texts.too_long);
    return;
  }
  const frame = log.addOwn(body);
  if (state.socket) state.socket.send({ type: "send", ...frame });
  textarea.value = "";
  updateCounter();
  typing.stop();
  scrollToEnd();
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
  textarea.focus();
});

textarea.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  sendMessage();
});

textarea.addEventListener("input", () => typing.input(textarea.value.trim() !== ""));

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  if (document.title !== baseTitle && !state.exiting) document.title = baseTitle;
  receipts.flush();
});
