// @ts-check
// The outcome form shown in a chat panel once the chat has ended: topics grouped by the
// four CLB domains, referrals and an optional short summary for a handover. Saved (and
// changed later) with PUT; errors appear next to their field.

import { api, el, fill, texts, uid } from "./console-tools-api.js";

/** @typedef {import("./console-tools-api.js").ApiError} ApiError */

/**
 * GET /api/console/outcome-options.
 * @typedef {{code: string, label: string}} Option
 * @typedef {object} OutcomeOptions
 * @property {{label: string, topics: Option[]}[]} [domains]
 * @property {Option[]} [referrals]
 * @property {number} [summary_max]
 */

/**
 * A recorded outcome (GET or PUT …/outcome).
 * @typedef {object} Outcome
 * @property {string[]} [topics]
 * @property {string[]} [referrals]
 * @property {string | null} [summary]
 * @property {boolean} [has_handover_code]
 * @property {string | null} [recorded_at]
 */

/**
 * One part of the form that can show an error: the message node, the element it
 * describes, and the field name the API uses for it.
 * @typedef {[HTMLElement, HTMLElement, string]} ErrorSlot
 */

/** @type {Promise<OutcomeOptions> | null} */
let options = null;

function loadOptions() {
  if (!options) {
    options = api("GET", "/api/console/outcome-options").catch((error) => {
      options = null;
      throw error;
    });
  }
  return /** @type {Promise<OutcomeOptions>} */ (options);
}

