// The visitor's chat page: opening hours -> form -> queue -> chat -> rating -> done.
// One screen is shown at a time. Only sessionStorage holds anything (the visitor token,
// the conversation id, how far the page got); "Klaar" and the quick exit wipe it.

import {
  ChatSocket,
  MessageLog,
  bindCounter,
  fill,
  pageLanguage,
  readTexts,
  setChildren,
  typingDisplay,
  typingNotifier,
} from "./chat-socket.js";

const STORE_KEY = "clb-chat";
const ZONE = "Europe/Brussels";
const texts = readTexts("chat-texts");
const app = document.getElementById("chat-app");
const lang = pageLanguage();
const intlLang = lang.startsWith("en") ? "en-GB" : lang;
const dutch = lang.startsWith("nl");
const maxBody = Number(app.dataset.maxBody) || 4000;
const baseTitle = document.title;

const $ = (id) => document.getElementById(id);
const form = $("start-form");
const messages = $("messages");
const scroller = $("messages-box");
const composer = $("composer");
const textarea = $("message");
const ratingForm = $("rating-form");

const state = {
  store: {},
  screen: "loading",
  hours: null,
  socket: null,
  counsellor: "",
  starting: false,
  leaveWanted: false,
  exiting: false,
  sentDelivered: 0,
  sentRead: 0,
  receiptTimer: null,
  reconnectNoticeTimer: null,
  connection: "",
};

// --- Storage: sessionStorage only, and nothing once the visitor is leaving. -------------

function readStore() {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    return value && typeof value === "object" ? value : {};
  } catch (_) {
    return {};
  }
}

function save(patch) {
  state.store = { ...state.store, ...patch };
  if (state.exiting || document.body.hidden) return;
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(state.store));
  } catch (_) {
    // Storage off (private mode on some phones): the chat still works until a refresh.
  }
}

function forget() {
  state.store = {};
  try {
    sessionStorage.removeItem(STORE_KEY);
  } catch (_) {
    // Nothing was stored.
  }
}

// The quick exit (quick-exit.js) clears sessionStorage; make sure nothing writes it again.
function leavingNow() {
  state.exiting = true;
  if (state.socket) state.socket.stop();
}
document.addEventListener(
  "click",
  (event) => {
    if (event.target instanceof Element && event.target.closest("[data-quick-exit]")) leavingNow();
  },
  true,
);
document.addEventListener(
  "keydown",
  (event) => {
    if (event.key === "Escape" && !event.isComposing) leavingNow();
  },
  true,
);

// --- Screens ----------------------------------------------------------------------------

function show(name, { focus = true } = {}) {
  for (const screen of app.querySelectorAll(".chat-screen")) {
    screen.hidden = screen.dataset.screen !== name;
  }
  state.screen = name;
  for (const box of app.querySelectorAll(".confirm-box")) closeConfirm(box, false);
  setConnection(state.connection);
  if (focus) {
    const heading = app.querySelector(`[data-screen="${name}"] h1`);
    if (heading) heading.focus();
  }
}

// One "Verbinding herstellen…" line, in whichever screen is shown.
function setConnection(text) {
  state.connection = text;
  for (const node of app.querySelectorAll("[data-connection]")) {
    const here = !node.closest(".chat-screen").hidden;
    node.textContent = here ? text : "";
    node.hidden = !(here && text);
  }
}

// --- Dates and times, always in Brussels time, in the page's language. ------------------

function brusselsDay(date) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(date);
}

function dayAfter(isoDay) {
  const [y, m, d] = isoDay.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

function clock(hours, minutes) {
  return dutch ? `${hours}.${minutes}` : `${hours}:${minutes}`;
}

function clockOf(date) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type) => (parts.find((p) => p.type === type) || { value: "00" }).value;
  return clock(part("hour"), part("minute"));
}

function timeText(date) {
  return fill(texts.time_suffix, { time: clockOf(date) });
}

function whenText(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = brusselsDay(new Date());
  const day = brusselsDay(date);
  if (day === today) return fill(texts.when_today, { time: timeText(date) });
  if (day === dayAfter(today)) return fill(texts.when_tomorrow, { time: timeText(date) });
  const dayName = new Intl.DateTimeFormat(intlLang, {
    timeZone: ZONE,
    weekday: "long",
    day: "numeric",
    month: "long",
  }).format(date);
  return fill(texts.when_day, { day: dayName, time: timeText(date) });
}

