// @ts-check
// The core console tools on top of console-chat.js: my duty (in dienst / pauze / uit
// dienst), "volgende gesprek", handing a chat on (warm to a colleague, cold back to the
// queue), keyboard shortcuts with a visible list, and opt-in browser notifications.
// Protocol: docs/chat-protocol.md.

import { byId as $, closestTarget, eventDetail } from "./dom.js";
import { fill, readTexts } from "./page-texts.js";
import {
  askEnd,
  closePanel,
  currentChatId,
  isOpen,
  nicknameOf,
  queueNotice,
  say,
  switchChat,
} from "./console-chat.js";

/** @typedef {import("./reconnecting-socket.js").Frame} Frame */

const texts = readTexts("console-texts");
/** @type {Map<string, HTMLElement>} conversation id -> panel element (for transfer and handover) */
const panels = new Map();
const nextButton = /** @type {HTMLButtonElement} */ ($("next-button"));

/** @param {object} frame */
function send(frame) {
  document.dispatchEvent(new CustomEvent("console:send", { detail: frame }));
}

// --- Duty -------------------------------------------------------------------------------

/** @param {string} duty  "on_duty", "pause" or "off_duty" */
function showDuty(duty) {
  const radio = /** @type {HTMLInputElement | null} */ (document.getElementById(`duty-${duty}`));
  if (radio) radio.checked = true;
  const state = $("duty-state");
  const text = texts[`duty_${duty}`] || "";
  const holding = Array.from(panels.keys()).some(isOpen);
  state.textContent = duty !== "on_duty" && holding ? `${text} ${texts.duty_keeps}` : text;
  state.dataset.duty = duty;
  nextButton.disabled = duty !== "on_duty";
}

$("duty-control").addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.name === "duty") {
    send({ type: "duty", duty: input.value });
  }
});

// --- "Volgende gesprek" -----------------------------------------------------------------

function takeNext() {
  if (nextButton.disabled) {
    queueNotice(texts.not_on_duty);
    return;
  }
  send({ type: "next" });
}

nextButton.addEventListener("click", takeNext);

// --- Transfer ---------------------------------------------------------------------------

/** @param {HTMLElement} el  a chat panel */
function transferBox(el) {
  return /** @type {HTMLElement} */ (el.querySelector("[data-transfer]"));
}

/**
 * @param {HTMLElement} el
 * @param {string} selector
 */
function part(el, selector) {
  return /** @type {HTMLElement} */ (el.querySelector(selector));
}

/**
 * @param {string} id
 * @param {HTMLElement} el
 */
function openTransfer(id, el) {
  const box = transferBox(el);
  box.hidden = false;
  part(el, '[data-action="ask-transfer"]').setAttribute("aria-expanded", "true");
  part(el, "[data-colleagues]").replaceChildren();
  part(el, "[data-transfer-status]").textContent = texts.colleagues_loading;
  send({ type: "colleagues" });
  const note = part(box, "[data-note]");
  note.focus();
  box.dataset.for = id;
}

/**
 * @param {HTMLElement} el
 * @param {boolean} focus
 */
function closeTransfer(el, focus) {
  const box = transferBox(el);
  box.hidden = true;
  const toggle = part(el, '[data-action="ask-transfer"]');
  toggle.setAttribute("aria-expanded", "false");
  if (focus) toggle.focus();
}

/**
 * A colleague a chat can be handed to (frame "colleagues").
 * @typedef {{id: string, name: string, centre: string, active: number, max_chats: number}} Colleague
 */

/** @param {Colleague[]} list */
function showColleagues(list) {
  for (const [id, el] of panels) {
    const box = transferBox(el);
    if (box.hidden) continue;
    const holder = part(el, "[data-colleagues]");
    const status = part(el, "[data-transfer-status]");
    holder.replaceChildren();
    status.textContent = list.length ? "" : texts.colleagues_none;
    /** @type {HTMLButtonElement} */ (part(el, '[data-action="transfer-warm"]')).disabled = !list.length;
    list.forEach((colleague, index) => {
      const row = document.createElement("div");
      row.className = "choice";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = `colleague-${id}`;
      input.id = `colleague-${id}-${index}`;
      input.value = colleague.id;
      input.dataset.name = colleague.name;
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = fill(texts.colleague_option, {
        name: colleague.name,
        centre: colleague.centre,
        active: colleague.active,
        max: colleague.max_chats,
      });
      row.append(input, label);
      holder.append(row);
    });
  }
}

