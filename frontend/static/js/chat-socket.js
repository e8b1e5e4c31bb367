// The chat's shared browser side (visitor page and console): a WebSocket that reconnects
// by itself, and a message log that shows every message once, in order, with its marks.
// Protocol: docs/chat-protocol.md. Message text is only ever set with textContent.

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10000;
const GAP_GRACE_MS = 1500;

// Close codes after which reconnecting cannot help: the page decides what to show.
export const FINAL_CLOSE_CODES = new Set([1000, 1008, 4001, 4003]);

export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${path}`;
}

export function uuid4() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // Older phones: build a version 4 UUID from random bytes.
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Replace an element's children (Element.replaceChildren is too new for older phones). */
export function setChildren(parent, children) {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  for (const child of children) parent.appendChild(child);
}

/** Fill in {name} placeholders in a translated text. */
export function fill(template, values = {}) {
  return String(template).replace(/\{(\w+)\}/g, (whole, key) =>
    Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole,
  );
}

/** The translated texts the page put in a JSON data block (no inline script runs). */
export function readTexts(id) {
  const node = document.getElementById(id);
  if (!node) return {};
  try {
    return JSON.parse(node.textContent || "{}");
  } catch (_) {
    return {};
  }
}

export function pageLanguage() {
  return document.documentElement.lang || "nl-BE";
}

/**
 * A WebSocket that says hello, reconnects with backoff (0.5 s doubling to 10 s, with
 * jitter) and notices a dead connection (offline event, missing pongs, a frozen tab).
 *
 * options: path, hello() -> first frame, onFrame(frame), onUp() (after the server's
 * welcome), onDown() (connection lost, retrying), onFinal(code) (no more retries),
 * pingEveryMs (0 = no pings), staleAfterMs (reconnect when nothing was heard this long).
 */
export class ChatSocket {
  constructor(options) {
    this.options = {
      pingEveryMs: 0,
      staleAfterMs: 0,
      onUp() {},
      onDown() {},
      onFinal() {},
      ...options,
    };
    this.ws = null;
    this.up = false;
    this.stopped = true;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastHeard = 0;
    this.onOnline = () => {
      if (!this.isUp) this.reconnectNow();
    };
    this.onOffline = () => this.drop();
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.checkAlive();
    };
    this.onPageShow = (event) => {
      if (event.persisted) this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("pageshow", this.onPageShow);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  /** Close for good (the conversation ended, the page is leaving). */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("pageshow", this.onPageShow);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.detach(1000);
    this.up = false;
  }

  get isUp() {
    return this.up && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a frame if connected; false when it could not go out (resend it after onUp). */
  send(frame) {
    if (!this.isUp) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch (_) {
      return false;
    }
  }

  /** Drop the connection now and come back at once (a gap in the messages, back online). */
  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    this.drop(0);
  }

  /** The connection is (probably) gone: forget it, tell the page, retry after a backoff. */
  drop(delay) {
    if (this.stopped) return;
    const wasUp = this.up;
    this.detach(4000);
    this.up = false;
    clearInterval(this.pingTimer);
    this.options.onDown(wasUp);
    this.schedule(delay);
  }

  checkAlive() {
    if (this.stopped) return;
    if (!this.ws) {
      this.reconnectNow();
      return;
    }
    const { staleAfterMs } = this.options;
    if (staleAfterMs && this.up && Date.now() - this.lastHeard > staleAfterMs) this.reconnectNow();
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.options.path));
    } catch (_) {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify(this.options.hello()));
      this.startPings();
    };
    ws.onmessage = (event) => {
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "welcome") {
        this.up = true;
        this.attempt = 0;
        this.options.onFrame(frame);
        this.options.onUp();
        return;
      }
      this.options.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      if (FINAL_CLOSE_CODES.has(event.code) && !this.stopped) {
        this.up = false;
        this.stop();
        this.options.onFinal(event.code, event.reason);
        return;
      }
      this.drop();
    };
    ws.onerror = () => {
      // A close event always follows; that is where the retry is decided.
    };
  }

  startPings() {
    clearInterval(this.pingTimer);
    const { pingEveryMs, staleAfterMs } = this.options;
    if (!pingEveryMs) return;
    this.pingTimer = setInterval(() => {
      if (staleAfterMs && Date.now() - this.lastHeard > staleAfterMs) {
        this.reconnectNow();
        return;
      }
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ type: "ping" }));
      }
    }, pingEveryMs);
  }

  detach(code) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
    try {
      ws.close(code);
    } catch (_) {
      // Already closing.
    }
  }

  schedule(delay) {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    let wait = delay;
    if (wait === undefined) {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
      wait = base / 2 + Math.random() * (base / 2);
      this.attempt += 1;
    }
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }
}

const TIME_FORMATS = new Map();

export function clockTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return "";
  const lang = pageLanguage();
  if (!TIME_FORMATS.has(lang)) {
    TIME_FORMATS.set(lang, new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }));
  }
  return TIME_FORMATS.get(lang).format(date);
}

// Only these relative paths of our own site become links, and only in system notices (the
// handover code): text people typed is never turned into a link. Built with DOM nodes and
// textContent, so nothing in a message can become HTML.
const OWN_LINK = /(^|[\s(])(\/(?:liever-iemand-zien|afspraak)\?code=[0-9A-Za-z]{4}-[0-9A-Za-z]{4})(?=$|[\s.,;:!?)])/g;

export function appendWithOwnLinks(parent, body) {
  const value = String(body);
  let last = 0;
  for (const match of value.matchAll(OWN_LINK)) {
    const start = match.index + match[1].length;
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

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * One conversation's messages in a list (role="log"). Shows each seq once and in order,
 * own messages straight away with a pending mark, and keeps what still needs an ack.
 *
 * options: list (the <ol>), self ("visitor" | "counsellor"), texts (translated labels),
 * onGap() (a message is missing: reconnect), onIncoming(seq) (someone else's message).
 */
export class MessageLog {
  constructor(options) {
    this.list = options.list;
    this.self = options.self;
    this.texts = options.texts;
    this.onGap = options.onGap || (() => {});
    this.onIncoming = options.onIncoming || (() => {});
    this.seen = new Set();
    this.lastSeq = 0; // every seq up to here has been shown
    this.highestIncoming = 0;
    this.readUpTo = 0; // the other side has read my messages up to here
    this.deliveredUpTo = 0;
    this.bySeq = new Map();
    this.byClientId = new Map();
    this.pending = new Map(); // client_msg_id -> {body, el}
    this.gapTimer = null;
  }

  clear() {
    setChildren(this.list, []);
    this.seen.clear();
    this.bySeq.clear();
    this.byClientId.clear();
    this.pending.clear();
    this.lastSeq = 0;
    this.highestIncoming = 0;
    this.readUpTo = 0;
    this.deliveredUpTo = 0;
    clearTimeout(this.gapTimer);
  }

  /** Show my message at once, marked pending; returns the frame fields to send. */
  addOwn(body) {
    const clientMsgId = uuid4();
    const el = this.render({ sender: this.self, body, ts: null, own: true });
    this.setMark(el, "pending");
    this.list.append(el);
    this.byClientId.set(clientMsgId, el);
    this.pending.set(clientMsgId, { body, el });
    return { client_msg_id: clientMsgId, body };
  }

  /** Messages sent but not yet acknowledged, oldest first (resend after a reconnect). */
  unacked() {
    return Array.from(this.pending, ([clientMsgId, item]) => ({
      client_msg_id: clientMsgId,
      body: item.body,
    }));
  }

  /** Give up on a pending message the server refused. */
  fail(clientMsgId) {
    const item = this.pending.get(clientMsgId);
    if (!item) return;
    this.pending.delete(clientMsgId);
    this.setMark(item.el, "failed");
  }

  latestPending() {
    let last = null;
    for (const clientMsgId of this.pending.keys()) last = clientMsgId;
    return last;
  }

  ack(frame) {
    const el = this.byClientId.get(frame.client_msg_id);
    if (!el) return;
    this.pending.delete(frame.client_msg_id);
    if (!el.dataset.seq) this.place(el, frame.seq, frame.ts);
    if (el.dataset.mark === "pending" || el.dataset.mark === "failed") this.setMark(el, "sent");
    this.markFromReceipts(el);
    this.note(frame.seq);
  }

  /** A message frame: "dup" (already shown), "new", or "gap" (reconnect to fill it). */
  message(frame) {
    const seq = Number(frame.seq);
    if (!Number.isInteger(seq) || seq < 1) return "dup";
    if (this.seen.has(seq)) return "dup";
    const mine = frame.sender === this.self;
    let el = mine && frame.client_msg_id ? this.byClientId.get(frame.client_msg_id) : null;
    if (el) {
      // My own message coming back: it is stored, so it is at least sent.
      this.pending.delete(frame.client_msg_id);
      if (!el.dataset.seq) this.place(el, seq, frame.ts);
      if (el.dataset.mark === "pending" || el.dataset.mark === "failed") this.setMark(el, "sent");
    } else {
      el = this.render({ ...frame, own: mine });
      if (mine) {
        this.setMark(el, "sent");
        if (frame.client_msg_id) this.byClientId.set(frame.client_msg_id, el);
      }
      this.place(el, seq, frame.ts);
    }
    if (mine) this.markFromReceipts(el);
    this.note(seq);
    if (!mine) {
      this.highestIncoming = Math.max(this.highestIncoming, seq);
      this.onIncoming(seq, frame);
    }
    return this.checkGap();
  }

  /** The other side received or read everything up to seq. */
  receipt(frame) {
    if (frame.by === this.self) return;
    const upTo = Number(frame.seq) || 0;
    if (frame.kind === "read") this.readUpTo = Math.max(this.readUpTo, upTo);
    else this.deliveredUpTo = Math.max(this.deliveredUpTo, upTo);
    for (const el of this.list.querySelectorAll(".msg-own[data-seq]")) this.markFromReceipts(el);
  }

  markFromReceipts(el) {
    const seq = Number(el.dataset.seq);
    if (!seq) return;
    if (seq <= this.readUpTo) this.setMark(el, "read");
    else if (seq <= this.deliveredUpTo && el.dataset.mark !== "read") this.setMark(el, "delivered");
  }

  note(seq) {
    this.seen.add(seq);
    while (this.seen.has(this.lastSeq + 1)) this.lastSeq += 1;
  }

  checkGap() {
    const highest = Math.max(0, ...this.seen);
    if (highest <= this.lastSeq) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
      return "new";
    }
    // An ack may overtake the message before it for a moment; a real gap persists.
    if (!this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (Math.max(0, ...this.seen) > this.lastSeq) this.onGap();
      }, GAP_GRACE_MS);
    }
    return "gap";
  }

  /** Put a stored message in seq order; pending messages stay at the bottom. */
  place(el, seq, ts) {
    el.dataset.seq = String(seq);
    this.bySeq.set(seq, el);
    const time = el.querySelector(".msg-time");
    if (time && ts) {
      time.textContent = clockTime(ts);
      time.dateTime = ts;
    }
    let before = null;
    for (const other of this.list.children) {
      if (other === el) continue;
      const otherSeq = other.dataset.seq ? Number(other.dataset.seq) : Infinity;
      if (otherSeq > seq) {
        before = other;
        break;
      }
    }
    if (before) {
      if (el.nextSibling !== before) this.list.insertBefore(el, before);
    } else if (el.parentNode !== this.list || el.nextSibling) {
      this.list.append(el);
    }
  }

  render({ sender, author, body, ts, own }) {
    const t = this.texts;
    const li = document.createElement("li");
    const kind = sender === "system" ? "system" : own ? "own" : "other";
    li.className = `msg msg-${kind}`;
    const who = document.createElement("p");
    who.className = "msg-author";
    if (kind === "system") {
      who.classList.add("visually-hidden");
      who.textContent = t.msg_system || "Melding:";
    } else if (kind === "own") {
      who.classList.add("visually-hidden");
      who.textContent = t.msg_you || "Jij:";
    } else {
      who.textContent = author || t.msg_other || "";
      who.append(span("visually-hidden", ":"));
    }
    const text = document.createElement("p");
    text.className = "msg-body";
    if (kind === "system" && this.self === "visitor") appendWithOwnLinks(text, body);
    else text.textContent = body;
    li.append(who, text);
    if (kind !== "system") {
      const foot = document.createElement("p");
      foot.className = "msg-foot";
      const time = document.createElement("time");
      time.className = "msg-time";
      time.textContent = ts ? clockTime(ts) : clockTime(null);
      if (ts) time.dateTime = ts;
      foot.append(time);
      if (kind === "own") foot.append(span("msg-mark"));
      li.append(foot);
    }
    return li;
  }

  setMark(el, state) {
    const mark = el.querySelector(".msg-mark");
    if (!mark) return;
    el.dataset.mark = state;
    const t = this.texts;
    const ticks = { pending: "", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" }[state];
    const label = {
      pending: t.mark_pending,
      sent: t.mark_sent,
      delivered: t.mark_delivered,
      read: t.mark_read,
      failed: t.mark_failed,
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
}

/** Remaining characters, shown near the limit; announced only at a few thresholds. */
export function bindCounter(textarea, counter, announcer, texts, max) {
  const thresholds = [500, 100, 0];
  let announced = null;
  const update = () => {
    const left = max - textarea.value.length;
    const near = left <= 500;
    counter.hidden = !near;
    counter.textContent = fill(left === 1 ? texts.chars_left_one : texts.chars_left, { n: left });
    counter.classList.toggle("is-low", left <= 100);
    const found = thresholds.find((limit) => left <= limit && left > limit - 100);
    const level = found === undefined ? null : found;
    if (level !== null && level !== announced) {
      announced = level;
      announcer.textContent = counter.textContent;
    } else if (!near) {
      announced = null;
    }
  };
  textarea.addEventListener("input", update);
  update();
  return update;
}

/** Typing indicator frames: on while typing (refreshed every 3 s), off after 4 s idle. */
export function typingNotifier(sendTyping) {
  let active = false;
  let lastSent = 0;
  let idle = null;
  const stop = () => {
    clearTimeout(idle);
    if (active) {
      active = false;
      sendTyping(false);
    }
  };
  return {
    input(hasText) {
      if (!hasText) {
        stop();
        return;
      }
      const now = Date.now();
      if (!active || now - lastSent > 3000) {
        active = true;
        lastSent = now;
        sendTyping(true);
      }
      clearTimeout(idle);
      idle = setTimeout(stop, 4000);
    },
    stop,
  };
}

/** "An is aan het typen…", hidden again if no update comes within 6 s. */
export function typingDisplay(node, texts) {
  let timer = null;
  return (active, name) => {
    clearTimeout(timer);
    if (active) {
      node.textContent = fill(texts.typing, { name: name || "" });
      node.hidden = false;
      timer = setTimeout(() => {
        node.hidden = true;
      }, 6000);
    } else {
      node.hidden = true;
    }
  };
}
