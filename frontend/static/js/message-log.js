// @ts-check
// One conversation's messages in a list (role="log"): each seq shown once and in order,
// my own messages at once with a pending mark, what still needs an ack kept for a resend,
// and the other side's delivered/read receipts shown on my messages.

import { setChildren } from "./dom.js";
import { renderMessage, showMark, showStoredTime } from "./message-view.js";

/** @typedef {import("./page-texts.js").Texts} Texts */
/** @typedef {import("./message-view.js").Mark} Mark */

const GAP_GRACE_MS = 1500;

/** @typedef {import("./reconnecting-socket.js").Frame} Frame */

/**
 * A stored message (type "message").
 * @typedef {Frame & {
 *   seq: number | string,
 *   sender: string,
 *   author?: string,
 *   body: string,
 *   ts?: string | null,
 *   client_msg_id?: string,
 * }} MessageFrame
 */

/**
 * The server stored a message of mine (type "ack").
 * @typedef {Frame & {client_msg_id: string, seq: number, ts?: string}} AckFrame
 */

/**
 * The other side received ("delivered") or read everything up to seq (type "receipt").
 * @typedef {Frame & {by: string, kind: string, seq: number | string}} ReceiptFrame
 */

/**
 * @typedef {object} MessageLogOptions
 * @property {HTMLElement} list  the <ol>
 * @property {string} self  "visitor", "counsellor", or "reader" (both sides are others)
 * @property {Texts} texts  translated labels
 * @property {() => void} [onGap]  a message is missing: reconnect
 * @property {(seq: number, frame: MessageFrame) => void} [onIncoming]  someone else's message
 */

/** A version 4 UUID, also on older phones without crypto.randomUUID. */
function uuid4() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class MessageLog {
  /** @param {MessageLogOptions} options */
  constructor(options) {
    this.list = options.list;
    this.self = options.self;
    this.texts = options.texts;
    this.onGap = options.onGap || (() => {});
    this.onIncoming = options.onIncoming || (() => {});
    /** @type {Set<number>} */
    this.seen = new Set();
    this.lastSeq = 0; // every seq up to here has been shown
    this.highestIncoming = 0;
    this.readUpTo = 0; // the other side has read my messages up to here
    this.deliveredUpTo = 0;
    /** @type {Map<number, HTMLElement>} */
    this.bySeq = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.byClientId = new Map();
    /** @type {Map<string, {body: string, el: HTMLElement}>} */
    this.pending = new Map();
    /** @type {number | null} */
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
    clearTimeout(this.gapTimer ?? undefined);
  }

  /**
   * Show my message at once, marked pending; returns the frame fields to send.
   * @param {string} body
   */
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

  /**
   * Give up on a pending message the server refused.
   * @param {string} clientMsgId
   */
  fail(clientMsgId) {
    const item = this.pending.get(clientMsgId);
    if (!item) return;
    this.pending.delete(clientMsgId);
    this.setMark(item.el, "failed");
  }

  latestPending() {
    /** @type {string | null} */
    let last = null;
    for (const clientMsgId of this.pending.keys()) last = clientMsgId;
    return last;
  }

  /** @param {AckFrame} frame */
  ack(frame) {
    const el = this.byClientId.get(frame.client_msg_id);
    if (!el) return;
    this.pending.delete(frame.client_msg_id);
    this.storedOwn(el, frame.seq, frame.ts);
    this.note(frame.seq);
  }

  /**
   * A message frame: "dup" (already shown), "new", or "gap" (reconnect to fill it).
   * @param {MessageFrame} frame
   * @returns {"dup" | "new" | "gap"}
   */
  message(frame) {
    const seq = Number(frame.seq);
    if (!Number.isInteger(seq) || seq < 1) return "dup";
    if (this.seen.has(seq)) return "dup";
    const mine = frame.sender === this.self;
    const el = mine && frame.client_msg_id ? this.byClientId.get(frame.client_msg_id) : null;
    if (el && frame.client_msg_id) {
      // My own message coming back: it is stored, so it is at least sent.
      this.pending.delete(frame.client_msg_id);
      this.storedOwn(el, seq, frame.ts);
    } else {
      this.addStored(frame, seq, mine);
    }
    this.note(seq);
    if (!mine) {
      this.highestIncoming = Math.max(this.highestIncoming, seq);
      this.onIncoming(seq, frame);
    }
    return this.checkGap();
  }

  /**
   * The server stored one of my messages: give it its place and at least a "sent" mark.
   * @param {HTMLElement} el
   * @param {number} seq
   * @param {string | null | undefined} ts
   */
  storedOwn(el, seq, ts) {
    if (!el.dataset.seq) this.place(el, seq, ts);
    if (el.dataset.mark === "pending" || el.dataset.mark === "failed") this.setMark(el, "sent");
    this.markFromReceipts(el);
  }

  /**
   * A message this page has not shown yet (someone else's, or mine from another tab).
   * @param {MessageFrame} frame
   * @param {number} seq
   * @param {boolean} mine
   */
  addStored(frame, seq, mine) {
    const el = this.render({ ...frame, own: mine });
    if (mine) {
      this.setMark(el, "sent");
      if (frame.client_msg_id) this.byClientId.set(frame.client_msg_id, el);
    }
    this.place(el, seq, frame.ts);
    if (mine) this.markFromReceipts(el);
  }

  /**
   * The other side received or read everything up to seq.
   * @param {ReceiptFrame} frame
   */
  receipt(frame) {
    if (frame.by === this.self) return;
    const upTo = Number(frame.seq) || 0;
    if (frame.kind === "read") this.readUpTo = Math.max(this.readUpTo, upTo);
    else this.deliveredUpTo = Math.max(this.deliveredUpTo, upTo);
    for (const el of this.list.querySelectorAll(".msg-own[data-seq]")) {
      this.markFromReceipts(/** @type {HTMLElement} */ (el));
    }
  }

  /** @param {HTMLElement} el */
  markFromReceipts(el) {
    const seq = Number(el.dataset.seq);
    if (!seq) return;
    if (seq <= this.readUpTo) this.setMark(el, "read");
    else if (seq <= this.deliveredUpTo && el.dataset.mark !== "read") this.setMark(el, "delivered");
  }

  /** @param {number} seq */
  note(seq) {
    this.seen.add(seq);
    while (this.seen.has(this.lastSeq + 1)) this.lastSeq += 1;
  }

  /** @returns {"new" | "gap"} */
  checkGap() {
    const highest = Math.max(0, ...this.seen);
    if (highest <= this.lastSeq) {
      clearTimeout(this.gapTimer ?? undefined);
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

  /**
   * Put a stored message in seq order; pending messages stay at the bottom.
   * @param {HTMLElement} el
   * @param {number} seq
   * @param {string | null | undefined} ts
   */
  place(el, seq, ts) {
    el.dataset.seq = String(seq);
    this.bySeq.set(seq, el);
    showStoredTime(el, ts);
    let before = null;
    for (const other of this.list.children) {
      if (other === el) continue;
      const otherSeq = /** @type {HTMLElement} */ (other).dataset.seq;
      if ((otherSeq ? Number(otherSeq) : Infinity) > seq) {
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

  /** @param {import("./message-view.js").MessageContent} content */
  render(content) {
    return renderMessage(content, this.texts, this.self);
  }

  /**
   * @param {HTMLElement} el
   * @param {Mark} state
   */
  setMark(el, state) {
    showMark(el, state, this.texts);
  }
}
