// @ts-check
// Crisis triage in the counsellor console. A flagged chat gets a "Crisissignaal" badge in
// the waiting list and a banner in its panel (text and icon, never colour alone), with a
// way to dismiss a false flag with a reason. Listens to the console's DOM events
// (console-chat.js): "console:queue-item", "console:panel", "console:frame". Staff-only
// events "flagged" / "flag_dismissed" arrive on the counsellor's own channel; nothing of
// this ever goes to the visitor.

import { eventDetail } from "./dom.js";
import { fill, readTexts } from "./page-texts.js";

/** @typedef {{source?: string, term?: string}} Flag  where the crisis term was, and which */

const texts = readTexts("console-triage-texts");
/** @type {Map<string, Banner>} conversation id -> its banner */
const banners = new Map();
/** @type {Map<string, Flag>} conversation id -> the latest flag seen */
const known = new Map();
/** @type {HTMLElement | null} */
let live = null;
let counter = 0;

/** @param {string} text */
function announce(text) {
  if (!live) {
    live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    document.body.append(live);
  }
  const node = live;
  node.textContent = "";
  setTimeout(() => {
    node.textContent = text;
  }, 50);
}

function icon() {
  const mark = document.createElement("span");
  mark.className = "triage-icon";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = "⚠";
  return mark;
}

// --- The waiting list ---------------------------------------------------------------------

document.addEventListener("console:queue-item", (event) => {
  const { li, item } = eventDetail(event);
  if (!li || !item) return;
  let badge = li.querySelector(".triage-badge");
  li.classList.toggle("is-flagged", Boolean(item.flagged));
  if (!item.flagged) {
    if (badge) badge.remove();
    return;
  }
  if (badge) return;
  badge = document.createElement("span");
  badge.className = "triage-badge";
  badge.title = texts.badge_long;
  const label = document.createElement("span");
  label.textContent = texts.badge;
  badge.append(icon(), label);
  const head = li.querySelector(".queue-item-head") || li;
  head.append(" ", badge);
});

// --- The panel ----------------------------------------------------------------------------

class Banner {
  /**
   * @param {string} id
   * @param {HTMLElement} panel
   */
  constructor(id, panel) {
    counter += 1;
    const key = `triage-${counter}`;
    this.id = id;
    this.box = document.createElement("section");
    this.box.className = "triage-banner";
    this.box.hidden = true;
    this.box.setAttribute("aria-labelledby", `${key}-title`);

    const title = document.createElement("h4");
    title.className = "triage-title";
    title.id = `${key}-title`;
    const strong = document.createElement("span");
    strong.textContent = texts.banner_title;
    title.append(icon(), " ", strong);
    this.text = document.createElement("p");
    this.text.className = "triage-text";
    const advice = document.createElement("p");
    advice.className = "triage-advice";
    advice.textContent = texts.banner_advice;

    this.ask = document.createElement("button");
    this.ask.type = "button";
    this.ask.className = "button secondary small-button";
    this.ask.textContent = texts.ask_dismiss;
    this.ask.setAttribute("aria-expanded", "false");
    this.ask.setAttribute("aria-controls", `${key}-form`);

    const dismissForm = this.buildForm(key);
    this.form = dismissForm.form;
    this.error = dismissForm.error;
    this.reason = dismissForm.reason;
    this.submit = dismissForm.submit;
    this.box.append(title, this.text, advice, this.ask, this.form);
    const slot = panel.querySelector("[data-panel-tools]") || panel;
    slot.prepend(this.box);

    this.ask.addEventListener("click", () => this.open(true));
  }

