// @ts-check
// Opening hours on the visitor's page: closed (when it opens again and the weekly hours),
// or open with the form (and until when).

import { setChildren, byId as $ } from "./dom.js";
import { brusselsDay, hhmm, timeText, weekdayName, whenText } from "./chat-dates.js";
import { texts } from "./chat-page.js";
import { show } from "./chat-screens.js";
import { fill } from "./page-texts.js";

/**
 * GET /api/chat/opening-hours.
 * @typedef {object} OpeningHours
 * @property {boolean} [open]
 * @property {boolean} [intake_open]
 * @property {string | null} [next_opening]
 * @property {string | null} [closes_at]
 * @property {string | null} [intake_closes_at]
 * @property {{date: string, note: string}[]} [exceptions]
 * @property {{weekday: number, opens_at: string, closes_at: string}[]} [weekly]
 */

/** @returns {Promise<OpeningHours | null>} */
export async function fetchHours() {
  try {
    const response = await fetch("/api/chat/opening-hours", {
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    return response.ok ? await response.json() : null;
  } catch (_) {
    return null;
  }
}

/** @param {OpeningHours | null} hours */
function showWeekly(hours) {
  const weekly = (hours && hours.weekly) || [];
  const periods = [...weekly].sort(
    (a, b) => a.weekday - b.weekday || String(a.opens_at).localeCompare(b.opens_at),
  );
  setChildren(
    $("closed-weekly"),
    periods.map((period) => {
      const li = document.createElement("li");
      li.textContent = fill(texts.period, {
        day: weekdayName(period.weekday),
        from: hhmm(period.opens_at),
        to: hhmm(period.closes_at),
      });
      return li;
    }),
  );
  $("closed-hours").hidden = weekly.length === 0;
}

/**
 * @param {OpeningHours | null} hours
 * @param {boolean} focus
 */
export function showClosed(hours, focus) {
  const next = $("closed-next");
  const when = hours && hours.next_opening ? whenText(hours.next_opening) : "";
  next.textContent = when ? fill(texts.next_opening, { when }) : next.dataset.whenUnknown ?? null;
  $("closed-intake").hidden = !(hours && hours.open && !hours.intake_open);

  const today = brusselsDay(new Date());
  const note = $("closed-note");
  const exception = ((hours && hours.exceptions) || []).find(
    (item) => item.date === today && item.note,
  );
  note.textContent = exception ? exception.note : "";
  note.hidden = !exception;

  showWeekly(hours);
  show("closed", { focus });
}

/**
 * @param {OpeningHours | null} hours
 * @param {boolean} focus
 */
export function showForm(hours, focus) {
  const until = hours && (hours.intake_closes_at || hours.closes_at);
  const line = $("open-until");
  line.textContent = until ? fill(texts.open_until, { time: timeText(new Date(until)) }) : "";
  line.hidden = !until;
  show("form", { focus });
}
