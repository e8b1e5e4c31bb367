// @ts-check
// The page's language: the translated texts its template rendered for the scripts, and
// clock times written the way that language writes them.

/**
 * One page's translated texts. The template decides the keys and their nesting (some are
 * maps, such as topic labels), so the values stay loosely typed.
 * @typedef {Record<string, any>} Texts
 */

/**
 * Fill in {name} placeholders in a translated text.
 * @param {unknown} template
 * @param {Record<string, unknown>} [values]
 * @returns {string}
 */
export function fill(template, values = {}) {
  return String(template).replace(/\{(\w+)\}/g, (whole, key) =>
    Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole,
  );
}

/**
 * The translated texts the page put in a JSON data block (no inline script runs).
 * @param {string} id
 * @returns {Texts}
 */
export function readTexts(id) {
  const node = document.getElementById(id);
  if (!node) return {};
  try {
    return JSON.parse(node.textContent || "{}");
  } catch (_) {
    return {};
  }
}

export function pageLanguage() {
  return document.documentElement.lang || "nl-BE";
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const TIME_FORMATS = new Map();

/**
 * "14:05" (or "14.05") in the page's language; now when there is no time.
 * @param {string | null | undefined} iso
 */
export function clockTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return "";
  const lang = pageLanguage();
  let format = TIME_FORMATS.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
    TIME_FORMATS.set(lang, format);
  }
  return format.format(date);
}
