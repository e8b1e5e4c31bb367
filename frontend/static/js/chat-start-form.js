// @ts-check
// The visitor's start form: checked here first (an error summary that links to each
// field), then posted; the server's refusals (closed, queue full, invalid) are shown too.

import { all, byId as $, setChildren } from "./dom.js";
import { postConversation } from "./chat-api.js";
import { showClosed } from "./chat-opening.js";
import { form, save, state, texts } from "./chat-page.js";
import { show } from "./chat-screens.js";
import { enterConversation } from "./chat-session.js";

/** @typedef {import("./chat-api.js").ApiFailure} ApiFailure */
/** @typedef {{field?: string, message: string}} FieldError */

/** @type {Record<string, string>} */
const FIELD_ERRORS = {
  nickname: "error_nickname",
  who: "error_who",
  topic: "error_topic",
  language: "error_language",
  consent: "error_consent",
};

/** @param {string} field */
function fieldTarget(field) {
  return field === "who"
    ? /** @type {HTMLElement | null} */ (form.querySelector('input[name="who"]'))
    : document.getElementById(field);
}

export function clearErrors() {
  $("form-errors").hidden = true;
  setChildren($("form-error-list"), []);
  for (const node of all(form, ".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/**
 * A summary item that links to its field, and the message next to the field itself.
 * @param {HTMLLIElement} item
 * @param {string} field
 * @param {HTMLElement} target
 * @param {string} message
 */
function markField(item, field, target, message) {
  const link = document.createElement("a");
  link.href = `#${target.id}`;
  link.textContent = message;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    target.focus();
  });
  item.append(link);
  const inline = document.getElementById(`${field}-error`);
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
}

/** @param {FieldError[]} errors */
function showErrors(errors) {
  clearErrors();
  const list = $("form-error-list");
  for (const { field, message } of errors) {
    const item = document.createElement("li");
    const target = field ? fieldTarget(field) : null;
    if (field && target) markField(item, field, target, message);
    else item.textContent = message;
    list.append(item);
  }
  const summary = $("form-errors");
  summary.hidden = false;
  summary.focus();
}

function readForm() {
  const data = new FormData(form);
  /** @param {string} name */
  const value = (name) => String(data.get(name) || "").trim();
  const values = {
    nickname: value("nickname"),
    who: value("who"),
    age_band: value("age_band") || null,
    topic: value("topic"),
    language: value("language") || "nl",
    consent: /** @type {HTMLInputElement} */ ($("consent")).checked,
  };
  /** @type {FieldError[]} */
  const errors = [];
  if (!values.nickname) errors.push({ field: "nickname", message: texts.error_nickname });
  if (!values.who) errors.push({ field: "who", message: texts.error_who });
  if (!values.topic) errors.push({ field: "topic", message: texts.error_topic });
  if (!values.consent) errors.push({ field: "consent", message: texts.error_consent });
  return { values, errors };
}

/** @param {ApiFailure} error */
function showInvalid(error) {
  /** @type {{field?: unknown}[]} */
  const fields = (error.details && error.details.fields) || [];
  /** @type {FieldError[]} */
  const errors = [];
  for (const { field } of fields) {
    const name = String(field || "").split(".").pop() || "";
    const key = FIELD_ERRORS[name];
    if (key && !errors.some((e) => e.field === name)) {
      errors.push({ field: name, message: texts[key] });
    }
  }
  showErrors(errors.length ? errors : [{ message: error.message || texts.error_generic }]);
}

/** @param {ApiFailure | TypeError} error  a TypeError is fetch's "no network" */
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
    showInvalid(error);
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
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  button.disabled = true;
  try {
    const body = await postConversation(values);
    save({ conversationId: body.conversation_id, phase: "waiting", lastSeq: 0 });
    enterConversation(body.status === "active" ? "active" : "waiting");
  } catch (error) {
    handleStartError(/** @type {ApiFailure | TypeError} */ (error));
  } finally {
    state.starting = false;
    button.disabled = false;
  }
});
