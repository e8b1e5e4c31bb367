// The counsellor's chat console: the waiting list on the left, the chats I hold on the
// right (tabs on narrow screens, columns on wide ones). Protocol: docs/chat-protocol.md.

import {
  ChatSocket,
  MessageLog,
  bindCounter,
  fill,
  readTexts,
  typingDisplay,
  typingNotifier,
} from "./chat-socket.js";

// Other console modules (notes, canned replies, outcome, triage, transfer …) plug in through
// DOM events on `document`, so this file does not have to know them:
//   "console:frame"      detail = every frame received from the server (after handling here)
//   "console:panel"      detail = {id, el, data}  a chat panel was created
//   "console:ended"      detail = {id, el, status} a chat in a panel ended
//   "console:queue-item" detail = {li, item}     a waiting-list row was (re)rendered
// and they send frames by dispatching "console:send" with the frame as detail.
function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, { detail }));
}

const texts = readTexts("console-texts");
const $ = (id) => document.getElementById(id);
const app = $("console-app");
const queueList = $("queue-list");
const tabs = $("chat-tabs");
const panelsBox = $("chat-panels");
const baseTitle = document.title;
const wide = window.matchMedia("(min-width: 80rem)");
const HEARTBEAT_MS = 10000;
const MAX_BODY = 4000;

const panels = new Map(); // conversation id -> Panel
let current = null; // the conversation id shown on narrow screens
let waiting = [];
let knownWaiting = null; // ids seen in the previous queue frame (null before the first)
let knownFlagged = new Set(); // flagged ids seen in the previous queue frame
let socket = null;
let audio = null;

function say(text) {
  const node = $("console-announce");
  node.textContent = "";
  // A fresh text node each time, so the same words are read again.
  setTimeout(() => {
    node.textContent = text;
  }, 50);
}

function setConnection(text) {
  for (const node of app.querySelectorAll("[data-connection]")) {
    node.textContent = text;
    node.hidden = !text;
  }
}

function describe(item) {
  const who = texts.who[item.who] || item.who || "";
  const age = item.age_band ? texts.age_bands[item.age_band] || item.age_band : "";
  const topic = texts.topics[item.topic] || item.topic || "";
  return [who, age, topic].filter(Boolean).join(" · ");
}

function minutesSince(iso) {
  const start = new Date(iso).getTime();
  if (Number.isNaN(start)) return 0;
  return Math.max(0, Math.floor((Date.now() - start) / 60000));
}

function waitText(iso) {
  const minutes = minutesSince(iso);
  if (minutes < 1) return texts.waiting_now;
  if (minutes < 60) return fill(texts.waiting_min, { n: minutes });
  return fill(texts.waiting_hours, { h: Math.floor(minutes / 60), n: minutes % 60 });
}

// --- The waiting list -------------------------------------------------------------------

// Browsers only allow sound after the counsellor has clicked or typed on the page.
let mayPlay = false;
for (const kind of ["pointerdown", "keydown"]) {
  document.addEventListener(kind, () => {
    mayPlay = true;
  }, { once: true, capture: true });
}

// Sound is opt-in (off unless the counsellor turned it on here before).
const SOUND_KEY = "clb-console-sound";
try {
  $("sound").checked = localStorage.getItem(SOUND_KEY) === "on";
} catch (_) {
  // Storage blocked: the box stays off.
}
$("sound").addEventListener("change", () => {
  try {
    localStorage.setItem(SOUND_KEY, $("sound").checked ? "on" : "off");
  } catch (_) {
    // Not remembered, but it works for this visit.
  }
});

function beep() {
  if (!$("sound").checked || !mayPlay) return;
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 660;
    volume.gain.setValueAtTime(0.0001, audio.currentTime);
    volume.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.4);
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.45);
  } catch (_) {
    // No sound possible (autoplay rules): the title and the list still show it.
  }
}

function updateTitle() {
  const flagged = waiting.filter((item) => item.flagged).length;
  if (!waiting.length) document.title = baseTitle;
  else if (flagged) document.title = `${fill(texts.title_flagged, { n: waiting.length, f: flagged })} ${baseTitle}`;
  else document.title = `${fill(texts.title_waiting, { n: waiting.length })} ${baseTitle}`;
}