function weekdayName(weekday) {
  // 1 January 2024 was a Monday; weekday 0 is Monday.
  const date = new Date(Date.UTC(2024, 0, 1 + Number(weekday), 12));
  return new Intl.DateTimeFormat(intlLang, { timeZone: "UTC", weekday: "long" }).format(date);
}

function hhmm(value) {
  const [h, m] = String(value || "").split(":");
  return clock((h || "00").padStart(2, "0"), (m || "00").padStart(2, "0"));
}

// --- Opening hours ----------------------------------------------------------------------

async function fetchHours() {
  try {
    const response = await fetch("/api/chat/opening-hours", {
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    return response.ok ? await response.json() : null;
  } catch (_) {
    return null;
  }
}

function showClosed(hours, focus) {
  const next = $("closed-next");
  const when = hours && hours.next_opening ? whenText(hours.next_opening) : "";
  next.textContent = when ? fill(texts.next_opening, { when }) : next.dataset.whenUnknown;
  $("closed-intake").hidden = !(hours && hours.open && !hours.intake_open);

  const today = brusselsDay(new Date());
  const note = $("closed-note");
  const exception = ((hours && hours.exceptions) || []).find(
    (item) => item.date === today && item.note,
  );
  note.textContent = exception ? exception.note : "";
  note.hidden = !exception;

  const weekly = (hours && hours.weekly) || [];
  const list = $("closed-weekly");
  const periods = [...weekly].sort(
    (a, b) => a.weekday - b.weekday || String(a.opens_at).localeCompare(b.opens_at),
  );
  setChildren(
    list,
    periods.map((period) => {
      const li = document.createElement("li");
      li.textContent = fill(texts.period, {
        day: weekdayName(period.weekday),
        from: hhmm(period.opens_at),
        to: hhmm(period.closes_at),
      });
      return li;
    }),
  );
  $("closed-hours").hidden = weekly.length === 0;
  show("closed", { focus });
}

function showForm(hours, focus) {
  const until = hours && (hours.intake_closes_at || hours.closes_at);
  const line = $("open-until");
  line.textContent = until ? fill(texts.open_until, { time: timeText(new Date(until)) }) : "";
  line.hidden = !until;
  show("form", { focus });
}

async function begin(focus) {
  state.store = readStore();
  if (state.store.conversationId) {
    resume();
    return;
  }
  show("loading", { focus: false });
  const hours = await fetchHours();
  state.hours = hours;
  if (hours && (!hours.open || !hours.intake_open)) showClosed(hours, focus);
  else showForm(hours, focus);
}

// --- The form ---------------------------------------------------------------------------

const FIELD_ERRORS = {
  nickname: "error_nickname",
  who: "error_who",
  topic: "error_topic",
  consent: "error_consent",
};

function fieldTarget(field) {
  return field === "who" ? form.querySelector('input[name="who"]') : $(field);
}

function clearErrors() {
  $("form-errors").hidden = true;
  setChildren($("form-error-list"), []);
  for (const node of form.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function showErrors(errors) {
  clearErrors();
  const list = $("form-error-list");
  for (const { field, message } of errors) {
    const item = document.createElement("li");
    const target = field ? fieldTarget(field) : null;
    if (target) {
      const link = document.createElement("a");
      link.href = `#${target.id}`;
      link.textContent = message;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        target.focus();
      });
      item.append(link);
      const inline = $(`${field}-error`);
      if (inline) {
        inline.textContent = message;
        inline.hidden = false;
      }
      if (field === "who") {
        for (const radio of form.querySelectorAll('input[name="who"]')) {
          radio.setAttribute("aria-invalid", "true");
        }
      } else {
        target.setAttribute("aria-invalid", "true");
      }
    } else {
      item.textContent = message;
    }
    list.append(item);
  }
  const summary = $("form-errors");
  summary.hidden = false;
  summary.focus();
}

function readForm() {
  const data = new FormData(form);
  const value = (name) => String(data.get(name) || "").trim();
  const values = {
    nickname: value("nickname"),
    who: value("who"),
    age_band: value("age_band") || null,
    topic: value("topic"),
    subject: value("subject") || null,
    consent: $("consent").checked,
  };
  const errors = [];
  if (!values.nickname) errors.push({ field: "nickname", message: texts.error_nickname });
  if (!values.who) errors.push({ field: "who", message: texts.error_who });
  if (!values.topic) errors.push({ field: "topic", message: texts.error_topic });
  if (!values.consent) errors.push({ field: "consent", message: texts.error_consent });
  return { values, errors };
}

async function apiError(response) {
  try {
    const body = await response.json();
    if (body && body.error) return { status: response.status, ...body.error };
  } catch (_) {
    // Not JSON.
  }
  return { status: response.status, code: "error", message: texts.error_generic };
}

function bearer() {
  return { Authorization: `Bearer ${state.store.token}`, Accept: "application/json" };
}

async function ensureToken() {
  if (state.store.token) return;
  const response = await fetch("/api/visitors", {
    method: "POST",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw await apiError(response);
  const body = await response.json();
  save({ token: body.token });
}

async function postConversation(values, retried = false) {
  await ensureToken();
  const response = await fetch("/api/chat/conversations", {
    method: "POST",
    headers: { ...bearer(), "Content-Type": "application/json" },
    body: JSON.stringify(values),
  });
  if (response.status === 401 && !retried) {
    // The token expired (or the server forgot it): get a new one, once.
    save({ token: null });
    return postConversation(values, true);
  }
  if (!response.ok) throw await apiError(response);
  return response.json();
}

function handleStartError(error) {
  if (error instanceof TypeError) {
    showErrors([{ message: texts.error_network }]);
    return;
  }
  if (error.code === "chat_closed") {
    const next = error.details && error.details.next_opening;
    showClosed({ ...(state.hours || {}), open: false, intake_open: false, next_opening: next }, true);
    return;
  }
  if (error.code === "queue_full") {
    show("busy");
    return;
  }
  if (error.code === "validation_failed") {
    const fields = (error.details && error.details.fields) || [];
    const errors = [];
    for (const { field } of fields) {
      const name = String(field || "").split(".").pop();
      const key = FIELD_ERRORS[name];
      if (key && !errors.some((e) => e.field === name)) {
        errors.push({ field: name, message: texts[key] });
      }
    }
    showErrors(errors.length ? errors : [{ message: error.message || texts.error_generic }]);
    return;
  }
  showErrors([{ message: error.message || texts.error_generic }]);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.starting) return;
  const { values, errors } = readForm();
  if (errors.length) {
    showErrors(errors);
    return;
  }
  clearErrors();
  state.starting = true;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const body = await postConversation(values);
    save({ conversationId: body.conversation_id, phase: "waiting", lastSeq: 0 });
    enterConversation(body.status === "active" ? "active" : "waiting");
  } catch (error) {
    handleStartError(error);
  } finally {
    state.starting = false;
    button.disabled = false;
  }
});

// --- The conversation -------------------------------------------------------------------

const log = new MessageLog({
  list: messages,
  self: "visitor",
  texts,
  onGap: () => state.socket && state.socket.reconnectNow(),
  onIncoming: () => scheduleReceipts(),
});
const showTyping = typingDisplay($("typing"), texts);
const typing = typingNotifier((active) => {
  if (state.socket) state.socket.send({ type: "typing", active });
});
const updateCounter = bindCounter(
  textarea,
  $("message-counter"),
  $("message-counter-live"),
  texts,
  maxBody,
);

function enterConversation(phase) {
  resetConversationView();
  if (phase === "active") showChat(true);
  else show("queue");
  startSocket();
}

function resume() {
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

function resetConversationView() {
  log.clear();
  composer.hidden = false;
  app.querySelector('[data-confirm="end"]').hidden = false;
  $("chat-ended").hidden = true;
  $("chat-announce").textContent = "";
  state.sentDelivered = 0;
  state.sentRead = 0;
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

function startSocket() {
  if (state.socket) state.socket.stop();
  state.socket = new ChatSocket({
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
  const wasDown = state.connection === texts.reconnecting;
  clearTimeout(state.reconnectNoticeTimer);
  if (wasDown) {
    setConnection(texts.reconnected);
    state.reconnectNoticeTimer = setTimeout(() => setConnection(""), 3000);
  } else {
    setConnection("");
  }
  resendPending();
  if (state.leaveWanted) state.socket.send({ type: "leave" });
  flushReceipts();
}

function onDown() {
  clearTimeout(state.reconnectNoticeTimer);
  setConnection(texts.reconnecting);
  showTyping(false);
}

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

function resendPending() {
  if (!state.socket) return;
  for (const item of log.unacked()) state.socket.send({ type: "send", ...item });
}

function onFrame(frame) {
  switch (frame.type) {
    case "welcome": {
      const conversation = frame.conversation || {};
      const read = conversation.read_seq && Number(conversation.read_seq.counsellor);
      if (read) log.receipt({ by: "counsellor", kind: "read", seq: read });
      // Waiting after a first claim: sent back to the queue by a counsellor.
      const requeued = conversation.status === "waiting" && Boolean(conversation.claimed_at);
      if (conversation.status) applyStatus(conversation.status, conversation.counsellor, requeued);
      break;
    }
    case "queue":
      updateQueue(frame.position, frame.estimate);
      break;
    case "status":
      applyStatus(frame.status, frame.counsellor);
      break;
    case "message": {
      const atBottom = nearBottom();
      const result = log.message(frame);
      if (result !== "dup") {
        if (frame.sender === "counsellor") showTyping(false);
        if (atBottom || frame.sender === "visitor") scrollToEnd();
        save({ lastSeq: log.lastSeq });
      }
      break;
    }
    case "ack":
      log.ack(frame);
      save({ lastSeq: log.lastSeq });
      break;
    case "typing":
      if (frame.sender !== "visitor") showTyping(Boolean(frame.active), state.counsellor);
      break;
    case "receipt":
      log.receipt(frame);
      break;
    case "error":
      handleFrameError(frame);
      break;
    default:
      break;
  }
}

function applyStatus(status, counsellor, requeued = false) {
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

function showRequeued(focus) {
  save({ phase: "waiting", requeued: true });
  setCounsellor("");
  showTyping(false);
  $("chat-requeued").hidden = false;
  if (state.screen !== "chat") show("chat", { focus });
}

function setCounsellor(name) {
  state.counsellor = name || "";
  $("chat-title").textContent = state.counsellor
    ? fill(texts.chat_with, { name: state.counsellor })
    : texts.chat_with_clb;
  $("message-label").textContent = fill(texts.message_to, {
    name: state.counsellor || texts.msg_other,
  });
}

function showChat(announce) {
  show("chat");
  if (announce && state.counsellor) {
    $("chat-announce").textContent = fill(texts.counsellor_joined, { name: state.counsellor });
  }
  if (document.visibilityState !== "visible") {
    document.title = `${texts.your_turn_title} · ${baseTitle}`;
  }
  scrollToEnd();
  flushReceipts();
}

function stopSocket() {
  if (state.socket) {
    state.socket.stop();
    state.socket = null;
  }
  clearTimeout(state.receiptTimer);
}

function showEnded() {
  stopSocket();
  typing.stop();
  showTyping(false);
  setConnection("");
  if (state.store.conversationId) save({ phase: "ended" });
  if (state.screen === "chat" && !state.leaveWanted) {
    // The counsellor ended it: first let the visitor read the last messages.
    const hadFocus = app.querySelector('[data-screen="chat"]').contains(document.activeElement);
    composer.hidden = true;
    app.querySelector('[data-confirm="end"]').hidden = true;
    $("chat-ended").hidden = false;
    $("chat-announce").textContent = texts.ended;
    if (hadFocus) app.querySelector('[data-action="to-rating"]').focus();
    return;
  }
  if (state.screen !== "ended") show("ended");
}

/** Forget the conversation everywhere: storage, the socket and what the page shows. */
function wipeConversation() {
  stopSocket();
  forget();
  resetConversationView();
  setCounsellor("");
}

function showLeft() {
  wipeConversation();
  show("left");
}

function showGone(message) {
  wipeConversation();
  $("gone-message").textContent = message || texts.gone;
  show("gone");
}

function updateQueue(position, estimate) {
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

function showNotice(text) {
  const notice = $("chat-notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(showNotice.timer);
  showNotice.timer = setTimeout(() => {
    notice.hidden = true;
  }, 8000);
}

function handleFrameError(frame) {
  switch (frame.code) {
    case "too_long": {
      const last = log.latestPending();
      if (last) log.fail(last);
      showNotice(texts.too_long);
      break;
    }
    case "rate_limited": {
      showNotice(texts.rate_limited);
      const wait = Math.max(1, Number(frame.retry_after) || 5) * 1000;
      setTimeout(resendPending, wait);
      break;
    }
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

// --- Receipts: delivered for every message that arrives, read while the page is seen. ---

function scheduleReceipts() {
  clearTimeout(state.receiptTimer);
  state.receiptTimer = setTimeout(flushReceipts, 100);
}

function flushReceipts() {
  const socket = state.socket;
  const top = log.highestIncoming;
  if (!socket || !top) return;
  // "read" implies "delivered" on the server: one receipt when the message is on screen.
  const seen = document.visibilityState === "visible" && state.screen === "chat";
  if (seen && top > state.sentRead) {
    if (socket.send({ type: "receipt", kind: "read", seq: top })) {
      state.sentRead = top;
      state.sentDelivered = Math.max(state.sentDelivered, top);
    }
  } else if (top > state.sentDelivered && socket.send({ type: "receipt", kind: "delivered", seq: top })) {
    state.sentDelivered = top;
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  if (document.title !== baseTitle && !state.exiting) document.title = baseTitle;
  flushReceipts();
});

// --- Writing ----------------------------------------------------------------------------

function nearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function scrollToEnd() {
  scroller.scrollTop = scroller.scrollHeight;
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

// --- Buttons ----------------------------------------------------------------------------

function openConfirm(box) {
  box.querySelector('[data-action^="ask-"]').hidden = true;
  const panel = box.querySelector("[data-confirm-panel]");
  panel.hidden = false;
  panel.querySelector('[data-action="cancel-confirm"]').focus();
}

function closeConfirm(box, focus = true) {
  const ask = box.querySelector('[data-action^="ask-"]');
  ask.hidden = false;
  ask.disabled = false;
  box.querySelector("[data-confirm-panel]").hidden = true;
  if (focus) ask.focus();
}

function leaveConversation(box) {
  state.leaveWanted = true;
  const ask = box.querySelector('[data-action^="ask-"]');
  box.querySelector("[data-confirm-panel]").hidden = true;
  ask.hidden = false;
  ask.disabled = true;
  ask.focus();
  if (state.socket) state.socket.send({ type: "leave" });
}

async function sendRating() {
  const status = $("rating-status");
  const error = $("rating-error");
  const checked = ratingForm.querySelector('input[name="stars"]:checked');
  error.hidden = true;
  if (!checked) {
    error.textContent = texts.error_rating;
    error.hidden = false;
    ratingForm.querySelector('input[name="stars"]').focus();
    return;
  }
  const comment = $("rating-comment").value.trim();
  const button = ratingForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const response = await fetch(
      `/api/chat/conversations/${encodeURIComponent(state.store.conversationId)}/rating`,
      {
        method: "POST",
        headers: { ...bearer(), "Content-Type": "application/json" },
        body: JSON.stringify({ stars: Number(checked.value), comment: comment || null }),
      },
    );
    if (!response.ok) throw await apiError(response);
    status.textContent = texts.rating_thanks;
    for (const field of ratingForm.querySelectorAll("input, textarea, button")) {
      field.disabled = true;
    }
  } catch (failure) {
    button.disabled = false;
    status.textContent =
      failure instanceof TypeError ? texts.error_network : failure.message || texts.error_generic;
  }
}

function fileName(response) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(header);
  return match ? match[1] : texts.download_name;
}

async function download() {
  const status = $("download-status");
  status.textContent = "";
  try {
    const response = await fetch(
      `/api/chat/conversations/${encodeURIComponent(state.store.conversationId)}/transcript`,
      { headers: { Authorization: `Bearer ${state.store.token}` }, cache: "no-store" },
    );
    if (!response.ok) throw await apiError(response);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName(response);
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    status.textContent = texts.download_done;
  } catch (_) {
    status.textContent = texts.download_failed;
  }
}

function finish() {
  wipeConversation();
  form.reset();
  ratingForm.reset();
  for (const field of ratingForm.querySelectorAll("input, textarea, button")) {
    field.disabled = false;
  }
  for (const label of ratingForm.querySelectorAll(".star-label")) label.classList.remove("is-on");
  $("rating-status").textContent = "";
  $("download-status").textContent = "";
  show("done");
}

async function restart() {
  wipeConversation();
  form.reset();
  clearErrors();
  await begin(true);
}

app.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-action]") : null;
  if (!button) return;
  const box = button.closest(".confirm-box");
  switch (button.dataset.action) {
    case "ask-leave":
    case "ask-end":
      openConfirm(box);
      break;
    case "cancel-confirm":
      closeConfirm(box);
      break;
    case "leave":
    case "end":
      leaveConversation(box);
      break;
    case "to-rating":
      show("ended");
      break;
    case "download":
      download();
      break;
    case "done":
      finish();
      break;
    case "restart":
    case "retry":
      restart();
      break;
    default:
      break;
  }
});

ratingForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sendRating();
});

ratingForm.addEventListener("change", () => {
  const checked = ratingForm.querySelector('input[name="stars"]:checked');
  const chosen = checked ? Number(checked.value) : 0;
  for (const label of ratingForm.querySelectorAll(".star-label")) {
    label.classList.toggle("is-on", Number(label.dataset.star) <= chosen);
  }
  if (checked) $("rating-error").hidden = true;
});

// Coming back through the back-forward cache: show what sessionStorage says, nothing more.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && !readStore().conversationId && state.screen !== "form") {
    wipeConversation();
    begin(false);
  }
});

begin(false);
