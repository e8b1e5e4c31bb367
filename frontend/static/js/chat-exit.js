// @ts-check
// The quick exit tells the server on the way out, so the counsellor knows at once that the
// pupil left (or the queue lets them go). `keepalive` lets the request outlive the page;
// the values are read now, before quick-exit.js wipes the storage.

import { state } from "./chat-page.js";

export function tellServerWeLeft() {
  const { token, conversationId, phase } = state.store;
  if (!token || !conversationId || phase === "ended") return;
  try {
    void fetch(`/api/chat/conversations/${encodeURIComponent(conversationId)}/exit`, {
      method: "POST",
      keepalive: true,
      headers: { Authorization: `Bearer ${token}` },
    }).catch(() => undefined);
  } catch (_) {
    // Leaving quickly matters more than telling.
  }
}
