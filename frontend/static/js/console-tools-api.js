// @ts-check
// Shared by the counsellor tools (console-tools.js, console-canned.js, console-outcome.js):
// the page's texts and CSRF token, a small JSON client and a DOM helper.

import { fill, readTexts } from "./page-texts.js";

const data = readTexts("console-tools-data");
/** @type {import("./page-texts.js").Texts} */
export const texts = data.texts || {};
const csrf = data.csrf || "";

export class ApiError extends Error {
  /**
   * @param {number} status  0 when the request did not get through
   * @param {any} body  the parsed JSON body, if any
   */
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || texts.error_generic || "");
    this.status = status;
    /** @type {string} */
    this.code = error.code || "";
    /** @type {Record<string, string>} field name -> message */
    this.fields = (error.details && error.details.fields) || {};
  }
}

/**
 * JSON over fetch with the CSRF header; throws ApiError with the server's Dutch message.
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @returns {Promise<any>}  the parsed JSON (its shape is the endpoint's)
 */
export async function api(method, url, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw new ApiError(0, null);
  }
  /** @type {any} */
  let parsed;
  try {
    parsed = await response.json();
  } catch (_) {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401) error.message = texts.signed_out || error.message;
    throw error;
  }
  return parsed;
}

/**
 * An element with attributes (and text, only ever as textContent).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs]  false, null and undefined leave an attribute out
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "className") node.className = String(value);
    else if (name === "hidden") node.hidden = Boolean(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

const TIME = new Intl.DateTimeFormat(document.documentElement.lang || "nl-BE", {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

/** @param {string} iso */
export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : TIME.format(date);
}

let counter = 0;
/**
 * A page-unique id for elements that labels and ARIA attributes point at.
 * @param {string} prefix
 */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

export { fill };
