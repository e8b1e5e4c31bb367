// Crisis triage in the counsellor console. A flagged chat gets a "Crisissignaal" badge in
// the waiting list and a banner in its panel (text and icon, never colour alone), with a
// way to dismiss a false flag with a reason. Listens to the console's DOM events
// (console-chat.js): "console:queue-item", "console:panel", "console:frame". Staff-only
// events "flagged" / "flag_dismissed" arrive on the counsellor's own channel; nothing of
// this ever goes to the visitor.

import { fill, readTexts } from "./chat-socket.js";

const texts = readTexts("console-triage-texts");
const banners = new Map(); // conversation id -> Banner
const known = new Map(); // conversation id -> {source, term} of the latest flag seen
let live = null;
let counter = 0;

function announce(text) {
  if (!live) {
    live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    document.body.append(live);
  }
  live.textContent = "";
  setTimeout(() => {
    live.textContent = text;
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
  const { li, item } = event.detail || {};
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

    this.form = this.buildForm(key);
    this.box.append(title, this.text, advice, this.ask, this.form);
    const slot = panel.querySelector("[data-panel-tools]") || panel;
    slot.prepend(this.box);

    this.ask.addEventListener("click", () => this.open(true));
  }

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
    this.error = document.createElement("p");
    this.error.className = "field-error";
    this.error.id = `${key}-error`;
    this.error.hidden = true;
    this.reason = document.createElement("textarea");
    this.reason.id = `${key}-reason`;
    this.reason.name = "reason";
    this.reason.rows = 2;
    this.reason.maxLength = 300;
    this.reason.setAttribute("aria-describedby", `${key}-hint`);
    const row = document.createElement("div");
    row.className = "button-row";
    this.submit = document.createElement("button");
    this.submit.type = "submit";
    this.submit.className = "button small-button";
    this.submit.textContent = texts.dismiss;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button secondary small-button";
    cancel.textContent = texts.cancel;
    row.append(this.submit, cancel);
    form.append(label, hint, this.error, this.reason, row);
    cancel.addEventListener("click", () => this.open(false));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.dismiss();
    });
    return form;
  }

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
      const title = this.box.closest("[role=tabpanel]")?.querySelector(".panel-title");
      if (title) title.focus();
    }
  }

  open(yes, focus = true) {
    this.form.hidden = !yes;
    this.ask.hidden = yes;
    this.ask.setAttribute("aria-expanded", yes ? "true" : "false");
    this.setError("");
    if (!yes) this.reason.value = "";
    if (focus) (yes ? this.reason : this.ask).focus();
  }

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

function sync(id, flagged, flag) {
  const banner = banners.get(id);
  if (flag) known.set(id, flag);
  if (!banner) return;
  if (flagged) banner.show(flag || known.get(id));
  else banner.hide();
}

document.addEventListener("console:panel", (event) => {
  const { id, el, data } = event.detail || {};
  if (!id || !el) return;
  banners.set(id, new Banner(id, el));
  sync(id, Boolean(data && data.flagged) || known.has(id));
});

document.addEventListener("console:ended", (event) => {
  const banner = banners.get((event.detail || {}).id);
  if (banner) banner.ask.hidden = true; // an ended chat keeps its mark, nothing to act on
});

document.addEventListener("console:frame", (event) => {
  const frame = event.detail || {};
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
