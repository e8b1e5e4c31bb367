// @ts-check
// The canned-reply picker in a chat panel: opens on its button or on the "console:canned-open"
// event ({id}), filters as you type, arrow keys choose, Enter puts the reply into that panel's
// message box (at the cursor) — it never sends: the counsellor still reads, edits and sends.
// An ARIA combobox with a listbox, so it works fully by keyboard and with a screen reader.

import { closestTarget } from "./dom.js";
import { api, el, fill, texts, uid } from "./console-tools-api.js";

/**
 * A canned reply (GET /api/console/canned-replies).
 * @typedef {{title: string, body: string, shared?: boolean}} Reply
 */

const NAME = /\{naam\}/g;
const STALE_MS = 30000;
/** @type {Reply[]} */
let replies = [];
let loadedAt = 0;
/** @type {Promise<Reply[]> | null} */
let loading = null;

/**
 * The replies, from the server when the list is older than STALE_MS (or when forced).
 * @param {boolean} force
 * @returns {Promise<Reply[]>}
 */
function load(force) {
  if (!force && loading) return loading;
  if (!force && Date.now() - loadedAt < STALE_MS) return Promise.resolve(replies);
  loading = api("GET", "/api/console/canned-replies")
    .then((body) => {
      replies = Array.isArray(body && body.replies) ? body.replies : [];
      loadedAt = Date.now();
      return replies;
    })
    .catch(() => replies)
    .finally(() => {
      loading = null;
    });
  return loading;
}

/**
 * Lower case without accents, so "reünie" matches "reunie".
 * @param {unknown} text
 */
function fold(text) {
  return String(text || "")
    .toLowerCase()
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "");
}

/**
 * @param {Reply} reply
 * @param {string[]} words
 */
function matches(reply, words) {
  const haystack = fold(`${reply.title} ${reply.body}`);
  return words.every((word) => haystack.includes(word));
}

export class CannedPicker {
  /**
   * @param {HTMLElement} panelEl  the chat panel
   * @param {() => string} nickname  the visitor's, for {naam} (it can change on a transfer)
   * @param {HTMLButtonElement} button  the button that opens the picker
   * @param {(text: string) => void} say  announces a result
   */
  constructor(panelEl, nickname, button, say) {
    this.panelEl = panelEl;
    this.say = say;
    this.nickname = nickname;
    this.button = button;
    /** @type {HTMLTextAreaElement | null} */
    this.textarea = panelEl.querySelector(".composer textarea");
    /** @type {Reply[]} */
    this.shown = [];
    this.active = -1;
    const id = uid("canned");
    this.box = el("div", { className: "canned-picker", id, hidden: true });
    const inputId = `${id}-input`;
    const listId = `${id}-list`;
    const hintId = `${id}-hint`;
    this.input = el("input", {
      id: inputId,
      type: "text",
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": listId,
      "aria-describedby": hintId,
      autocomplete: "off",
      spellcheck: "false",
    });
    this.list = el("ul", { id: listId, role: "listbox", className: "canned-options", "aria-label": texts.canned_button });
    this.status = el("p", { className: "visually-hidden", role: "status" });
    this.empty = el("p", { className: "canned-empty", hidden: true });
    const manage = el("a", { href: "/console/snelle-antwoorden", className: "small" }, texts.canned_manage);
    this.box.append(
      el("label", { for: inputId }, texts.canned_label),
      el("p", { id: hintId, className: "hint" }, texts.canned_hint),
      this.input,
      this.list,
      this.empty,
      this.status,
      manage,
    );
    button.setAttribute("aria-controls", id);
    button.setAttribute("aria-expanded", "false");
    this.bind();
  }

  bind() {
    this.input.addEventListener("input", () => this.render());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = closestTarget(event, "[role=option]");
      if (option) this.insert(Number(option.dataset.index));
    });
    this.box.addEventListener("focusout", (event) => {
      const next = event.relatedTarget;
      if (next instanceof Node && (this.box.contains(next) || next === this.button)) return;
      // Focus left the picker for something else: fold it away, keep the search text.
      if (next) this.close(false);
    });
  }

  get isOpen() {
    return !this.box.hidden;
  }

  async open() {
    if (this.panelEl.classList.contains("is-ended")) return;
    this.box.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-expanded", "true");
    this.input.value = "";
    this.render();
    this.input.focus();
    await load(false);
    if (this.isOpen) this.render();
    // Pick up colleagues' new shared replies in the background.
    load(true).then(() => this.isOpen && this.render());
  }

  /** @param {boolean} focusComposer */
  close(focusComposer) {
    this.box.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    if (focusComposer && this.textarea && !this.textarea.closest("[hidden]")) this.textarea.focus();
  }

  toggle() {
    if (this.isOpen) this.close(true);
    else this.open();
  }

  render() {
    const words = fold(this.input.value).split(/\s+/).filter(Boolean);
    this.shown = replies.filter((reply) => matches(reply, words));
    while (this.list.firstChild) this.list.removeChild(this.list.firstChild);
    this.shown.forEach((reply, index) => {
      const option = el("li", {
        role: "option",
        id: `${this.list.id}-${index}`,
        "aria-selected": "false",
        className: "canned-option",
      });
      option.dataset.index = String(index);
      option.append(el("span", { className: "canned-option-title" }, reply.title));
      if (reply.shared) option.append(el("span", { className: "canned-option-tag" }, ` (${texts.canned_shared})`));
      option.append(el("span", { className: "canned-option-body" }, reply.body));
      this.list.append(option);
    });
    this.list.hidden = this.shown.length === 0;
    this.empty.hidden = this.shown.length > 0;
    this.empty.textContent = replies.length ? texts.canned_none : texts.canned_empty;
    this.status.textContent = this.shown.length
      ? fill(texts.canned_count, { n: this.shown.length })
      : this.empty.textContent;
    this.setActive(this.shown.length ? 0 : -1);
  }

  /** @param {number} index  -1 for none */
  setActive(index) {
    this.active = index;
    for (const option of /** @type {HTMLCollectionOf<HTMLElement>} */ (this.list.children)) {
      option.setAttribute("aria-selected", option.dataset.index === String(index) ? "true" : "false");
    }
    if (index < 0) {
      this.input.removeAttribute("aria-activedescendant");
      return;
    }
    const option = /** @type {HTMLElement} */ (this.list.children[index]);
    this.input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    const count = this.shown.length;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (count) this.setActive((this.active + 1) % count);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (count) this.setActive((this.active - 1 + count) % count);
        break;
      case "PageDown":
        event.preventDefault();
        if (count) this.setActive(count - 1);
        break;
      case "PageUp":
        event.preventDefault();
        if (count) this.setActive(0);
        break;
      case "Enter":
        event.preventDefault();
        if (this.active >= 0) this.insert(this.active);
        break;
      case "Escape":
        event.preventDefault();
        event.stopPropagation();
        this.close(true);
        break;
      default:
        break;
    }
  }

  /** @param {number} index  in the shown list */
  insert(index) {
    const reply = this.shown[index];
    const area = this.textarea;
    if (!reply || !area) return;
    const text = reply.body.replace(NAME, this.nickname() || "");
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    this.close(true);
    area.setRangeText(text, start, end, "end");
    // The console counts characters and sends typing on "input": let it see the change.
    area.dispatchEvent(new Event("input", { bubbles: true }));
    this.say(texts.canned_inserted);
  }
}

load(false);
