// @ts-check
// One chat I hold in the console: a panel (messages, composer, end/extend/close) and its
// tab. console-panels.js keeps the set of panels and which one is shown.

import { bindCounter, typingDisplay, typingNotifier } from "./composer.js";
import { byId, closestTarget, one } from "./dom.js";
import { MessageLog } from "./message-log.js";
import { ReceiptSender } from "./read-receipts.js";
import { currentSocket, send } from "./console-connection.js";
import { describe, emit, minutesSince, say, texts, wide } from "./console-page.js";
import { fill } from "./page-texts.js";

/** @typedef {import("./console-page.js").Conversation} Conversation */
/** @typedef {import("./reconnecting-socket.js").Frame} Frame */

/**
 * What a panel needs from the set of panels.
 * @typedef {object} PanelHost
 * @property {(id: string) => boolean} isCurrent  shown on narrow screens
 * @property {(id: string, focus: boolean) => void} select
 * @property {(id: string) => void} remove
 */

const MAX_BODY = 4000;
const EXTEND_MINUTES = 15;
let panelCount = 0;

/** The tab that shows this panel on narrow screens: name, state, unread count. */
class Tab {
  /** @param {string} key  unique per panel, for ids */
  constructor(key) {
    this.button = document.createElement("button");
    this.button.type = "button";
    this.button.className = "chat-tab";
    this.button.id = `${key}-tab`;
    this.button.setAttribute("role", "tab");
    this.button.setAttribute("aria-controls", `${key}-panel`);
    this.name = document.createElement("span");
    this.badge = document.createElement("span");
    this.badge.className = "count-badge";
    this.badge.hidden = true;
    this.badge.setAttribute("aria-hidden", "true");
    this.unread = document.createElement("span");
    this.unread.className = "visually-hidden";
    this.state = document.createElement("span");
    this.presence = document.createElement("span");
    this.presence.className = "tab-presence";
    this.button.append(this.name, this.state, this.presence, this.badge, this.unread);
  }
}

export class Panel {
  /**
   * @param {Conversation} data
   * @param {PanelHost} host
   */
  constructor(data, host) {
    panelCount += 1;
    const key = `chat-${panelCount}`;
    this.host = host;
    this.id = data.id;
    this.data = data;
    this.ended = false;
    this.unread = 0;
    this.limit = Number(data.time_limit_minutes) || 0;
    /** @type {number | undefined} */
    this.noticeTimer = undefined;

    const template = /** @type {HTMLTemplateElement} */ (byId("panel-template"));
    this.el = /** @type {HTMLElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true));
    this.el.id = `${key}-panel`;
    this.el.dataset.id = this.id;
    const title = one(this.el, ".panel-title");
    title.id = `${key}-title`;
    this.el.setAttribute("aria-labelledby", title.id);
    this.list = one(this.el, ".msg-list");
    this.scroller = one(this.el, ".msg-scroll");
    this.textarea = /** @type {HTMLTextAreaElement} */ (one(this.el, ".composer textarea"));
    this.textarea.id = `${key}-message`;
    this.textarea.maxLength = MAX_BODY;
    /** @type {HTMLLabelElement} */ (one(this.el, ".composer-label")).htmlFor = this.textarea.id;
    const counter = one(this.el, ".composer-counter");
    counter.id = `${key}-counter`;
    this.textarea.setAttribute("aria-describedby", counter.id);
    this.tab = new Tab(key);

    this.log = new MessageLog({
      list: this.list,
      self: "counsellor",
      texts,
      onGap: () => send({ type: "open", conversation_id: this.id, last_seq: this.log.lastSeq }),
      onIncoming: () => this.receipts.schedule(),
    });
    this.receipts = new ReceiptSender({
      socket: currentSocket,
      highestIncoming: () => this.log.highestIncoming,
      isSeen: () => this.isSeen(),
      fields: { conversation_id: this.id },
    });
    this.showTyping = typingDisplay(one(this.el, ".typing"), texts);
    this.typing = typingNotifier((active) => {
      if (!this.ended) send({ type: "typing", conversation_id: this.id, active });
    });
    this.updateCounter = bindCounter(this.textarea, counter, one(this.el, ".composer-live"), texts, MAX_BODY);
    this.update(data);
    this.bind();
  }