/** @param {string | null | undefined} iso */
function timeNow(iso) {
  const date = iso ? new Date(iso) : new Date();
  return new Intl.DateTimeFormat(document.documentElement.lang || "nl-BE", {
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

/**
 * @param {string} name
 * @param {Option[]} items
 * @param {string} prefix  for the ids
 */
function checkboxes(name, items, prefix) {
  return items.map((item) => {
    const id = `${prefix}-${item.code}`;
    const box = el("div", { className: "choice" });
    box.append(
      el("input", { type: "checkbox", id, name, value: item.code }),
      el("label", { for: id }, item.label),
    );
    return box;
  });
}

/** @param {string} id */
function fieldError(id) {
  return el("p", { className: "field-error", id, hidden: true });
}

/**
 * @param {HTMLElement} node  the error message
 * @param {HTMLElement} group  the fieldset or field it is about
 * @param {string} message  "" clears it
 */
function showError(node, group, message) {
  node.textContent = message || "";
  node.hidden = !message;
  const describedBy = (group.getAttribute("aria-describedby") || "").split(" ").filter(
    (token) => token && token !== node.id,
  );
  if (message) describedBy.push(node.id);
  if (describedBy.length) group.setAttribute("aria-describedby", describedBy.join(" "));
  else group.removeAttribute("aria-describedby");
  if (group.matches("textarea, input")) {
    if (message) group.setAttribute("aria-invalid", "true");
    else group.removeAttribute("aria-invalid");
  }
}

/**
 * @param {string} key
 * @param {OutcomeOptions} data
 */
function topicsPart(key, data) {
  const topics = el("fieldset", { className: "outcome-topics" });
  const topicsHint = el("p", { className: "hint", id: `${key}-topics-hint` }, texts.outcome_topics_hint);
  const error = fieldError(`${key}-topics-error`);
  topics.setAttribute("aria-describedby", topicsHint.id);
  topics.append(el("legend", {}, texts.outcome_topics), topicsHint, error);
  for (const domain of data.domains || []) {
    const group = el("fieldset", { className: "outcome-domain" });
    group.append(el("legend", {}, domain.label), ...checkboxes("topics", domain.topics, `${key}-t`));
    topics.append(group);
  }
  return { topics, error };
}

/**
 * @param {string} key
 * @param {OutcomeOptions} data
 */
function referralsPart(key, data) {
  const referrals = el("fieldset", { className: "outcome-referrals" });
  const error = fieldError(`${key}-referrals-error`);
  referrals.append(
    el("legend", {}, texts.outcome_referrals),
    error,
    ...checkboxes("referrals", data.referrals || [], `${key}-r`),
  );
  return { referrals, error };
}

/**
 * @param {string} key
 * @param {OutcomeOptions} data
 */
function summaryPart(key, data) {
  const summaryId = `${key}-summary`;
  const field = el("div", { className: "field" });
  const summary = el("textarea", {
    id: summaryId,
    name: "summary",
    rows: "3",
    maxlength: String(data.summary_max || 1000),
    "aria-describedby": `${summaryId}-hint`,
  });
  const error = fieldError(`${summaryId}-error`);
  field.append(
    el("label", { for: summaryId }, texts.outcome_summary),
    el("p", { className: "hint", id: `${summaryId}-hint` }, texts.outcome_summary_hint),
    error,
    summary,
  );
  return { field, summary, error };
}

/**
 * Load what was recorded before; keep whatever the counsellor already ticked meanwhile.
 * @param {string} url
 * @param {HTMLFormElement} form
 * @param {HTMLTextAreaElement} summary
 * @param {HTMLElement} codeNote
 */
function loadRecorded(url, form, summary, codeNote) {
  /** @param {Outcome} outcome */
  const fillIn = (outcome) => {
    for (const input of form.querySelectorAll('input[name="topics"]')) {
      const box = /** @type {HTMLInputElement} */ (input);
      box.checked = (outcome.topics || []).includes(box.value);
    }
    for (const input of form.querySelectorAll('input[name="referrals"]')) {
      const box = /** @type {HTMLInputElement} */ (input);
      box.checked = (outcome.referrals || []).includes(box.value);
    }
    summary.value = outcome.summary || "";
    codeNote.hidden = !outcome.has_handover_code;
  };
  api("GET", url)
    .then((/** @type {Outcome | null} */ outcome) => {
      if (outcome && outcome.recorded_at && !form.querySelector("input:checked")) fillIn(outcome);
      else if (outcome) codeNote.hidden = !outcome.has_handover_code;
    })
    .catch(() => {});
}

/**
 * The form's parts that saving reads and writes.
 * @typedef {object} FormParts
 * @property {HTMLFormElement} form
 * @property {HTMLElement} topics
 * @property {HTMLElement} topicsError
 * @property {HTMLTextAreaElement} summary
 * @property {HTMLElement} codeNote
 * @property {HTMLButtonElement} save
 * @property {HTMLElement} status
 * @property {ErrorSlot[]} errors
 */

/**
 * @param {string} url
 * @param {FormParts} parts
 */
function bindSave(url, { form, topics, topicsError, summary, codeNote, save, status, errors }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    /** @param {string} name */
    const chosen = (name) =>
      Array.from(form.querySelectorAll(`input[name="${name}"]:checked`), (input) => /** @type {HTMLInputElement} */ (input).value);
    const body = { topics: chosen("topics"), referrals: chosen("referrals"), summary: summary.value };
    for (const [node, group] of errors) showError(node, group, "");
    status.textContent = "";
    if (!body.topics.length) {
      showError(topicsError, topics, texts.outcome_topics_hint);
      status.textContent = texts.outcome_failed;
      /** @type {HTMLInputElement} */ (topics.querySelector("input")).focus();
      return;
    }
    save.disabled = true;
    try {
      /** @type {Outcome} */
      const saved = await api("PUT", url, body);
      codeNote.hidden = !saved.has_handover_code;
      status.textContent = fill(texts.outcome_saved, { time: timeNow(saved.recorded_at) });
    } catch (error) {
      showSaveError(/** @type {ApiError} */ (error), errors, status);
    } finally {
      save.disabled = false;
    }
  });
}

/**
 * Errors next to their fields and the focus on the first; else the message in the status.
 * @param {ApiError} error
 * @param {ErrorSlot[]} errors
 * @param {HTMLElement} status
 */
function showSaveError(error, errors, status) {
  /** @type {HTMLElement | null} */
  let first = null;
  for (const [node, group, name] of errors) {
    if (error.fields && error.fields[name]) {
      showError(node, group, error.fields[name]);
      first = first || group;
    }
  }
  status.textContent = first ? texts.outcome_failed : error.message;
  if (first) /** @type {HTMLElement} */ (first.matches("textarea") ? first : first.querySelector("input")).focus();
}

/**
 * Put the outcome form in a panel's slot (once), filled with what was recorded before.
 * @param {string} conversationId
 * @param {HTMLElement | null} slot
 */
export async function showOutcomeForm(conversationId, slot) {
  if (!slot || slot.querySelector(".outcome-form")) return;
  let data;
  try {
    data = await loadOptions();
  } catch (error) {
    slot.append(el("p", { className: "field-error" }, /** @type {Error} */ (error).message));
    return;
  }
  const key = uid("outcome");
  const form = el("form", { className: "outcome-form", novalidate: true, "aria-labelledby": `${key}-title` });
  form.append(el("h4", { id: `${key}-title` }, texts.outcome_title));
  const codeNote = el("p", { className: "outcome-code", hidden: true }, texts.outcome_has_code);
  form.append(codeNote);
  const { topics, error: topicsError } = topicsPart(key, data);
  const { referrals, error: referralsError } = referralsPart(key, data);
  const { field: summaryField, summary, error: summaryError } = summaryPart(key, data);
  const save = el("button", { type: "submit", className: "button small-button" }, texts.outcome_save);
  const status = el("p", { className: "outcome-status", role: "status" });
  form.append(topics, referrals, summaryField, save, status);
  slot.append(form);

  const url = `/api/console/conversations/${encodeURIComponent(conversationId)}/outcome`;
  loadRecorded(url, form, summary, codeNote);
  /** @type {ErrorSlot[]} */
  const errors = [
    [topicsError, topics, "topics"],
    [referralsError, referrals, "referrals"],
    [summaryError, summary, "summary"],
  ];
  bindSave(url, { form, topics, topicsError, summary, codeNote, save, status, errors });
}
