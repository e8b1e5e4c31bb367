// @ts-check
// The page in front of a video room that is not open yet: when the room opens, load the
// page again, which then leads into the room. Without JavaScript the page says to come back.
const waiting = /** @type {HTMLElement | null} */ (document.querySelector("[data-reload-in]"));
// Browsers fire a timer late, never early; a day is far beyond any wait this page shows.
const DAY_SECONDS = 24 * 60 * 60;

if (waiting) {
  const seconds = Number(waiting.dataset.reloadIn);
  if (Number.isFinite(seconds) && seconds >= 0 && seconds < DAY_SECONDS) {
    for (const note of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-reload-note]"))) {
      note.hidden = false;
    }
    // A second's margin, so the server also sees the room open.
    window.setTimeout(() => window.location.reload(), (seconds + 1) * 1000);
  }
}