// A new waiting chat or a newly flagged one: a sound (opt-in), a spoken line, and an
// "console:attention" event (console-core.js shows a browser notification, also opt-in).
function attention(kind, items) {
  if (!items.length) return;
  const names = items.map((item) => item.nickname).join(", ");
  const text = fill(kind === "flagged" ? texts.new_flagged : texts.new_waiting, { name: names });
  beep();
  say(text);
  emit("console:attention", { kind, text, ids: items.map((item) => item.id) });
}

function renderQueue(items) {
  const previous = knownWaiting;
  waiting = items;
  knownWaiting = new Set(items.map((item) => item.id));
  const template = $("queue-item-template");
  const existing = new Map(
    Array.from(queueList.children, (li) => [li.dataset.id, li]),
  );
  const rows = items.map((item) => {
    let li = existing.get(item.id);
    if (!li) {
      li = template.content.firstElementChild.cloneNode(true);
      li.dataset.id = item.id;
    }
    li.querySelector(".queue-nick").textContent = item.nickname;
    li.querySelector(".queue-badge").hidden = !item.priority;
    li.querySelector(".queue-meta").textContent = describe(item);
    const subject = li.querySelector(".queue-subject");
    subject.textContent = item.subject ? `“${item.subject}”` : "";
    subject.hidden = !item.subject;
    li.dataset.since = item.created_at;
    li.dataset.connected = item.connected === false ? "no" : "yes";
    li.querySelector(".queue-claim-who").textContent = ` (${fill(texts.claim_for, { name: item.nickname })})`;
    renderWait(li);
    emit("console:queue-item", { li, item });
    return li;
  });
  // Keep the element that has focus in place; only move what changed.
  rows.forEach((li, index) => {
    if (queueList.children[index] !== li) queueList.insertBefore(li, queueList.children[index] || null);
  });
  for (const li of Array.from(queueList.children)) {
    if (!knownWaiting.has(li.dataset.id)) {
      const hadFocus = li.contains(document.activeElement);
      li.remove();
      if (hadFocus) focusQueue();
    }
  }
  $("queue-empty").hidden = items.length > 0;
  $("queue-count").textContent = String(items.length);
  updateTitle();
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

function renderWait(li) {
  const parts = [waitText(li.dataset.since)];
  if (li.dataset.connected === "no") parts.push(texts.not_connected);
  li.querySelector(".queue-wait").textContent = parts.join(" · ");
}

function focusQueue() {
  const next = queueList.querySelector(".queue-claim:not([disabled])");
  (next || $("queue-title")).focus();
}

function queueNotice(text) {
  const notice = $("queue-notice");
  notice.textContent = text;
  clearTimeout(queueNotice.timer);
  queueNotice.timer = setTimeout(() => {
    notice.textContent = "";
  }, 10000);
}

queueList.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest(".queue-claim") : null;
  if (!button) return;
  const li = button.closest(".queue-item");
  if (!socket || !socket.send({ type: "claim", conversation_id: li.dataset.id })) {
    queueNotice(texts.reconnecting);
    return;
  }
  button.disabled = true;
  li.dataset.claiming = "yes";
});

function claimFailed(conversationId, message) {
  queueNotice(message);
  removeQueueItem(conversationId);
}

function removeQueueItem(conversationId) {
  const li = queueList.querySelector(`[data-id="${CSS.escape(conversationId || "")}"]`);
  if (!li) return;
  const hadFocus = li.contains(document.activeElement);
  li.remove();
  waiting = waiting.filter((item) => item.id !== conversationId);
  $("queue-empty").hidden = waiting.length > 0;
  $("queue-count").textContent = String(waiting.length);
  updateTitle();
  if (hadFocus) focusQueue();
}

// --- The chats I hold -------------------------------------------------------------------

let panelCount = 0;

