// The outcome form shown in a chat panel once the chat has ended: topics grouped by the
// four CLB domains, referrals and an optional short summary for a handover. Saved (and
// changed later) with PUT; errors appear next to their field.

import { api, el, fill, texts, uid } from "./console-tools-api.js";

let options = null;

function loadOptions() {
  if (!options) {
    options = api("GET", "/api/console/outcome-options").catch((error) => {
      options = null;
      throw error;
    });
  }
  return options;
}

function timeNow(iso) {
  const date = iso ? new Date(iso) : new Date();
  return new Intl.DateTimeFormat(document.documentElement.lang || "nl-BE", {
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

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

function fieldError(id) {
  return el("p", { className: "field-error", id, hidden: true });
}

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

export async function showOutcomeForm(conversationId, slot) {
  if (!slot || slot.querySelector(".outcome-form")) return;
  let data;
  try {
    data = await loadOptions();
  } catch (error) {
    slot.append(el("p", { className: "field-error" }, error.message));
    return;
  }
  const key = uid("outcome");
  const form = el("form", { className: "outcome-form", novalidate: true, "aria-labelledby": `${key}-title` });
  form.append(el("h4", { id: `${key}-title` }, texts.outcome_title));
  const codeNote = el("p", { className: "outcome-code", hidden: true }, texts.outcome_has_code);
  form.append(codeNote);

  const topics = el("fieldset", { className: "outcome-topics" });
  const topicsHint = el("p", { className: "hint", id: `${key}-topics-hint` }, texts.outcome_topics_hint);
  const topicsError = fieldError(`${key}-topics-error`);
  topics.setAttribute("aria-describedby", topicsHint.id);
  topics.append(el("legend", {}, texts.outcome_topics), topicsHint, topicsError);
  for (const domain of data.domains || []) {
    const group = el("fieldset", { className: "outcome-domain" });
    group.append(el("legend", {}, domain.label), ...checkboxes("topics", domain.topics, `${key}-t`));
    topics.append(group);
  }

  const referrals = el("fieldset", { className: "outcome-referrals" });
  const referralsError = fieldError(`${key}-referrals-error`);
  referrals.append(
    el("legend", {}, texts.outcome_referrals),
    referralsError,
    ...checkboxes("referrals", data.referrals || [], `${key}-r`),
  );

  const summaryId = `${key}-summary`;
  const summaryField = el("div", { className: "field" });
  const summary = el("textarea", {
    id: summaryId,
    name: "summary",
    rows: "3",
    maxlength: String(data.summary_max || 1000),
    "aria-describedby": `${summaryId}-hint`,
  });
  const summaryError = fieldError(`${summaryId}-error`);
  summaryField.append(
    el("label", { for: summaryId }, texts.outcome_summary),
    el("p", { className: "hint", id: `${summaryId}-hint` }, texts.outcome_summary_hint),
    summaryError,
    summary,
  );
  const save = el("button", { type: "submit", className: "button small-button" }, texts.outcome_save);
  const status = el("p", { className: "outcome-status", role: "status" });
  form.append(topics, referrals, summaryField, save, status);
  slot.append(form);

  const url = `/api/console/conversations/${encodeURIComponent(conversationId)}/outcome`;
  const fill_in = (outcome) => {
    for (const input of form.querySelectorAll('input[name="topics"]')) {
      input.checked = (outcome.topics || []).includes(input.value);
    }
    for (const input of form.querySelectorAll('input[name="referrals"]')) {
      input.checked = (outcome.referrals || []).includes(input.value);
    }
    summary.value = outcome.summary || "";
    codeNote.hidden = !outcome.has_handover_code;
  };
  api("GET", url)
    .then((outcome) => {
      // Keep whatever the counsellor already ticked while this was loading.
      if (outcome && outcome.recorded_at && !form.querySelector("input:checked")) fill_in(outcome);
      else if (outcome) codeNote.hidden = !outcome.has_handover_code;
    })
    .catch(() => {});

  const errors = [
    [topicsError, topics, "topics"],
    [referralsError, referrals, "referrals"],
    [summaryError, summary, "summary"],
  ];
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = (name) =>
      Array.from(form.querySelectorAll(`input[name="${name}"]:checked`), (input) => input.value);
    const body = { topics: chosen("topics"), referrals: chosen("referrals"), summary: summary.value };
    for (const [node, group] of errors) showError(node, group, "");
    status.textContent = "";
    if (!body.topics.length) {
      showError(topicsError, topics, texts.outcome_topics_hint);
      status.textContent = texts.outcome_failed;
      topics.querySelector("input").focus();
      return;
    }
    save.disabled = true;
    try {
      const saved = await api("PUT", url, body);
      codeNote.hidden = !saved.has_handover_code;
      status.textContent = fill(texts.outcome_saved, { time: timeNow(saved.recorded_at) });
    } catch (error) {
      let first = null;
      for (const [node, group, name] of errors) {
        if (error.fields && error.fields[name]) {
          showError(node, group, error.fields[name]);
          first = first || group;
        }
      }
      status.textContent = first ? texts.outcome_failed : error.message;
      if (first) (first.matches("textarea") ? first : first.querySelector("input")).focus();
    } finally {
      save.disabled = false;
    }
  });
}