  /** @param {Partial<Conversation>} data */
  update(data) {
    this.data = { ...this.data, ...data };
    const name = this.data.nickname || texts.msg_other;
    one(this.el, ".panel-title").textContent = name;
    one(this.el, ".panel-meta").textContent = describe(this.data);
    const subject = one(this.el, ".panel-subject");
    subject.textContent = this.data.subject ? `“${this.data.subject}”` : "";
    subject.hidden = !this.data.subject;
    one(this.el, ".composer-label").textContent = fill(texts.message_to, { name });
    this.scroller.setAttribute("aria-label", fill(texts.messages_with, { name }));
    one(this.el, ".panel-end-question").textContent = fill(texts.end_question, { name });
    this.tab.name.textContent = name;
    if (data.time_limit_minutes) this.limit = Number(data.time_limit_minutes);
    this.renderTime();
  }

  renderTime() {
    const node = one(this.el, ".panel-time");
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
    one(this.el, ".composer").addEventListener("submit", (event) => {
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
      const button = closestTarget(event, "[data-action]");
      if (!button) return;
      this.action(/** @type {string} */ (button.dataset.action));
    });
    this.tab.button.addEventListener("click", () => this.host.select(this.id, true));
  }

  /** @param {string} name  a button's data-action */
  action(name) {
    const ask = one(this.el, "[data-ask]");
    const confirm = one(this.el, "[data-confirm-panel]");
    switch (name) {
      case "ask-end":
        ask.hidden = true;
        confirm.hidden = false;
        one(confirm, '[data-action="cancel-confirm"]').focus();
        break;
      case "cancel-confirm":
        confirm.hidden = true;
        ask.hidden = false;
        one(ask, '[data-action="ask-end"]').focus();
        break;
      case "end":
        confirm.hidden = true;
        ask.hidden = false;
        this.askServerToEnd(ask);
        break;
      case "extend":
        this.extend();
        break;
      case "close":
        this.host.remove(this.id);
        break;
      default:
        break;
    }
  }

  /** @param {HTMLElement} ask  the box with the "end" button */
  askServerToEnd(ask) {
    if (send({ type: "end", conversation_id: this.id })) {
      for (const button of ask.querySelectorAll("button")) button.disabled = true;
    } else {
      this.notice(texts.reconnecting);
    }
  }

  extend() {
    if (send({ type: "extend", conversation_id: this.id, minutes: EXTEND_MINUTES })) {
      this.limit += EXTEND_MINUTES;
      this.renderTime();
      this.notice(texts.extended);
    } else {
      this.notice(texts.reconnecting);
    }
  }

  /** @param {string} text */
  notice(text) {
    const node = one(this.el, ".panel-notice");
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
    send({ type: "send", conversation_id: this.id, ...frame });
    this.textarea.value = "";
    this.updateCounter();
    this.typing.stop();
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  resend() {
    for (const item of this.log.unacked()) {
      send({ type: "send", conversation_id: this.id, ...item });
    }
  }

  /** @param {Frame} frame */
  message(frame) {
    const list = this.scroller;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const result = this.log.message(/** @type {import("./message-log.js").MessageFrame} */ (frame));
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
    return wide.matches || this.host.isCurrent(this.id);
  }

  isSeen() {
    return this.isShown() && document.visibilityState === "visible";
  }

  markSeen() {
    if (!this.isSeen()) return;
    this.unread = 0;
    this.renderBadge();
    this.receipts.flush();
  }

  renderBadge() {
    const show = this.unread > 0 && !this.ended;
    this.tab.badge.textContent = String(this.unread);
    this.tab.badge.hidden = !show;
    this.tab.unread.textContent = !show
      ? ""
      : ` (${this.unread === 1 ? texts.unread_one : fill(texts.unread_many, { n: this.unread })})`;
  }

  /** @param {string} status  "ended" or "abandoned" */
  end(status) {
    if (this.ended) return;
    this.ended = true;
    const hadFocus = this.el.contains(document.activeElement);
    this.typing.stop();
    this.showTyping(false);
    this.el.classList.add("is-ended");
    one(this.el, ".composer").hidden = true;
    one(this.el, ".panel-actions").hidden = true;
    const box = one(this.el, ".panel-ended");
    one(box, ".panel-ended-text").textContent = status === "abandoned" ? texts.abandoned : texts.ended;
    box.hidden = false;
    this.tab.button.classList.add("is-ended");
    this.tab.state.textContent = ` (${texts.tab_ended})`;
    this.renderBadge();
    this.renderTime();
    if (hadFocus) one(box, "button").focus();
    say(`${this.data.nickname}: ${one(box, ".panel-ended-text").textContent}`);
    emit("console:ended", { id: this.id, el: this.el, status });
  }
}