class Panel {
  constructor(data) {
    panelCount += 1;
    const key = `chat-${panelCount}`;
    this.id = data.id;
    this.data = data;
    this.ended = false;
    this.unread = 0;
    this.sentDelivered = 0;
    this.sentRead = 0;
    this.limit = Number(data.time_limit_minutes) || 0;

    this.el = $("panel-template").content.firstElementChild.cloneNode(true);
    this.el.id = `${key}-panel`;
    this.el.dataset.id = this.id;
    const title = this.el.querySelector(".panel-title");
    title.id = `${key}-title`;
    this.el.setAttribute("aria-labelledby", title.id);
    this.list = this.el.querySelector(".msg-list");
    this.scroller = this.el.querySelector(".msg-scroll");
    this.textarea = this.el.querySelector(".composer textarea");
    this.textarea.id = `${key}-message`;
    this.textarea.maxLength = MAX_BODY;
    const label = this.el.querySelector(".composer-label");
    label.htmlFor = this.textarea.id;
    const counter = this.el.querySelector(".composer-counter");
    counter.id = `${key}-counter`;
    this.textarea.setAttribute("aria-describedby", counter.id);

    this.tab = document.createElement("button");
    this.tab.type = "button";
    this.tab.className = "chat-tab";
    this.tab.id = `${key}-tab`;
    this.tab.setAttribute("role", "tab");
    this.tab.setAttribute("aria-controls", this.el.id);
    this.tabName = document.createElement("span");
    this.tabBadge = document.createElement("span");
    this.tabBadge.className = "count-badge";
    this.tabBadge.hidden = true;
    this.tabBadge.setAttribute("aria-hidden", "true");
    this.tabUnread = document.createElement("span");
    this.tabUnread.className = "visually-hidden";
    this.tabState = document.createElement("span");
    this.tab.append(this.tabName, this.tabState, this.tabBadge, this.tabUnread);

    this.log = new MessageLog({
      list: this.list,
      self: "counsellor",
      texts,
      onGap: () => socket && socket.send({ type: "open", conversation_id: this.id, last_seq: this.log.lastSeq }),
      onIncoming: () => this.scheduleReceipts(),
    });
    this.showTyping = typingDisplay(this.el.querySelector(".typing"), texts);
    this.typing = typingNotifier((active) => {
      if (!this.ended && socket) socket.send({ type: "typing", conversation_id: this.id, active });
    });
    this.updateCounter = bindCounter(
      this.textarea,
      counter,
      this.el.querySelector(".composer-live"),
      texts,
      MAX_BODY,
    );
    this.update(data);
    this.bind();
  }

  update(data) {
    this.data = { ...this.data, ...data };
    const name = this.data.nickname || texts.msg_other;
    this.el.querySelector(".panel-title").textContent = name;
    this.el.querySelector(".panel-meta").textContent = describe(this.data);
    const subject = this.el.querySelector(".panel-subject");
    subject.textContent = this.data.subject ? `“${this.data.subject}”` : "";
    subject.hidden = !this.data.subject;
    this.el.querySelector(".composer-label").textContent = fill(texts.message_to, { name });
    this.scroller.setAttribute("aria-label", fill(texts.messages_with, { name }));
    this.el.querySelector(".panel-end-question").textContent = fill(texts.end_question, { name });
    this.tabName.textContent = name;
    if (data.time_limit_minutes) this.limit = Number(data.time_limit_minutes);
    this.renderTime();
  }

  renderTime() {
    const node = this.el.querySelector(".panel-time");
    // The limit counts from the latest claim (after a cold transfer, from the new one).
    const started = this.data.talk_started_at || this.data.claimed_at;
    if (this.ended || !started || !this.limit) {
      node.textContent = "";
      return;
    }
    const minutes = minutesSince(started);
    node.textContent =
      minutes >= this.limit
        ? fill(texts.time_over, { limit: this.limit })
        : fill(texts.time_running, { n: minutes, limit: this.limit });
    node.classList.toggle("is-late", minutes >= this.limit - 5);
  }