/**
 * Warm: to the chosen colleague, with an optional note. Cold: back to the queue.
 * @param {string} id
 * @param {HTMLElement} el
 * @param {"warm" | "cold"} kind
 */
function transfer(id, el, kind) {
  const box = transferBox(el);
  /** @type {{type: string, conversation_id: string, kind: string, to?: string, note?: string}} */
  const frame = { type: "transfer", conversation_id: id, kind };
  if (kind === "warm") {
    const chosen = /** @type {HTMLInputElement | null} */ (box.querySelector("[data-colleagues] input:checked"));
    if (!chosen) {
      part(box, "[data-transfer-status]").textContent = texts.choose_colleague;
      return;
    }
    frame.to = chosen.value;
    const note = /** @type {HTMLTextAreaElement} */ (part(box, "[data-note]")).value.trim();
    if (note) frame.note = note;
  }
  for (const button of box.querySelectorAll("button")) button.disabled = true;
  send(frame);
}

/**
 * @param {string} id
 * @param {HTMLElement} el
 * @param {{handover?: Handover} | undefined} data
 */
function bindPanel(id, el, data) {
  panels.set(id, el);
  const label = /** @type {HTMLLabelElement} */ (part(el, "[data-note-label]"));
  const note = part(el, "[data-note]");
  note.id = `${el.id}-note`;
  label.htmlFor = note.id;
  part(el, '[data-action="ask-transfer"]').setAttribute("aria-controls", `${el.id}-transfer`);
  transferBox(el).id = `${el.id}-transfer`;
  el.addEventListener("click", (event) => {
    const button = closestTarget(event, "[data-action]");
    if (!button) return;
    switch (button.dataset.action) {
      case "ask-transfer":
        if (transferBox(el).hidden) openTransfer(id, el);
        else closeTransfer(el, true);
        break;
      case "transfer-warm":
        transfer(id, el, "warm");
        break;
      case "transfer-cold":
        transfer(id, el, "cold");
        break;
      case "transfer-cancel":
        closeTransfer(el, true);
        break;
      default:
        break;
    }
  });
  if (data && data.handover) showHandover(el, data.handover);
}

/** @typedef {{from: string, note?: string | null}} Handover */

/**
 * A colleague handed this chat to me: their note at the top of the panel.
 * @param {HTMLElement} el
 * @param {Handover} handover
 */
function showHandover(el, handover) {
  const box = part(el, "[data-handover]");
  part(box, "[data-handover-title]").textContent = fill(texts.handover_from, {
    name: handover.from,
  });
  part(box, "[data-handover-body]").textContent = handover.note || texts.handover_empty;
  box.hidden = false;
}

document.addEventListener("console:panel", (event) => {
  const { id, el, data } = eventDetail(event);
  bindPanel(id, el, data);
});

document.addEventListener("console:ended", (event) => {
  const { el } = eventDetail(event);
  const box = /** @type {HTMLElement | null} */ (el.querySelector("[data-transfer]"));
  if (box) box.hidden = true;
  const toggle = /** @type {HTMLButtonElement | null} */ (el.querySelector('[data-action="ask-transfer"]'));
  if (toggle) toggle.disabled = true;
});

/** @param {string} id */
function resetTransferButtons(id) {
  const el = panels.get(id);
  if (!el) return;
  for (const button of transferBox(el).querySelectorAll("button")) button.disabled = false;
}

// --- Frames -----------------------------------------------------------------------------

