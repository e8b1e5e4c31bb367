// @ts-check
// Chat by appointment: the server made a visitor identity for this browser and put it in
// this page (never in a URL). Store it where the chat page looks (sessionStorage, the same
// shape chat.js keeps) and continue there; replace() keeps this page out of the history.
const STORE_KEY = "clb-chat";
const holder = document.getElementById("chat-handoff");
if (holder && holder.dataset.token) {
  try {
    sessionStorage.setItem(
      STORE_KEY,
      JSON.stringify({
        token: holder.dataset.token,
        conversationId: holder.dataset.conversation,
        counsellor: holder.dataset.counsellor,
        phase: "active",
        lastSeq: 0,
      }),
    );
    window.location.replace("/chat");
  } catch (_) {
    // Storage is off (private mode on some phones): nothing to hand over; say so.
    /** @type {HTMLElement} */ (document.getElementById("chat-handoff-failed")).hidden = false;
  }
}