  bind() {
    const form = this.el.querySelector(".composer");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendMessage();
      this.textarea.focus();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      this.sendMessage();
    });
    this.textarea.addEventListener("input", () =>
      this.typing.input(this.textarea.value.trim() !== ""),
    );
    this.textarea.addEventListener("focus", () => this.markSeen());
    this.el.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("[data-action]") : null;
      if (!button) return;
      this.action(button.dataset.action);
    });
    this.tab.addEventListener("click", () => select(this.id, true));
  }

  action(name) {
    const ask = this.el.querySelector("[data-ask]");
    const confirm = this.el.querySelector("[data-confirm-panel]");
    switch (name) {
      case "ask-end":
        ask.hidden = true;
        confirm.hidden = false;
        confirm.querySelector('[data-action="cancel-confirm"]').focus();
        break;
      case "cancel-confirm":
        confirm.hidden = true;
        ask.hidden = false;
        ask.querySelector('[data-action="ask-end"]').focus();
        break;
      case "end":
        confirm.hidden = true;
        ask.hidden = false;
        if (socket && socket.send({ type: "end", conversation_id: this.id })) {
          for (const button of ask.querySelectorAll("button")) button.disabled = true;
        } else {
          this.notice(texts.reconnecting);
        }
        break;
      case "extend":
        if (socket && socket.send({ type: "extend", conversation_id: this.id, minutes: 15 })) {
          this.limit += 15;
          this.renderTime();
          this.notice(texts.extended);
        } else {
          this.notice(texts.reconnecting);
        }
        break;
      case "close":
        removePanel(this.id);
        break;
      default:
        break;
    }
  }

  notice(text) {
    const node = this.el.querySelector(".panel-notice");
    node.textContent = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      node.textContent = "";
    }, 8000);
  }

  sendMessage() {
    if (this.ended) return;
    const body = this.textarea.value.trim();
    if (!body) return;
    if (body.length > MAX_BODY) {
      this.notice(texts.too_long);
      return;
    }
    const frame = this.log.addOwn(body);
    if (socket) socket.send({ type: "send", conversation_id: this.id, ...frame });
    this.textarea.value = "";
    this.updateCounter();
    this.typing.stop();
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  resend() {
    for (const item of this.log.unacked()) {
      socket.send({ type: "send", conversation_id: this.id, ...item });
    }
  }

  message(frame) {
    const list = this.scroller;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const result = this.log.message(frame);
    if (result === "dup") return;
    if (frame.sender === "visitor") {
      this.showTyping(false);
      if (!this.isSeen()) {
        this.unread += 1;
        this.renderBadge();
      }
    }
    if (atBottom || frame.sender === "counsellor") list.scrollTop = list.scrollHeight;
  }

  isShown() {
    return wide.matches || current === this.id;
  }

  isSeen() {
    return this.isShown() && document.visibilityState === "visible";
  }

  markSeen() {
    if (!this.isSeen()) return;
    this.unread = 0;
    this.renderBadge();
    this.flushReceipts();
  }

  renderBadge() {
    const show = this.unread > 0 && !this.ended;
    this.tabBadge.textContent = String(this.unread);
    this.tabBadge.hidden = !show;
    this.tabUnread.textContent = !show
      ? ""
      : ` (${this.unread === 1 ? texts.unread_one : fill(texts.unread_many, { n: this.unread })})`;
  }

  scheduleReceipts() {
    clearTimeout(this.receiptTimer);
    this.receiptTimer = setTimeout(() => this.flushReceipts(), 100);
  }

  flushReceipts() {
    const top = this.log.highestIncoming;
    if (!socket || !top) return;
    const base = { type: "receipt", conversation_id: this.id };
    // "read" implies "delivered" on the server: one receipt when the message is on screen.
    if (this.isSeen() && top > this.sentRead) {
      if (socket.send({ ...base, kind: "read", seq: top })) {
        this.sentRead = top;
        this.sentDelivered = Math.max(this.sentDelivered, top);
      }
    } else if (top > this.sentDelivered && socket.send({ ...base, kind: "delivered", seq: top })) {
      this.sentDelivered = top;
    }
  }

  end(status) {
    if (this.ended) return;
    this.ended = true;
    const hadFocus = this.el.contains(document.activeElement);
    this.typing.stop();
    this.showTyping(false);
    this.el.classList.add("is-ended");
    this.el.querySelector(".composer").hidden = true;
    this.el.querySelector(".panel-actions").hidden = true;
    const box = this.el.querySelector(".panel-ended");
    box.querySelector(".panel-ended-text").textContent =
      status === "abandoned" ? texts.abandoned : texts.ended;
    box.hidden = false;
    this.tab.classList.add("is-ended");
    this.tabState.textContent = ` (${texts.tab_ended})`;
    this.renderBadge();
    this.renderTime();
    if (hadFocus) box.querySelector("button").focus();
    say(`${this.data.nickname}: ${box.querySelector(".panel-ended-text").textContent}`);
    emit("console:ended", { id: this.id, el: this.el, status });
  }
}

