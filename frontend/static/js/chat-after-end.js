// @ts-check
// After the chat on the visitor's page: a rating, the transcript as a download, and
// "Klaar", which wipes everything the page kept.

import { all, byId as $ } from "./dom.js";
import { apiError, bearer } from "./chat-api.js";
import { form, ratingForm, state, texts } from "./chat-page.js";
import { show } from "./chat-screens.js";
import { wipeConversation } from "./chat-status.js";

/** @param {boolean} disabled */
function setRatingDisabled(disabled) {
  for (const field of ratingForm.querySelectorAll("input, textarea, button")) {
    /** @type {HTMLInputElement} */ (field).disabled = disabled;
  }
}

function chosenStars() {
  return /** @type {HTMLInputElement | null} */ (ratingForm.querySelector('input[name="stars"]:checked'));
}

async function sendRating() {
  const status = $("rating-status");
  const error = $("rating-error");
  const checked = chosenStars();
  error.hidden = true;
  if (!checked) {
    error.textContent = texts.error_rating;
    error.hidden = false;
    /** @type {HTMLInputElement} */ (ratingForm.querySelector('input[name="stars"]')).focus();
    return;
  }
  const comment = /** @type {HTMLTextAreaElement} */ ($("rating-comment")).value.trim();
  const button = /** @type {HTMLButtonElement} */ (ratingForm.querySelector('button[type="submit"]'));
  button.disabled = true;
  try {
    const response = await fetch(
      `/api/chat/conversations/${encodeURIComponent(String(state.store.conversationId))}/rating`,
      {
        method: "POST",
        headers: { ...bearer(), "Content-Type": "application/json" },
        body: JSON.stringify({ stars: Number(checked.value), comment: comment || null }),
      },
    );
    if (!response.ok) throw await apiError(response);
    status.textContent = texts.rating_thanks;
    setRatingDisabled(true);
  } catch (failure) {
    button.disabled = false;
    status.textContent =
      failure instanceof TypeError
        ? texts.error_network
        : /** @type {{message?: string}} */ (failure).message || texts.error_generic;
  }
}

/** @param {Response} response */
function fileName(response) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(header);
  return match ? match[1] : texts.download_name;
}

/** The transcript as a file, fetched with the visitor's token (never in a URL). */
export async function download() {
  const status = $("download-status");
  status.textContent = "";
  try {
    const response = await fetch(
      `/api/chat/conversations/${encodeURIComponent(String(state.store.conversationId))}/transcript`,
      { headers: { Authorization: `Bearer ${state.store.token}` }, cache: "no-store" },
    );
    if (!response.ok) throw await apiError(response);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName(response);
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    status.textContent = texts.download_done;
  } catch (_) {
    status.textContent = texts.download_failed;
  }
}

export function finish() {
  wipeConversation();
  form.reset();
  ratingForm.reset();
  setRatingDisabled(false);
  for (const label of ratingForm.querySelectorAll(".star-label")) label.classList.remove("is-on");
  $("rating-status").textContent = "";
  $("download-status").textContent = "";
  show("done");
}

ratingForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sendRating();
});

ratingForm.addEventListener("change", () => {
  const checked = chosenStars();
  const chosen = checked ? Number(checked.value) : 0;
  for (const label of all(ratingForm, ".star-label")) {
    label.classList.toggle("is-on", Number(label.dataset.star) <= chosen);
  }
  if (checked) $("rating-error").hidden = true;
});
