// @ts-check
// The console header's link to "Meldingen": how many are unread, asked now and every 30 s
// while the page is visible, so an open console sees a new booking without reloading.

const PERIOD_MS = 30_000;
const count = document.querySelector("[data-notification-count]");

/** @param {number} unread */
function show(unread) {
  if (!(count instanceof HTMLElement)) return;
  const template = count.dataset.template || "{count}";
  const number = count.querySelector("[data-notification-number]");
  if (number) number.textContent = template.replace("{count}", String(unread));
  count.hidden = unread === 0;
}

async function refresh() {
  if (document.visibilityState === "hidden") return;
  try {
    const response = await fetch("/console/meldingen/aantal", {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) return;
    const body = await response.json();
    if (typeof body.unread === "number") show(body.unread);
  } catch (_) {
    // Offline for a moment: the next round tries again.
  }
}

if (count) {
  refresh();
  window.setInterval(refresh, PERIOD_MS);
  document.addEventListener("visibilitychange", refresh);
}
