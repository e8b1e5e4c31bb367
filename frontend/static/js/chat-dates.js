// @ts-check
// Dates and times on the visitor's page: always in Brussels time (where the CLB is, not
// where the phone thinks it is), in the page's language.

import { dutch, intlLang, texts } from "./chat-page.js";
import { fill } from "./page-texts.js";

const ZONE = "Europe/Brussels";

/**
 * The calendar day in Brussels, as YYYY-MM-DD.
 * @param {Date} date
 */
export function brusselsDay(date) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(date);
}

/** @param {string} isoDay */
function dayAfter(isoDay) {
  const [y, m, d] = isoDay.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * @param {string} hours
 * @param {string} minutes
 */
function clock(hours, minutes) {
  return dutch ? `${hours}.${minutes}` : `${hours}:${minutes}`;
}

/** @param {Date} date */
function clockOf(date) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  /** @param {string} type */
  const part = (type) => (parts.find((p) => p.type === type) || { value: "00" }).value;
  return clock(part("hour"), part("minute"));
}

/** @param {Date} date */
export function timeText(date) {
  return fill(texts.time_suffix, { time: clockOf(date) });
}

/**
 * "today at 14.00", "tomorrow at …" or "on Monday 3 March at …".
 * @param {string} iso
 */
export function whenText(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = brusselsDay(new Date());
  const day = brusselsDay(date);
  if (day === today) return fill(texts.when_today, { time: timeText(date) });
  if (day === dayAfter(today)) return fill(texts.when_tomorrow, { time: timeText(date) });
  const dayName = new Intl.DateTimeFormat(intlLang, {
    timeZone: ZONE,
    weekday: "long",
    day: "numeric",
    month: "long",
  }).format(date);
  return fill(texts.when_day, { day: dayName, time: timeText(date) });
}

/** @param {number | string} weekday  0 is Monday */
export function weekdayName(weekday) {
  // 1 January 2024 was a Monday.
  const date = new Date(Date.UTC(2024, 0, 1 + Number(weekday), 12));
  return new Intl.DateTimeFormat(intlLang, { timeZone: "UTC", weekday: "long" }).format(date);
}

/** @param {unknown} value  "HH:MM[:SS]" */
export function hhmm(value) {
  const [h, m] = String(value || "").split(":");
  return clock((h || "00").padStart(2, "0"), (m || "00").padStart(2, "0"));
}