  /**
   * "Why is this a false flag?": a reason of 3 to 300 characters.
   * @param {string} key  unique per banner, for ids
   */
  buildForm(key) {
    const form = document.createElement("form");
    form.className = "triage-dismiss";
    form.id = `${key}-form`;
    form.noValidate = true;
    form.hidden = true;
    const label = document.createElement("label");
    label.htmlFor = `${key}-reason`;
    label.textContent = texts.reason_label;
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.id = `${key}-hint`;
    hint.textContent = texts.reason_hint;
    const error = document.createElement("p");
    error.className = "field-error";
    error.id = `${key}-error`;
    error.hidden = true;
    const reason = document.createElement("textarea");
    reason.id = `${key}-reason`;
    reason.name = "reason";
    reason.rows = 2;
    reason.maxLength = 300;
    reason.setAttribute("aria-describedby", `${key}-hint`);
    const row = document.createElement("div");
    row.className = "button-row";
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "button small-button";
    submit.textContent = texts.dismiss;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button secondary small-button";
    cancel.textContent = texts.cancel;
    row.append(submit, cancel);
    form.append(label, hint, error, reason, row);
    cancel.addEventListener("click", () => this.open(false));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.dismiss();
    });
    return { form, error, reason, submit };
  }

  /** @param {Flag | undefined} flag */
  show(flag) {
    if (flag && flag.term) {
      const template = flag.source === "subject" ? texts.banner_subject : texts.banner_message;
      this.text.textContent = fill(template, { term: flag.term });
    } else if (!this.text.textContent) {
      this.text.textContent = texts.banner_unknown;
    }
    this.box.hidden = false;
  }

  hide() {
    const hadFocus = this.box.contains(document.activeElement);
    this.box.hidden = true;
    this.open(false, false);
    this.text.textContent = "";
    if (hadFocus) {
      const title = /** @type {HTMLElement | null | undefined} */ (
        this.box.closest("[role=tabpanel]")?.querySelector(".panel-title")
      );
      if (title) title.focus();
    }
  }

  /**
   * Show (yes) or hide the dismiss form.
   * @param {boolean} yes
   * @param {boolean} [focus]
   */
  open(yes, focus = true) {
    this.form.hidden = !yes;
    this.ask.hidden = yes;
    this.ask.setAttribute("aria-expanded", yes ? "true" : "false");
    this.setError("");
    if (!yes) this.reason.value = "";
    if (focus) (yes ? this.reason : this.ask).focus();
  }

  /** @param {string} message  "" clears it */
  setError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
    if (message) {
      this.reason.setAttribute("aria-invalid", "true");
      this.reason.setAttribute("aria-describedby", `${this.error.id} ${this.reason.id.replace("-reason", "-hint")}`);
    } else {
      this.reason.removeAttribute("aria-invalid");
      this.reason.setAttribute("aria-describedby", this.reason.id.replace("-reason", "-hint"));
    }
  }

  async dismiss() {
    const reason = this.reason.value.trim().replace(/\s+/g, " ");
    if (reason.length < 3 || reason.length > 300) {
      this.setError(texts.reason_short);
      this.reason.focus();
      return;
    }
    this.submit.disabled = true;
    try {
      const response = await fetch(
        `/api/chat/conversations/${encodeURIComponent(this.id)}/flags/dismiss`,
        {
          method: "POST",
          credentials: "same-origin",
          headers: {
            Accept: "application/json",
            "Content-Type": "application/json",
            "X-CSRF-Token": texts.csrf,
          },
          body: JSON.stringify({ reason }),
        },
      );
      if (response.ok || response.status === 409) {
        // 409: already cleared (by a coordinator, or a second click): the same outcome.
        known.delete(this.id);
        this.hide();
        announce(texts.dismissed);
        return;
      }
      const data = await response.json().catch(() => ({}));
      this.setError((data.error && data.error.message) || texts.error_generic);
      this.reason.focus();
    } catch (_) {
      this.setError(texts.error_generic);
    } finally {
      this.submit.disabled = false;
    }
  }
}

/**
 * Show or hide a chat's banner; remember the flag for a panel that opens later.
 * @param {string} id
 * @param {boolean} flagged
 * @param {Flag} [flag]
 */
function sync(id, flagged, flag) {
  const banner = banners.get(id);
  if (flag) known.set(id, flag);
  if (!banner) return;
  if (flagged) banner.show(flag || known.get(id));
  else banner.hide();
}

document.addEventListener("console:panel", (event) => {
  const { id, el, data } = eventDetail(event);
  if (!id || !el) return;
  banners.set(id, new Banner(id, el));
  sync(id, Boolean(data && data.flagged) || known.has(id));
});

document.addEventListener("console:ended", (event) => {
  const banner = banners.get(eventDetail(event).id);
  if (banner) banner.ask.hidden = true; // an ended chat keeps its mark, nothing to act on
});

document.addEventListener("console:frame", (event) => {
  const frame = eventDetail(event);
  switch (frame.type) {
    case "flagged": {
      const flag = { source: frame.source, term: frame.term };
      sync(frame.conversation_id, true, flag);
      const panel = document.querySelector(
        `[role=tabpanel][data-id="${CSS.escape(frame.conversation_id || "")}"] .panel-title`,
      );
      announce(fill(texts.flagged_live, { name: panel ? panel.textContent : "" }));
      break;
    }
    case "flag_dismissed":
      known.delete(frame.conversation_id);
      sync(frame.conversation_id, false);
      break;
    case "welcome":
      for (const conversation of frame.conversations || []) {
        if (!conversation.flagged) known.delete(conversation.id);
        sync(conversation.id, Boolean(conversation.flagged));
      }
      break;
    case "claimed":
      if (frame.conversation) sync(frame.conversation.id, Boolean(frame.conversation.flagged));
      break;
    default:
      break;
  }
});

// Closed panels: forget them (a chat opened again gets a fresh banner).
new MutationObserver(() => {
  for (const [id, banner] of banners) {
    if (!banner.box.isConnected) banners.delete(id);
  }
}).observe(document.getElementById("chat-panels") || document.body, { childList: true });