document.addEventListener("console:frame", (event) => {
  const frame = /** @type {Frame} */ (eventDetail(event));
  switch (frame.type) {
    case "duty":
      showDuty(frame.duty);
      break;
    case "colleagues":
      showColleagues(frame.colleagues || []);
      break;
    case "transferred_away": {
      const name = nicknameOf(frame.conversation_id);
      closePanel(frame.conversation_id);
      panels.delete(frame.conversation_id);
      const text = frame.to
        ? fill(texts.transferred_to, { name, to: frame.to })
        : fill(texts.requeued, { name });
      queueNotice(text);
      say(text);
      break;
    }
    case "transferred_to_you":
      say(fill(texts.transferred_to_you, {
        from: frame.from,
        name: nicknameOf(frame.conversation_id),
      }));
      break;
    case "error":
      if (frame.conversation_id && ["colleague_unavailable", "not_allowed", "conversation_closed"].includes(frame.code)) {
        resetTransferButtons(frame.conversation_id);
        const el = panels.get(frame.conversation_id);
        if (el && !transferBox(el).hidden) {
          part(el, "[data-transfer-status]").textContent = frame.message || texts.error_generic;
          if (frame.code === "colleague_unavailable") send({ type: "colleagues" });
        }
      }
      break;
    default:
      break;
  }
});

// --- Keyboard shortcuts -----------------------------------------------------------------
// Alt+Shift+letter: not used by screen readers (NVDA/JAWS use Insert or Caps Lock,
// VoiceOver Control+Option) and not produced by typing. event.code keeps them working on
// any keyboard layout (and on a Mac, where Option+letter types a special character).

const shortcutList = $("shortcut-list");
const shortcutButton = $("shortcuts-button");

/** @param {boolean} [show]  toggles when not given */
function toggleShortcuts(show = /** @type {boolean} */ (shortcutList.hidden)) {
  shortcutList.hidden = !show;
  shortcutButton.setAttribute("aria-expanded", show ? "true" : "false");
}

shortcutButton.addEventListener("click", () => toggleShortcuts());

/** @type {Record<string, () => void>} keyed by KeyboardEvent.code */
const SHORTCUTS = {
  KeyN: takeNext,
  KeyK: () => switchChat(1),
  KeyJ: () => switchChat(-1),
  KeyS: () => {
    const id = currentChatId();
    if (id && isOpen(id)) {
      document.dispatchEvent(new CustomEvent("console:canned-open", { detail: { id } }));
    }
  },
  KeyE: () => {
    const id = currentChatId();
    if (id) askEnd(id);
  },
  KeyH: () => {
    toggleShortcuts();
    if (!shortcutList.hidden) $("shortcuts-title").focus();
  },
};

document.addEventListener("keydown", (event) => {
  if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey || event.isComposing) return;
  const action = SHORTCUTS[event.code];
  if (!action) return;
  event.preventDefault();
  action();
});

// --- Browser notifications (opt-in, asked only on the counsellor's click) ----------------

const NOTIFY_KEY = "clb-console-notify";
const notifyButton = $("notify-button");

function notifyWanted() {
  try {
    return localStorage.getItem(NOTIFY_KEY) === "on" && Notification.permission === "granted";
  } catch (_) {
    return false;
  }
}

function renderNotifyButton() {
  if (!("Notification" in window)) {
    notifyButton.hidden = true;
    return;
  }
  notifyButton.hidden = notifyWanted();
}

notifyButton.addEventListener("click", async () => {
  const status = $("notify-status");
  if (!("Notification" in window)) {
    status.textContent = texts.notify_unsupported;
    return;
  }
  const permission = await Notification.requestPermission();
  if (permission === "granted") {
    try {
      localStorage.setItem(NOTIFY_KEY, "on");
    } catch (_) {
      // Works for this visit only.
    }
    status.textContent = texts.notify_on;
  } else {
    status.textContent = texts.notify_denied;
  }
  renderNotifyButton();
});

document.addEventListener("console:attention", (event) => {
  if (!notifyWanted()) return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  try {
    const { text, kind } = eventDetail(event);
    const note = new Notification(texts.notify_title, {
      body: text,
      tag: `clb-${kind}`,
    });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  } catch (_) {
    // Some browsers only allow notifications from a service worker: the title still counts.
  }
});

renderNotifyButton();
