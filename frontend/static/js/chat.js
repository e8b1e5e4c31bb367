// @ts-check
// The visitor's chat page: opening hours -> form -> queue -> chat -> rating -> done.
// One screen is shown at a time. Only sessionStorage holds anything (the visitor token,
// the conversation id, how far the page got); "Klaar" and the quick exit wipe it.
// The parts: chat-page.js (texts, elements, state, storage), chat-screens.js,
// chat-opening.js, chat-start-form.js, chat-session.js (the socket and its frames),
// chat-status.js, chat-messages.js and chat-after-end.js.

import { closestTarget } from "./dom.js";
import { download, finish } from "./chat-after-end.js";
import { fetchHours, showClosed, showForm } from "./chat-opening.js";
import { app, form, readStore, state } from "./chat-page.js";
import { closeConfirm, leaveConversation, openConfirm, show } from "./chat-screens.js";
import { tellServerWeLeft } from "./chat-exit.js";
import { resume } from "./chat-session.js";
import { clearErrors } from "./chat-start-form.js";
import { wipeConversation } from "./chat-status.js";

// The quick exit (quick-exit.js) clears sessionStorage; make sure nothing writes it again.
function leavingNow() {
  if (!state.exiting) tellServerWeLeft();
  state.exiting = true;
  if (state.socket) state.socket.stop();
}
document.addEventListener(
  "click",
  (event) => {
    if (event.target instanceof Element && event.target.closest("[data-quick-exit]")) leavingNow();
  },
  true,
);
document.addEventListener(
  "keydown",
  (event) => {
    if (event.key === "Escape" && !event.isComposing) leavingNow();
  },
  true,
);

/** @param {boolean} focus */
async function begin(focus) {
  state.store = readStore();
  if (state.store.conversationId) {
    resume();
    return;
  }
  show("loading", { focus: false });
  const hours = await fetchHours();
  state.hours = hours;
  if (hours && (!hours.open || !hours.intake_open)) showClosed(hours, focus);
  else showForm(hours, focus);
}

async function restart() {
  wipeConversation();
  form.reset();
  clearErrors();
  await begin(true);
}

app.addEventListener("click", (event) => {
  const button = closestTarget(event, "[data-action]");
  if (!button) return;
  const box = /** @type {HTMLElement} */ (button.closest(".confirm-box"));
  switch (button.dataset.action) {
    case "ask-leave":
    case "ask-end":
      openConfirm(box);
      break;
    case "cancel-confirm":
      closeConfirm(box);
      break;
    case "leave":
    case "end":
      leaveConversation(box);
      break;
    case "to-rating":
      show("ended");
      break;
    case "download":
      download();
      break;
    case "done":
      finish();
      break;
    case "restart":
    case "retry":
      restart();
      break;
    default:
      break;
  }
});

// Coming back through the back-forward cache: show what sessionStorage says, nothing more.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && !readStore().conversationId && state.screen !== "form") {
    wipeConversation();
    begin(false);
  }
});

begin(false);
