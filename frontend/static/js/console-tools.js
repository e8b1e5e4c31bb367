// @ts-check
// Counsellor tools in every chat panel of the console (plugged in through the console's
// DOM events, see console-page.js): a canned-reply picker, private notes (never shown to
// the visitor), "offer an appointment or a meeting" (a handover code sent to the visitor)
// and, once the chat has ended, the outcome form.

import { CannedPicker } from "./console-canned.js";
import { eventDetail } from "./dom.js";
import { showOutcomeForm } from "./console-outcome.js";
import { ApiError, api, el, fill, texts, uid, when } from "./console-tools-api.js";

/**
 * A private note, a whisper or a handover note on a chat.
 * @typedef {object} Note
 * @property {string} kind  "note" or another kind, shown with kind_label
 * @property {string} [kind_label]
 * @property {string | null} [author]
 * @property {string} created_at
 * @property {string} body
 */

const NOTE_MAX = 2000;
/** @type {Map<string, PanelTools>} conversation id -> its tools */
const tools = new Map();

/** @param {string} id */
function notesUrl(id) {
  return `/api/console/conversations/${encodeURIComponent(id)}/notes`;
}

/** @param {string} [text] */
function smallButton(text, secondary = true) {
  const className = secondary ? "button secondary small-button" : "button small-button";
  return el("button", { type: "button", className }, text);
}

function buildConfirm() {
  const box = el("div", { className: "confirm tools-confirm", hidden: true });
  const text = el("p");
  const yes = smallButton(texts.handover_yes, false);
  const no = smallButton(texts.handover_cancel);
  const row = el("div", { className: "button-row" });
  row.append(yes, no);
  box.append(text, row);
  return { box, text, yes, no };
}

/**
 * The private notes of a chat: the list and a form to add one.
 * @param {string} key  unique per panel, for ids
 */
function buildNotes(key) {
  const box = el("section", { className: "tool-notes", id: `${key}-notes`, hidden: true, "aria-labelledby": `${key}-notes-title` });
  const list = el("ol", { className: "notes-list" });
  const empty = el("p", { className: "notes-empty" }, texts.notes_empty);
  const form = el("form", { className: "note-form", novalidate: true });
  const areaId = `${key}-note`;
  const area = el("textarea", {
    id: areaId,
    rows: "2",
    maxlength: String(NOTE_MAX),
    "aria-describedby": `${areaId}-hint`,
  });
  const error = el("p", { className: "field-error", id: `${areaId}-error`, hidden: true });
  form.append(
    el("label", { for: areaId }, texts.note_label),
    el("p", { className: "hint", id: `${areaId}-hint` }, texts.note_hint),
    error,
    area,
    el("button", { type: "submit", className: "button small-button" }, texts.note_save),
  );
  box.append(el("h4", { id: `${key}-notes-title` }, texts.notes_title), list, empty, form);
  return { box, list, empty, area, error, form };
}