function addPanel(data, focus) {
  let panel = panels.get(data.id);
  if (panel) {
    panel.update(data);
  } else {
    panel = new Panel(data);
    panels.set(data.id, panel);
    tabs.append(panel.tab);
    panelsBox.append(panel.el);
    emit("console:panel", { id: data.id, el: panel.el, data });
  }
  if (data.status && data.status !== "active" && data.status !== "waiting") panel.end(data.status);
  $("chats-empty").hidden = true;
  if (focus || !current || !panels.has(current)) select(data.id, focus);
  else renderTabs();
  return panel;
}

function removePanel(id) {
  const panel = panels.get(id);
  if (!panel) return;
  panel.typing.stop();
  panel.el.remove();
  panel.tab.remove();
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

function renderTabs() {
  for (const panel of panels.values()) {
    const selected = panel.id === current;
    panel.tab.setAttribute("aria-selected", selected ? "true" : "false");
    panel.tab.tabIndex = selected ? 0 : -1;
    panel.el.classList.toggle("is-current", selected);
  }
  tabs.hidden = panels.size === 0;
}

function select(id, focus) {
  current = id;
  renderTabs();
  const panel = panels.get(id);
  if (!panel) return;
  panel.markSeen();
  if (focus) {
    if (panel.ended) panel.el.querySelector(".panel-title").focus();
    else panel.textarea.focus();
  }
}

tabs.addEventListener("keydown", (event) => {
  const ids = Array.from(panels.keys());
  const index = ids.indexOf(current);
  let next = null;
  if (event.key === "ArrowRight") next = ids[(index + 1) % ids.length];
  else if (event.key === "ArrowLeft") next = ids[(index - 1 + ids.length) % ids.length];
  else if (event.key === "Home") next = ids[0];
  else if (event.key === "End") next = ids[ids.length - 1];
  if (next === null || next === undefined) return;
  event.preventDefault();
  select(next, false);
  panels.get(next).tab.focus();
});

wide.addEventListener("change", () => {
  for (const panel of panels.values()) panel.markSeen();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  for (const panel of panels.values()) panel.markSeen();
});

// --- The socket -------------------------------------------------------------------------

function onFrame(frame) {
  const panel = frame.conversation_id ? panels.get(frame.conversation_id) : null;
  switch (frame.type) {
    case "welcome": {
      const held = new Set();
      for (const conversation of frame.conversations || []) {
        held.add(conversation.id);
        addPanel(conversation, false);
      }
      // Chats that ended while the connection was down.
      for (const other of panels.values()) {
        if (!held.has(other.id) && !other.ended) other.end("ended");
      }
      break;
    }
    case "queue":
      if (Array.isArray(frame.waiting)) renderQueue(frame.waiting);
      break;
    case "claimed": {
      const data = frame.conversation;
      removeQueueItem(data.id);
      addPanel(data, true);
      say(fill(texts.claimed, { name: data.nickname }));
      break;
    }
    case "message":
      if (panel) panel.message(frame);
      break;
    case "ack":
      if (panel) panel.log.ack(frame);
      break;
    case "typing":
      if (panel && frame.sender === "visitor") panel.showTyping(Boolean(frame.active), panel.data.nickname);
      break;
    case "receipt":
      if (panel) panel.log.receipt(frame);
      break;
    case "status":
      if (panel && (frame.status === "ended" || frame.status === "abandoned")) panel.end(frame.status);
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
  if (socket && event.detail && typeof event.detail.type === "string") socket.send(event.detail);
});

function onError(frame, panel) {
  switch (frame.code) {
    case "already_taken":
      claimFailed(frame.conversation_id, texts.already_taken);
      break;
    case "not_on_duty":
    case "queue_empty":
    case "over_capacity": {
      queueNotice(frame.message || texts.error_generic);
      const li = queueList.querySelector(`[data-id="${CSS.escape(frame.conversation_id || "")}"]`);
      if (li) li.querySelector(".queue-claim").disabled = false;
      break;
    }
    case "conversation_closed":
      if (panel) panel.end("ended");
      break;
    case "not_allowed": {
      if (panel) {
        panel.end("ended");
        break;
      }
      // Only a refused claim concerns the waiting list. A late receipt for a chat that was
      // just handed back to the queue is refused too, and must not hide that chat here.
      const li = queueList.querySelector(`[data-id="${CSS.escape(frame.conversation_id || "")}"]`);
      if (li && li.dataset.claiming === "yes") claimFailed(frame.conversation_id, frame.message || "");
      break;
    }
    case "too_long":
      if (panel) {
        const last = panel.log.latestPending();
        if (last) panel.log.fail(last);
        panel.notice(texts.too_long);
      }
      break;
    case "rate_limited":
      if (panel) {
        panel.notice(frame.message || texts.error_generic);
        setTimeout(() => socket && panel.resend(), Math.max(1, Number(frame.retry_after) || 5) * 1000);
      }
      break;
    default:
      break;
  }
}

let reconnectedTimer = null;

function onUp() {
  const wasDown = app.querySelector("[data-connection]:not([hidden])");
  clearTimeout(reconnectedTimer);
  if (wasDown) {
    setConnection(texts.reconnected);
    reconnectedTimer = setTimeout(() => setConnection(""), 3000);
  }
  socket.send({ type: "heartbeat" });
  for (const panel of panels.values()) {
    if (panel.ended) continue;
    socket.send({ type: "open", conversation_id: panel.id, last_seq: panel.log.lastSeq });
    panel.resend();
    panel.flushReceipts();
  }
}

function onDown() {
  clearTimeout(reconnectedTimer);
  setConnection(texts.reconnecting);
  for (const li of queueList.querySelectorAll(".queue-claim[disabled]")) li.disabled = false;
}

function onFinal() {
  setConnection("");
  clearInterval(heartbeat);
  $("signed-out").hidden = false;
  for (const panel of panels.values()) {
    panel.el.querySelector(".composer").hidden = true;
  }
  for (const button of queueList.querySelectorAll(".queue-claim")) button.disabled = true;
}

socket = new ChatSocket({
  path: "/ws/console",
  hello: () => ({ type: "hello", v: 1 }),
  onFrame,
  onUp,
  onDown,
  onFinal,
});
socket.start();

const heartbeat = setInterval(() => socket.send({ type: "heartbeat" }), HEARTBEAT_MS);
setInterval(() => {
  for (const li of queueList.children) renderWait(li);
  for (const panel of panels.values()) panel.renderTime();
}, 15000);
renderTabs();

// --- For the other console modules (console-core.js: keys, transfer, duty) -------------

export function currentChatId() {
  return current;
}

/** Show the next (offset 1) or previous (-1) of my chats and put the focus in it. */
export function switchChat(offset) {
  const ids = Array.from(panels.keys());
  if (!ids.length) return;
  const index = ids.indexOf(current);
  const next = ids[(index + offset + ids.length) % ids.length];
  select(next, true);
}

/** Ask to end the current chat (the counsellor still confirms). */
export function askEnd(id) {
  const panel = panels.get(id);
  if (panel && !panel.ended) panel.action("ask-end");
}

export function closePanel(id) {
  removePanel(id);
}

export function isOpen(id) {
  const panel = panels.get(id);
  return Boolean(panel && !panel.ended);
}

export function nicknameOf(id) {
  const panel = panels.get(id);
  return panel ? panel.data.nickname : "";
}

export { say, queueNotice };
