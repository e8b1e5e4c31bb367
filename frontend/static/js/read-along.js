// @ts-check
// Silent read-along of one chat (/console/toezicht/gesprek/…): the server rendered the
// history; /ws/supervision streams what follows. The whisper form posts without JavaScript
// and goes over the socket with it. Protocol: docs/chat-protocol.md, "Supervision socket".

import { all, byId, one } from "./dom.js";
import { MessageLog } from "./message-log.js";
import { clockTime, fill, readTexts } from "./page-texts.js";
import { ReconnectingSocket } from "./reconnecting-socket.js";

/** @typedef {import("./reconnecting-socket.js").Frame} Frame */

const texts = readTexts("read-along-texts");
const app = document.getElementById("read-along-app");

class ReadAlong {
  /** @param {HTMLElement} root  the page's #read-along-app */
  constructor(root) {
    this.root = root;
    this.conversationId = root.dataset.conversation;
    this.counsellor = root.dataset.counsellor || "";
    this.list = byId("read-list");
    this.scroller = /** @type {HTMLElement} */ (this.list.closest(".msg-scroll"));
    this.connection = one(root, "[data-connection]");
    this.form = /** @type {HTMLFormElement | null} */ (document.getElementById("whisper-form"));
    this.status = document.getElementById("whisper-status");
    this.ended = false;

    // "self" is nobody: a reader sees both sides as others, each with its author.
    this.log = new MessageLog({
      list: this.list,
      self: "reader",
      texts,
      onGap: () => this.socket.reconnectNow(),
    });
    for (const li of all(this.list, "li[data-seq]")) {
      const seq = Number(li.dataset.seq);
      this.log.bySeq.set(seq, li);
      this.log.note(seq);
    }
    this.scroller.scrollTop = this.scroller.scrollHeight;

    this.socket = new ReconnectingSocket({
      path: "/ws/supervision",
      hello: () => ({ type: "hello", v: 1 }),
      onFrame: (frame) => this.onFrame(frame),
      onUp: () => {
        this.setConnection("");
        this.socket.send({ type: "read_along", conversation_id: this.conversationId, last_seq: this.log.lastSeq });
      },
      onDown: () => this.setConnection(texts.reconnecting),
      onFinal: () => this.setConnection(texts.signed_out),
      pingEveryMs: 20000,
      staleAfterMs: 45000,
    });
    if (this.form) this.bindWhisperForm(this.form);
    this.socket.start();
  }

  /** @param {string} text */
  setConnection(text) {
    this.connection.textContent = text;
    this.connection.hidden = !text;
  }

  end() {
    if (this.ended) return;
    this.ended = true;
    one(this.root, "[data-ended]").hidden = false;
    if (this.form) this.form.hidden = true;
    this.socket.stop();
  }

  /** @param {Frame} frame */
  onFrame(frame) {
    if (frame.conversation_id && frame.conversation_id !== this.conversationId) return;
    switch (frame.type) {
      case "message":
        this.showMessage(frame);
        break;
      case "status":
        this.showStatus(frame);
        break;
      case "whispered":
        this.showWhispered(frame);
        break;
      case "error":
        if (frame.code === "conversation_closed") this.end();
        else if (this.status) this.status.textContent = frame.message || texts.error_generic;
        break;
      default:
        break;
    }
  }

  /** @param {Frame} frame */
  showMessage(frame) {
    const scroller = this.scroller;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    if (this.log.message(/** @type {import("./message-log.js").MessageFrame} */ (frame)) !== "dup") {
      const li = this.log.bySeq.get(Number(frame.seq));
      if (li) li.classList.add(`msg-from-${frame.sender}`);
      const empty = document.getElementById("read-empty");
      if (empty) empty.hidden = true;
    }
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  /** @param {Frame} frame */
  showStatus(frame) {
    const node = one(this.root, "[data-status]");
    const label = texts.statuses[frame.status] || frame.status;
    node.textContent = frame.counsellor ? `${label} · ${frame.counsellor}` : label;
    if (frame.status === "ended" || frame.status === "abandoned") this.end();
  }

  /** @param {Frame} frame  my own whisper, as the server stored it */
  showWhispered(frame) {
    const item = document.createElement("li");
    const label = document.createElement("p");
    label.className = "whisper-label";
    label.textContent = `${texts.you_whispered} (${clockTime(frame.at)})`;
    const body = document.createElement("p");
    body.textContent = frame.body;
    item.append(label, body);
    byId("whisper-sent").append(item);
    /** @type {HTMLElement} */ (this.status).textContent = fill(texts.whispered, { name: this.counsellor });
  }

  /** @param {HTMLFormElement} form */
  bindWhisperForm(form) {
    form.addEventListener("submit", (event) => {
      const textarea = /** @type {HTMLTextAreaElement} */ (form.querySelector("textarea"));
      const body = textarea.value.trim();
      if (!body) {
        event.preventDefault();
        textarea.focus();
        return;
      }
      // Over the socket when it is up; otherwise the form posts as it would without JS.
      if (this.socket.send({ type: "whisper", conversation_id: this.conversationId, body })) {
        event.preventDefault();
        textarea.value = "";
        textarea.focus();
      }
    });
  }
}

if (app && app.dataset.open === "yes") new ReadAlong(app);