class PanelTools {
  /**
   * @param {string} id
   * @param {HTMLElement} panelEl
   * @param {{nickname?: string}} data
   */
  constructor(id, panelEl, data) {
    this.id = id;
    this.panelEl = panelEl;
    this.nickname = data.nickname || "";
    /** @type {Note[]} */
    this.notes = [];
    const key = uid("tools");
    const slot = /** @type {HTMLElement} */ (panelEl.querySelector("[data-panel-tools]"));

    this.cannedButton = smallButton(texts.canned_button);
    this.notesButton = el("button", {
      type: "button",
      className: "button secondary small-button",
      "aria-expanded": "false",
      "aria-controls": `${key}-notes`,
    });
    this.handoverButton = smallButton(texts.handover_button);
    const bar = el("div", { className: "tools-bar button-row" });
    bar.append(this.cannedButton, this.notesButton, this.handoverButton);
    this.status = el("p", { className: "tools-status", role: "status" });

    this.picker = new CannedPicker(panelEl, () => this.nickname, this.cannedButton, (text) => this.say(text));

    // Handover: ask first, it sends the visitor a message.
    const confirm = buildConfirm();
    this.confirm = confirm.box;
    this.confirmText = confirm.text;

    const notes = buildNotes(key);
    this.notesBox = notes.box;
    this.notesList = notes.list;
    this.notesEmpty = notes.empty;
    this.noteArea = notes.area;
    this.noteError = notes.error;

    slot.append(bar, this.confirm, this.picker.box, this.notesBox, this.status);

    this.cannedButton.addEventListener("click", () => this.picker.toggle());
    this.notesButton.addEventListener("click", () => this.toggleNotes());
    this.handoverButton.addEventListener("click", () => this.askHandover());
    confirm.no.addEventListener("click", () => {
      this.confirm.hidden = true;
      this.handoverButton.focus();
    });
    confirm.yes.addEventListener("click", () => this.offerHandover(confirm.yes));
    notes.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.addNote();
    });
    this.renderNotesButton();
    this.loadNotes();
  }

  /** @param {string} text */
  say(text) {
    this.status.textContent = "";
    setTimeout(() => {
      this.status.textContent = text;
    }, 50);
  }

  renderNotesButton() {
    const count = this.notes.length;
    this.notesButton.textContent = count ? `${texts.notes_button} (${count})` : texts.notes_button;
  }

  /** @param {boolean} [open]  toggles when not given */
  toggleNotes(open) {
    const show = open === undefined ? this.notesBox.hidden : open;
    this.notesBox.hidden = !show;
    this.notesButton.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) {
      this.loadNotes();
      this.noteArea.focus();
    }
  }

  async loadNotes() {
    try {
      const body = await api("GET", notesUrl(this.id));
      this.notes = Array.isArray(body.notes) ? body.notes : [];
      this.renderNotes();
    } catch (error) {
      if (!this.notesBox.hidden) this.say(/** @type {Error} */ (error).message);
    }
  }

  renderNotes() {
    while (this.notesList.firstChild) this.notesList.removeChild(this.notesList.firstChild);
    for (const note of this.notes) {
      const li = el("li", { className: `note note-${note.kind}` });
      const head = el("p", { className: "note-head" });
      if (note.kind !== "note") head.append(el("span", { className: "note-kind" }, `${note.kind_label} · `));
      head.append(
        el("span", {}, fill(texts.by_at, { author: note.author || "?", time: when(note.created_at) })),
      );
      li.append(head, el("p", { className: "note-body" }, note.body));
      this.notesList.append(li);
    }
    this.notesEmpty.hidden = this.notes.length > 0;
    this.renderNotesButton();
  }

  /** @param {string} message  "" clears it */
  setNoteError(message) {
    this.noteError.textContent = message || "";
    this.noteError.hidden = !message;
    const hint = `${this.noteArea.id}-hint`;
    this.noteArea.setAttribute("aria-describedby", message ? `${hint} ${this.noteError.id}` : hint);
    if (message) this.noteArea.setAttribute("aria-invalid", "true");
    else this.noteArea.removeAttribute("aria-invalid");
  }

  async addNote() {
    const body = this.noteArea.value.trim();
    if (!body) {
      this.setNoteError(texts.note_empty);
      this.noteArea.focus();
      return;
    }
    if (body.length > NOTE_MAX) {
      this.setNoteError(texts.note_too_long);
      this.noteArea.focus();
      return;
    }
    this.setNoteError("");
    try {
      const note = await api("POST", notesUrl(this.id), { body });
      this.notes.push(note);
      this.renderNotes();
      this.noteArea.value = "";
      this.say(texts.note_saved);
    } catch (error) {
      this.setNoteError(error instanceof ApiError ? error.message : texts.error_generic);
    }
    this.noteArea.focus();
  }

  askHandover() {
    this.confirmText.textContent = fill(texts.handover_question, { name: this.nickname });
    this.confirm.hidden = false;
    /** @type {HTMLElement} */ (this.confirm.querySelector("button")).focus();
  }

  /** @param {HTMLButtonElement} button */
  async offerHandover(button) {
    button.disabled = true;
    try {
      const offer = await api("POST", `/api/console/conversations/${encodeURIComponent(this.id)}/handover-code`);
      this.confirm.hidden = true;
      this.say(fill(texts.handover_sent, { code: offer.code }));
      this.handoverButton.focus();
    } catch (error) {
      this.say(/** @type {Error} */ (error).message);
    } finally {
      button.disabled = false;
    }
  }

  ended() {
    this.picker.close(false);
    this.confirm.hidden = true;
    this.cannedButton.hidden = true;
    this.handoverButton.hidden = true;
    showOutcomeForm(this.id, this.panelEl.querySelector("[data-panel-after-end]"));
  }
}

document.addEventListener("console:panel", (event) => {
  const { id, el: panelEl, data } = eventDetail(event);
  if (!id || !panelEl || tools.has(id)) return;
  tools.set(id, new PanelTools(id, panelEl, data || {}));
});

document.addEventListener("console:ended", (event) => {
  const item = tools.get(eventDetail(event).id);
  if (item) item.ended();
});

document.addEventListener("console:canned-open", (event) => {
  const item = tools.get(eventDetail(event).id);
  if (item && !item.cannedButton.hidden) item.picker.open();
});

document.addEventListener("console:frame", (event) => {
  const frame = eventDetail(event);
  const item = frame.conversation_id ? tools.get(frame.conversation_id) : null;
  if (!item) return;
  // A whisper or a handover note arrived for this chat: show it.
  if (frame.type === "whisper" || frame.type === "transferred_to_you") item.loadNotes();
  if (frame.type === "claimed" && frame.conversation) item.nickname = frame.conversation.nickname || item.nickname;
});

// A panel closed by the counsellor goes away; forget its tools with it.
new MutationObserver(() => {
  for (const [id, item] of tools) if (!item.panelEl.isConnected) tools.delete(id);
}).observe(document.getElementById("chat-panels") || document.body, { childList: true });
